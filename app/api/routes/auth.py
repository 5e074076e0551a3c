"""`/auth/token`: the OAuth2 password flow, throttled per account and client."""

import hashlib
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.errors import error_responses
from app.api.routing import CollectionRouter
from app.core.config import get_settings
from app.core.emails import email_search_text
from app.core.errors import BadCredentials, EmailNotVerified, InactiveUser, TooManyLoginAttempts
from app.core.metrics import LOGINS
from app.core.security import create_access_token, verify_password
from app.models import LoginFailure, User
from app.schemas.auth import Token

router = CollectionRouter(prefix="/auth", tags=["auth"])


def _throttle_key(request: Request, user: User | None, login: str) -> str:
    """One counter per client and account, whatever case or alias the login was typed in."""
    account = f"user:{user.id}" if user else f"login:{email_search_text(login)}"
    client = request.client.host if request.client else "unknown"
    return hashlib.sha256(f"{client}|{account}".encode()).hexdigest()


@router.post(
    "/token",
    response_model=Token,
    responses=error_responses(400, 401, 429),
    summary="Exchange an email (or username) and password for a bearer token",
)
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    settings = get_settings()
    window = timedelta(seconds=settings.login_failure_window_seconds)
    user = await User.by_login(form.username)
    key = _throttle_key(request, user, form.username)
    if retry_after := await LoginFailure.count_attempt(key, settings.login_max_failures, window):
        LOGINS.labels("throttled").inc()
        raise TooManyLoginAttempts(retry_after)
    # An unknown account still costs one verification, so timing does not reveal it.
    matched, new_hash = await verify_password(form.password, user.hashed_password if user else None)
    if not matched or user is None:
        LOGINS.labels("failed").inc()
        raise BadCredentials
    await LoginFailure.clear(key)
    if not user.is_active:
        LOGINS.labels("inactive").inc()
        raise InactiveUser
    if settings.require_verified_email and not user.is_verified:
        LOGINS.labels("unverified").inc()
        raise EmailNotVerified
    if new_hash:  # an old bcrypt hash or weaker argon2 cost: store the current scheme,
        # unless the password changed while we were verifying the old one.
        await User.filter(id=user.id, hashed_password=user.hashed_password).update(
            hashed_password=new_hash
        )
    LOGINS.labels("ok").inc()
    return Token(access_token=create_access_token(user.id, user.token_version))
