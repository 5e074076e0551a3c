"""Error responses: the documented shapes, and the handlers that turn failures into them."""

import logging
from typing import Any

import asyncpg
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from app.api.middleware import REQUEST_ID_HEADER, security_headers
from app.core.errors import ServiceError
from app.db.errors import DATABASE_UNAVAILABLE
from app.schemas.common import ErrorDetail, ValidationErrors

logger = logging.getLogger("app")

RETRY_AFTER_SECONDS = "5"
JSON = "application/json"


_DESCRIPTIONS = {
    400: "The body could not be parsed, it conflicts with existing data or the account's "
    "state, or the list cursor is malformed, altered or made for another list.",
    401: "Missing, malformed, tampered or expired token, or wrong credentials.",
    403: "Signed in, but not allowed to do this.",
    404: "The resource does not exist.",
    409: "A concurrent request held the same rows in a conflicting order, or a request "
    "with the same Idempotency-Key is in progress; send it again.",
    422: "The request is invalid, or its Idempotency-Key was used for a different request.",
    412: "If-Match did not match: the resource changed since that version was read.",
    429: "Too many failed logins, or a mail of this kind was just sent for this email or "
    "account; retry after `Retry-After` seconds.",
    503: "The database is unreachable; retry after `Retry-After` seconds.",
}
# What an operation that locks rows can also answer (see `concurrent_conflict`).
LOCKING_ERRORS = (409,)
# What an operation that takes an Idempotency-Key can also answer.
IDEMPOTENCY_ERRORS = (409, 422)
_RETRY_AFTER_HEADER = {"Retry-After": {"schema": {"type": "integer"}}}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes an operation can answer, plus 503."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in (*codes, 503):
        # A 422 is FastAPI's list of validation errors, or a domain error's detail.
        model = ValidationErrors | ErrorDetail if code == 422 else ErrorDetail
        responses[code] = {"model": model, "description": _DESCRIPTIONS[code]}
        if code in (429, 503):
            responses[code]["headers"] = _RETRY_AFTER_HEADER
    return responses


async def service_error(request: Request, exc: ServiceError) -> Response:
    """Every domain error: its status code and the contract's `detail`."""
    return Response(exc.body(), status_code=exc.status_code, headers=exc.headers, media_type=JSON)


async def concurrent_conflict(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL broke a lock cycle (deadlock) or a serialization conflict by aborting
    this transaction: nothing of it was written, so the request can simply be sent again."""
    logger.warning("transaction aborted on %s %s: %r", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": "Conflicting concurrent request, nothing was changed; retry it"},
    )


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "Database unavailable"},
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 list of errors, without echoing the input: it may be a password."""
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: log it with its traceback, tell the client nothing about the internals."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # Starlette answers this from outside every middleware: add the headers here, the
    # request id too (asgi-correlation-id's middleware set it for this request).
    headers = security_headers(request.url.path)
    if request_id := correlation_id.get():
        headers = {**headers, REQUEST_ID_HEADER: request_id}
    return JSONResponse(
        status_code=500, content={"detail": "Internal server error"}, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(asyncpg.exceptions.TransactionRollbackError, concurrent_conflict)
    for exc_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(exc_type, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
