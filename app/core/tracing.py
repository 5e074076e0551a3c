"""Optional OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set.

FastAPI 0.163 traces requests itself (`fastapi.telemetry`): a server span named by the
route template (`GET /users/{user_id}`), with spans for the dependencies, the endpoint and
the serialization under it, and never a header. It is given this app's own
TracerProvider, not the process-global one, so each app built by `create_app` is
configured on its own and an app without tracing (every other test) never sees a
provider: FastAPI then skips its telemetry. The SQL statements are spanned by
`app.db.tracing`, while the app runs.

Off, `tracing_options` hands the lifespan back untouched: nothing of the SDK is imported,
nothing is wrapped, nothing of this module runs per request.
"""

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import Scope

from app.core.config import Settings
from app.db import tracing as sql_tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

DEFAULT_SERVICE_NAME = "tortoise-service"
# Probes and scrapes, every few seconds: a trace each would drown the requests.
UNTRACED_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
INSTALL_HINT = "pip install '.[otel]'"
logger = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def tracing_options(settings: Settings, lifespan: Lifespan) -> dict[str, Any]:
    """FastAPI's `lifespan` and, when tracing is on, `telemetry` arguments.

    On, the lifespan is wrapped: the statements are spanned while the app runs, and the
    spans still queued are sent before it stops (BatchSpanProcessor exports every few
    seconds). The extra missing stops the start with the command that installs it: the
    endpoint says traces are wanted, and a service silently without them is found out
    only when they are needed.
    """
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return {"lifespan": lifespan}
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider

        processor = span_processor(endpoint)
    except ImportError as exc:
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the tracing packages are not installed: "
            f"{INSTALL_HINT} (or unset OTEL_EXPORTER_OTLP_ENDPOINT)"
        ) from exc
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(processor)
    logger.info("Tracing to %s as %s", endpoint, resource.attributes[SERVICE_NAME])

    @asynccontextmanager
    async def traced(app: FastAPI) -> AsyncIterator[Any]:
        tracer = provider.get_tracer(__name__)
        sql_tracing.start(tracer)
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            sql_tracing.stop(tracer)
            await to_thread.run_sync(provider.shutdown)  # flushes: may wait on the network

    return {
        "lifespan": traced,
        # auto_configure off: the exporter is added here, FastAPI must not add another.
        "telemetry": {"tracer_provider": provider, "auto_configure": False, "exclude": _untraced},
    }


def span_processor(endpoint: str) -> "SpanProcessor":
    """Batches to the OTLP/HTTP collector (the tests swap in an in-memory exporter).

    OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL (the variable may come from
    `.env`, which the exporter does not read); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the full
    URL, wins as the OpenTelemetry spec has it. Headers, timeouts and the batch sizes come
    from the standard OTEL_* variables.
    """
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    exporter = OTLPSpanExporter(endpoint=traces or f"{endpoint.rstrip('/')}/v1/traces")
    return BatchSpanProcessor(exporter)


def _untraced(scope: Scope) -> bool:
    path = scope.get("path", "").removeprefix(scope.get("root_path", "")).rstrip("/")
    return path in UNTRACED_PATHS
