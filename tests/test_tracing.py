"""Tracing (OTEL_EXPORTER_OTLP_ENDPOINT): a request's server span, its SQL statements as
child spans with placeholders only, the probes left out; unset, nothing installed at all."""

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.core import tracing
from app.core.config import Settings
from app.db import tracing as sql_tracing
from app.db.config import TORTOISE_ORM, is_postgres
from app.db.tortoise_ext.instrumentation import QUERY_OBSERVERS
from app.main import create_app
from app.models import User
from tests.fixtures import PASSWORD, empty_tables, login

ENDPOINT = "http://127.0.0.1:4318"
EMAIL = "traced@example.com"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans kept in memory, each exported as it ends, instead of batched to a collector."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "span_processor", lambda endpoint: SimpleSpanProcessor(memory))
    yield memory
    memory.clear()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app through its real lifespan, with empty tables, and a client on it."""
    async with LifespanManager(app):
        await empty_tables()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def observers() -> list[Callable]:
    return list(QUERY_OBSERVERS)


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_a_request_is_traced_with_its_sql_statements(monkeypatch, exporter, query_counter):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "traced-service")
    untouched = observers()
    app = create_app(Settings())

    async with serving(app) as http:
        assert sql_tracing.installed()
        created = await http.post("/users/", json={"email": EMAIL, "password": PASSWORD})
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        token = await login(http, EMAIL)
        hashed_password = (await User.get(id=user_id)).hashed_password
        signed_up = exporter.get_finished_spans()
        exporter.clear()
        query_counter.statements.clear()

        response = await http.get(f"/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        read = exporter.get_finished_spans()
        sent = len(query_counter.statements)
        exporter.clear()

        for probe in ("/health/live", "/health/ready"):
            assert (await http.get(probe)).status_code == 200
        assert exporter.get_finished_spans() == ()  # neither the probes nor their SQL

    assert observers() == untouched  # removed at shutdown: no leak into other tests
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # the global is unset

    (server,) = [span for span in read if span.kind == SpanKind.SERVER]
    assert server.name == "GET /users/{user_id}"
    assert server.attributes["http.route"] == "/users/{user_id}"
    assert server.resource.attributes["service.name"] == "traced-service"
    by_id = {span.context.span_id: span for span in read}
    statements = [span for span in read if "db.statement" in span.attributes]
    assert len(statements) == sent  # one span per statement Tortoise sent, none twice
    postgres = is_postgres(TORTOISE_ORM)
    selects = [span for span in statements if span.name == "SELECT users"]
    assert len(selects) >= 2  # the caller (from the token), then the user asked for
    for span in selects:
        assert span.kind == SpanKind.CLIENT
        assert span.context.trace_id == server.context.trace_id
        assert server in ancestors(span, by_id)
        assert span.attributes["db.system"] == ("postgresql" if postgres else "sqlite")
        statement = span.attributes["db.statement"]
        assert statement.startswith("SELECT") and '"users"' in statement
        assert ("$1" if postgres else "?") in statement

    inserts = [span for span in signed_up if span.name == "INSERT users"]
    assert inserts, [span.name for span in signed_up]
    values = [
        str(value)
        for span in (*signed_up, *read)
        for value in (*span.attributes.values(), *span.resource.attributes.values())
    ]
    for secret in (hashed_password, PASSWORD, EMAIL, token, "$argon2"):
        assert not any(secret in value for value in values), secret
    assert not any(name.startswith("http.request.header") for name in server.attributes)


async def test_without_the_endpoint_nothing_is_installed(monkeypatch, exporter):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")  # over .env too, as in conftest.py
    settings = Settings()

    def lifespan(app: FastAPI):  # never entered: only its identity matters
        raise AssertionError

    assert tracing.tracing_options(settings, lifespan) == {"lifespan": lifespan}
    untouched = observers()
    app = create_app(settings)
    async with serving(app) as http:
        assert not sql_tracing.installed() and observers() == untouched
        assert (await http.post("/users/", json={"email": EMAIL, "password": PASSWORD})).is_success
        assert (await http.get("/users/")).status_code == 401
    assert exporter.get_finished_spans() == ()


def test_the_endpoint_without_the_extra_stops_the_start(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # not installed

    with pytest.raises(RuntimeError, match=r"pip install '\.\[otel\]'"):
        create_app(Settings())


def test_statements_are_observed_once_while_any_traced_app_runs():
    untouched = observers()
    first, second = TracerProvider().get_tracer("first"), TracerProvider().get_tracer("second")

    sql_tracing.start(first)
    observing = observers()
    sql_tracing.start(second)  # a second app: the same observer, not a second one
    assert observers() == observing != untouched
    assert observing.count(sql_tracing.span_statement) == 1
    sql_tracing.stop(first)
    assert observers() == observing
    sql_tracing.stop(second)
    assert observers() == untouched and not sql_tracing.installed()
