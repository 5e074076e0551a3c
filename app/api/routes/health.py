"""Probes: `/health/live` (the process serves), `/health/ready` (it can serve requests:
the database answers and its schema is at the newest migration), and `/health` (the
database answers), for container health checks, load balancers and Kubernetes."""

import asyncio

from fastapi import status
from fastapi.responses import JSONResponse
from tortoise import connections

from app.api.routing import CollectionRouter
from app.db.applied import pending_migrations
from app.db.errors import DATABASE_UNAVAILABLE
from app.db.replicas import PRIMARY
from app.schemas.stats import Health, Live, Ready

router = CollectionRouter(tags=["health"])
HEALTH_TIMEOUT_SECONDS = 3.0


async def _database_answers() -> bool:
    try:
        await asyncio.wait_for(
            connections.get(PRIMARY).execute_query("SELECT 1"), HEALTH_TIMEOUT_SECONDS
        )
    except DATABASE_UNAVAILABLE:
        return False
    return True


@router.get("/health/live", response_model=Live, summary="Liveness: the process serves")
async def live() -> Live:
    """200 whenever the process can answer, database or not: a liveness probe that
    fails only when restarting the process would help."""
    return Live(status="ok")


@router.get(
    "/health/ready",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "Database unreachable or migrations pending."}},
    summary="Readiness: the database answers and every migration is applied",
)
async def ready() -> Ready | JSONResponse:
    """503 while the database does not answer, or while a migration is pending (a new
    version that started before `migrate` ran): take the instance out of rotation,
    don't restart it."""
    try:  # one query answers both: the database is there, and how far its schema is
        pending = await asyncio.wait_for(
            pending_migrations(connections.get(PRIMARY)), HEALTH_TIMEOUT_SECONDS
        )
    except DATABASE_UNAVAILABLE:
        answer = Ready(status="unavailable", database="unreachable", migrations="unknown")
    else:
        if not pending:
            return Ready(status="ok", database="ok", migrations="ok")
        answer = Ready(status="unavailable", database="ok", migrations="pending")
    return JSONResponse(answer.model_dump(), status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is unreachable."}},
    summary="The database answers",
)
async def health() -> Health | JSONResponse:
    if await _database_answers():
        return Health(status="ok", database="ok")
    unreachable = Health(status="unavailable", database="unreachable")
    return JSONResponse(unreachable.model_dump(), status.HTTP_503_SERVICE_UNAVAILABLE)
