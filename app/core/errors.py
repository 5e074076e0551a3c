"""What can go wrong in a request, as types: raised by models and routes, answered by one
handler (`app/api/errors.py`) with the contract's status code and `detail`."""

import json
from typing import ClassVar


class ServiceError(Exception):
    status_code: ClassVar[int] = 400
    detail: ClassVar[str] = "Bad request"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.message = detail or self.detail

    def body(self) -> bytes:
        """The answer's JSON, as the handler sends it (and an idempotent replay again)."""
        return json.dumps({"detail": self.message}, separators=(",", ":")).encode()


class BadRequest(ServiceError):
    """The request conflicts with existing data or with the account's state."""


class EmailTaken(BadRequest):
    detail = "Email already registered"


class UsernameTaken(BadRequest):
    detail = "Username already taken"


class NotAuthenticated(ServiceError):
    """No valid token, or its user is gone, deactivated or revoked it (also mid-request)."""

    status_code = 401
    detail = "Could not validate credentials"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 (read-only)


class BadCredentials(NotAuthenticated):
    detail = "Incorrect email or password"


class InvalidRefreshToken(NotAuthenticated):
    """Unknown, altered, expired or already used (which also ends its session)."""

    detail = "Invalid refresh token"


class InactiveUser(BadRequest):
    detail = "Inactive user"


class EmailNotVerified(BadRequest):
    """REQUIRE_VERIFIED_EMAIL is on and the right password was given for this account."""

    detail = "Email not verified"


class InvalidToken(BadRequest):
    """A password reset or verification token that is unknown, used, expired or altered."""

    detail = "Invalid or expired token"


class TooManyRequests(ServiceError):
    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.headers = {"Retry-After": str(retry_after_seconds)}  # type: ignore[misc]


class TooManyLoginAttempts(TooManyRequests):
    detail = "Too many failed login attempts, try again later"


class TooManyMailRequests(TooManyRequests):
    detail = "A mail was sent for this recently, try again later"


class Forbidden(ServiceError):
    status_code = 403
    detail = "Not enough permissions"


class NotFound(ServiceError):
    status_code = 404
    detail = "Not found"


class UserNotFound(NotFound):
    detail = "User not found"


class ItemNotFound(NotFound):
    detail = "Item not found"


class SessionNotFound(NotFound):
    detail = "Session not found"


class PreconditionFailed(ServiceError):
    status_code = 412
    detail = "Precondition failed: the resource has changed"


class InvalidCursor(BadRequest):
    detail = "Invalid cursor"


class IdempotencyKeyInUse(ServiceError):
    status_code = 409
    detail = "A request with this Idempotency-Key is in progress"


class IdempotencyKeyReused(ServiceError):
    status_code = 422
    detail = "Idempotency-Key reused with a different request"
