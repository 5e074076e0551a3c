"""One OpenTelemetry span per SQL statement, at Tortoise's client level (both engines).

Tortoise hands every statement to its client's `execute_*` methods as SQL with
placeholders (`$1` on PostgreSQL, `?` on SQLite) and the values beside it. Wrapping those
methods gives the same spans on PostgreSQL and SQLite (asyncpg's own instrumentation would
cover PostgreSQL only, and aiosqlite runs sqlite3 in a thread the request's trace context
does not reach). The span keeps the SQL text, never the values: they include password
hashes and e-mail addresses.

The wrappers are installed while a traced app runs (`start`, from its lifespan) and the
original methods put back when the last one stops (`stop`): an app without tracing, a
test's included, runs Tortoise's methods untouched. A statement is spanned only inside a
recorded span (a request's): the health probes left out of tracing, the replica watch and
the start-up queries make no root traces of their own.
"""

import functools
import re
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer

# Each method sends one statement (execute_many: one statement, many rows of values).
STATEMENT_METHODS = (
    "execute_query",
    "execute_query_dict",
    "execute_insert",
    "execute_many",
    "execute_script",
)
# A transaction's own statements. On PostgreSQL a nested transaction's SAVEPOINT and
# RELEASE go through these too (as BEGIN and COMMIT); SQLite's savepoints are not spanned.
TRANSACTION_METHODS = ("begin", "commit", "rollback")
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([A-Za-z_][\w.]*)', re.IGNORECASE)

Method = Callable[..., Coroutine[Any, Any, Any]]
_tracers: list[Tracer] = []  # one per running traced app; the latest started makes the spans
_originals: dict[tuple[type, str], Method] = {}


def _client_classes() -> dict[type, str]:
    """The classes that define the methods (subclasses, the app's included, inherit the
    wrapped ones), with their `db.system`."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    return {
        AsyncpgDBClient: "postgresql",
        TransactionWrapper: "postgresql",
        SqliteClient: "sqlite",
        SqliteTransactionWrapper: "sqlite",
    }


def start(tracer: Tracer) -> None:
    """Span every statement with `tracer` (installed by the first running traced app)."""
    _tracers.append(tracer)
    if len(_tracers) > 1:
        return
    for cls, system in _client_classes().items():
        for name in (*STATEMENT_METHODS, *TRANSACTION_METHODS):
            method = vars(cls).get(name)
            if method is not None:
                _originals[cls, name] = method
                wrap = _statement if name in STATEMENT_METHODS else _transaction
                setattr(cls, name, wrap(method, system))


def stop(tracer: Tracer) -> None:
    """Put Tortoise's methods back once no traced app runs any more."""
    _tracers.remove(tracer)
    if _tracers:
        return
    for (cls, name), method in _originals.items():
        setattr(cls, name, method)
    _originals.clear()


def installed() -> bool:
    return bool(_originals)


def _current_tracer() -> Tracer | None:
    """The tracer to span a statement with: none outside a recorded span."""
    if _tracers and trace.get_current_span().is_recording():
        return _tracers[-1]
    return None


def _statement(method: Method, system: str) -> Method:
    @functools.wraps(method)
    async def traced(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if (tracer := _current_tracer()) is None:
            return await method(self, query, *args, **kwargs)
        operation = query.split(maxsplit=1)[0].upper() if query.strip() else "SQL"
        attributes = {**_server(self, system), "db.statement": query, "db.operation": operation}
        name = operation
        if table := _TABLE.search(query):
            attributes["db.sql.table"] = table[1]
            name = f"{operation} {table[1]}"
        with _span(tracer, name, attributes):
            return await method(self, query, *args, **kwargs)

    return traced


def _transaction(method: Method, system: str) -> Method:
    operation = method.__name__.upper()

    @functools.wraps(method)
    async def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (tracer := _current_tracer()) is None:
            return await method(self, *args, **kwargs)
        with _span(tracer, operation, {**_server(self, system), "db.operation": operation}):
            return await method(self, *args, **kwargs)

    return traced


def _server(client: Any, system: str) -> dict[str, Any]:
    """`db.system`, and on PostgreSQL the database and server: with replicas, where a read
    went. A transaction's client keeps them on the client it was opened from."""
    if system != "postgresql":
        return {"db.system": system}
    while not hasattr(client, "database") and hasattr(client, "_parent"):
        client = client._parent
    if not hasattr(client, "database"):
        return {"db.system": system}
    where = {"db.name": client.database, "net.peer.name": client.host, "net.peer.port": client.port}
    return {"db.system": system, **{key: value for key, value in where.items() if value}}


@contextmanager
def _span(tracer: Tracer, name: str, attributes: dict[str, Any]) -> Iterator[None]:
    """A client span that records a failure by its exception's type only: a driver's
    message can quote a value (asyncpg's "invalid input for query argument $1: ...")."""
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except Exception as exc:
            kind = type(exc)
            span.set_attribute("error.type", f"{kind.__module__}.{kind.__qualname__}")
            span.set_status(StatusCode.ERROR)
            raise
