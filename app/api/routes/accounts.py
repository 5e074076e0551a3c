"""`/auth/password-reset` and `/auth/verify`: tokens mailed to the account's address.

Each request that mails something is throttled per email (reset) or account
(verification) in the database, so every worker shares the limit; the mail is written to
the outbox in the request's transaction and sent right after it commits (app/core/outbox.py).
"""

import hashlib
from datetime import timedelta

from fastapi import Response, status

from app.api.deps import CurrentUser
from app.api.errors import error_responses
from app.api.routing import CollectionRouter
from app.core import outbox
from app.core.config import get_settings
from app.core.errors import TooManyMailRequests
from app.core.security import hash_password
from app.models import AccountToken, MailRequest, User
from app.schemas.accounts import (
    Accepted,
    EmailVerification,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from app.schemas.user import UserPublic

router = CollectionRouter(prefix="/auth", tags=["auth"])

RESET_ACCEPTED = Accepted(
    detail="If an active account has this email, a password reset token was mailed to it"
)
VERIFICATION_ACCEPTED = Accepted(detail="A verification token was mailed to your email")


async def _throttle(kind: str, subject: str) -> None:
    """429 when a mail of `kind` was asked for `subject` within the interval."""
    settings = get_settings()
    key = hashlib.sha256(f"{kind}|{subject}".encode()).hexdigest()
    window = timedelta(seconds=settings.mail_request_interval_seconds)
    if retry_after := await MailRequest.count_attempt(key, 1, window):
        raise TooManyMailRequests(retry_after)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=error_responses(400, 429),
    summary="Mail a password reset token to the account with this email, if any",
)
async def request_password_reset(body: PasswordResetRequest) -> Accepted:
    """The same answer, after the same work but for the mail, whether or not an active
    account has the email, so neither tells which; repeated for one email: 429."""
    await _throttle("password-reset", body.email)
    await AccountToken.request_password_reset(body.email)
    outbox.wake()
    return RESET_ACCEPTED


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(400),
    summary="Set a new password with a mailed token; every session of the account ends",
)
async def confirm_password_reset(body: PasswordResetConfirm) -> None:
    """A token works once, for PASSWORD_RESET_MINUTES, while the account is active and
    has the email it was sent to. 400 `Invalid or expired token` otherwise."""
    hashed_password = await hash_password(body.password)
    await AccountToken.reset_password(body.token, hashed_password)


@router.post(
    "/verify/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=error_responses(401, 429),
    summary="Mail a new verification token to the caller's email",
)
async def request_verification(caller: CurrentUser) -> Accepted:
    """Already verified: 202 and nothing is sent. Repeated within
    MAIL_REQUEST_INTERVAL_SECONDS: 429."""
    await _throttle("verify", f"user:{caller.id}")
    if await AccountToken.request_verification(caller):
        outbox.wake()
    return VERIFICATION_ACCEPTED


@router.post(
    "/verify",
    response_model=UserPublic,
    responses=error_responses(400),
    summary="Confirm the account's email with a mailed token",
)
async def verify_email(body: EmailVerification) -> User:
    """A token verifies the email it was sent to, once: after an email change it no
    longer works. 400 `Invalid or expired token` otherwise."""
    return await AccountToken.verify_email(body.token)
