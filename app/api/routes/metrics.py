"""`GET /metrics`: Prometheus's text format, to the addresses in METRICS_ALLOW_IPS."""

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from app.core import metrics
from app.core.config import get_settings


def metrics_client(request: Request) -> None:
    """404, as for a path that does not exist, unless the caller's address is in
    METRICS_ALLOW_IPS (the address uvicorn reports: the proxy's X-Forwarded-For when
    the proxy is in FORWARDED_ALLOW_IPS)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise HTTPException(404) from None
    if not any(address in network for network in get_settings().metrics_networks()):
        raise HTTPException(404)


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {metrics.CONTENT_TYPE: {}}, "description": "Prometheus text format"},
        404: {"description": "The caller's address is not in METRICS_ALLOW_IPS."},
    },
    summary="Prometheus metrics (to METRICS_ALLOW_IPS only)",
)
async def read_metrics(_: Annotated[None, Depends(metrics_client)]) -> Response:
    """Requests by method, route template and status; request durations by route
    template; the database pool's size and connections in use; SQL statements and their
    durations; logins by outcome."""
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)
