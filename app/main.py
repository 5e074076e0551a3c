"""The FastAPI application: routers, middleware, error handlers and the ORM's lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from tortoise.contrib.fastapi import RegisterTortoise

from app.api import docs
from app.api.errors import install_error_handlers
from app.api.middleware import (
    REQUEST_ID_HEADER,
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    HeadAsGetMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    is_valid_request_id,
    new_request_id,
)
from app.api.routes import accounts, auth, health, items, stats, users
from app.api.routes import metrics as metrics_route
from app.core import metrics
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.core.outbox import MailSender
from app.core.tracing import tracing_options
from app.db.config import tortoise_config
from app.db.replicas import REPLICAS, replica_names

# Young objects a collection waits for (CPython's default is 700): a page of 50 users with
# their items allocates a few thousand, many in cycles (Tortoise's reverse relations point
# back at their instance), so the default ran several collections per request.
GC_YOUNG_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Once started: what start-up built (modules, schemas, routes) moves out of the
    collector's sight (`gc.freeze`), so collections stop walking it on every request, and
    collections of young objects run less often. Not in tests, which build an app each."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    metrics.observe_queries()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The schema comes from the Aerich migrations, never from generate_schemas.
        async with RegisterTortoise(app, config=tortoise_config(settings, aerich=False)):
            replicas = replica_names(len(settings.database_replica_urls))
            await REPLICAS.start(replicas, settings.db_replica_max_lag_seconds)
            sender = MailSender(settings)  # the outbox's mails, sent after their commits
            sender.start()
            app.state.mail_sender = sender
            async with metrics.pool_gauges_kept_fresh():
                if settings.environment != "test":
                    settle_garbage_collector()
                try:
                    yield
                finally:
                    await sender.stop()
                    await REPLICAS.stop()

    app = FastAPI(
        title="Users and items",
        version="1.0.0",
        description="Reference REST service: FastAPI on Tortoise ORM, migrated with Aerich.",
        **tracing_options(settings, lifespan),  # lifespan=, and telemetry= when tracing
        redirect_slashes=False,
        docs_url=None,  # app/api/docs.py: the same pages without a CDN
        redoc_url=None,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=[
            *("Authorization", "Content-Type", "If-Match", "Idempotency-Key", REQUEST_ID_HEADER)
        ],
        expose_headers=[
            *("X-Total-Count", "Link", "ETag", "Retry-After", "Idempotent-Replayed"),
            REQUEST_ID_HEADER,
        ],
    )
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestLogMiddleware)
    # Added last: outermost, so every answer carries the request's id (a 500's is added by
    # app/api/errors.py: Starlette sends it from outside every middleware).
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=is_valid_request_id,
        generator=new_request_id,
        update_request_header=False,  # nothing reads it from the request: one header less
    )
    install_error_handlers(app)
    for module in (auth, accounts, users, items, stats, health, metrics_route, docs):
        app.include_router(module.router)
    app.mount(docs.ASSETS_URL, docs.ASSETS, name="docs-assets")
    return app


app = create_app()
