"""One OpenTelemetry span per SQL statement, from the statements that
`app/db/tortoise_ext/instrumentation.py` reports (both engines, the same way as for the metrics).

A statement is reported once it has run, with its start and duration, in the task that
sent it: its span is made then, with those times, as a child of the span current there
(the request's). Only inside a recorded span: the health probes left out of tracing, the
replica watch and the start-up queries make no root traces of their own. The span keeps
the SQL text with its placeholders, never the values (password hashes, e-mail addresses),
and a failure by its exception's type only (a driver's message can quote a value).

The observer is registered while a traced app runs (`start`, from its lifespan) and
removed when the last one stops (`stop`): an app without tracing, a test's included, has
no tracing observer at all.
"""

import re
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from tortoise import connections

from app.db.tortoise_ext.instrumentation import QUERY_OBSERVERS, Statement

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([A-Za-z_][\w.]*)', re.IGNORECASE)
_SYSTEMS = {"postgres": "postgresql", "sqlite": "sqlite"}  # Tortoise's dialect: OTel's name
_tracers: list[Tracer] = []  # one per running traced app; the latest started makes the spans


def start(tracer: Tracer) -> None:
    """Span every statement with `tracer` (the observer registered once)."""
    _tracers.append(tracer)
    if span_statement not in QUERY_OBSERVERS:
        QUERY_OBSERVERS.append(span_statement)


def stop(tracer: Tracer) -> None:
    """No observer left once no traced app runs any more."""
    _tracers.remove(tracer)
    if not _tracers and span_statement in QUERY_OBSERVERS:
        QUERY_OBSERVERS.remove(span_statement)


def installed() -> bool:
    return span_statement in QUERY_OBSERVERS


def span_statement(statement: Statement) -> None:
    """A `QUERY_OBSERVERS` entry: the statement's client span, ended at once."""
    if not _tracers or not trace.get_current_span().is_recording():
        return
    operation = statement.operation
    attributes = {
        **_server(statement.connection),
        "db.statement": statement.sql,
        "db.operation": operation,
    }
    name = operation
    if table := _TABLE.search(statement.sql):
        attributes["db.sql.table"] = table[1]
        name = f"{operation} {table[1]}"
    span = _tracers[-1].start_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, start_time=statement.started_ns
    )
    if statement.error is not None:
        span.set_attribute("error.type", statement.error)
        span.set_status(StatusCode.ERROR)
    span.end(end_time=statement.started_ns + int(statement.seconds * 1e9))


def _server(connection_name: str) -> dict[str, Any]:
    """`db.system`, and on PostgreSQL the database and server: with replicas, where a read
    went. A transaction's client keeps them on the client it was opened from."""
    client: Any = connections.get(connection_name)
    system = _SYSTEMS.get(client.capabilities.dialect, client.capabilities.dialect)
    if system != "postgresql":
        return {"db.system": system}
    while not hasattr(client, "database") and hasattr(client, "_parent"):
        client = client._parent
    if not hasattr(client, "database"):
        return {"db.system": system}
    where = {"db.name": client.database, "net.peer.name": client.host, "net.peer.port": client.port}
    return {"db.system": system, **{key: value for key, value in where.items() if value}}
