"""`/auth`: the OAuth2 password flow (throttled per account and client), which starts a
session; refresh-token rotation; the caller's sessions and signing out of them."""

import hashlib
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentSessionId, CurrentUser, PageDep
from app.api.errors import error_responses
from app.api.responses import LIST_HEADERS
from app.api.routing import CollectionRouter
from app.core.config import get_settings
from app.core.emails import email_search_text
from app.core.errors import (
    BadCredentials,
    EmailNotVerified,
    InactiveUser,
    InvalidRefreshToken,
    SessionNotFound,
    TooManyLoginAttempts,
)
from app.core.metrics import LOGINS
from app.core.security import (
    create_access_token,
    create_refresh_token,
    decode_refresh_token,
    new_refresh_secret,
    verify_password,
)
from app.models import LoginFailure, Session, User
from app.schemas.auth import RefreshRequest, SessionRead, Token
from app.schemas.common import DbId

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
    summary="Sign in: exchange an email (or username) and password for a new session's "
    "access and refresh tokens",
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
    secret, refresh_hash = new_refresh_secret()
    session = await Session.start(user, request.headers.get("user-agent"), refresh_hash)
    return _token_pair(user.id, session, secret)


def _token_pair(user_id: int, session: Session, refresh_secret: str) -> Token:
    minutes = get_settings().access_token_expire_minutes
    return Token(
        access_token=create_access_token(user_id, session.token_version, session.id),
        expires_in=minutes * 60,
        refresh_token=create_refresh_token(session.id, refresh_secret),
    )


@router.post(
    "/refresh",
    response_model=Token,
    responses=error_responses(400, 401),  # 400: a body that is not JSON
    summary="A new access token and a new refresh token, for a refresh token (once)",
    description="Each refresh token works once. Presenting one that was already used "
    "ends its session (reuse detection: someone else may hold a copy), and so does an "
    "expired one; an unknown or altered token changes nothing. All of these get 401 "
    "`Invalid refresh token`, as does the token of a session that was ended, or revoked "
    "by a password change or deactivation.",
)
async def refresh(body: RefreshRequest) -> Token:
    presented = decode_refresh_token(body.refresh_token)
    if presented is None:
        raise InvalidRefreshToken
    session_id, presented_hash = presented
    secret, new_hash = new_refresh_secret()
    session = await Session.rotate(session_id, presented_hash, new_hash)
    if session is None or await User.by_token(*session.holder()) is None:
        raise InvalidRefreshToken
    return _token_pair(session.user_id, session, secret)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401),
    summary="Sign out: end the caller's session, or with `all=true` every session",
)
async def logout(
    user: CurrentUser,
    session_id: CurrentSessionId,
    every: Annotated[
        bool,
        Query(alias="all", description="End every session of the caller, not only this one."),
    ] = False,
) -> None:
    if every:
        await Session.end_all(user.id)
    else:
        await Session.end(session_id)


SessionOrder = Literal["id", "-id", "created_at", "-created_at", "last_used_at", "-last_used_at"]


@router.get(
    "/sessions",
    response_model=list[SessionRead],
    responses={200: {"headers": LIST_HEADERS}, **error_responses(400, 401)},
    summary="The caller's live sessions",
)
async def list_sessions(
    user: CurrentUser,
    session_id: CurrentSessionId,
    page: PageDep,
    response: Response,
    order_by: Annotated[
        SessionOrder,
        Query(
            description="Sort field, `-` for descending; ties by ascending id. With a "
            "`cursor`, the cursor's own order."
        ),
    ] = "id",
) -> list[Session]:
    sessions = page.answer(response, await Session.all().live(user).page(page.window(order_by)))
    for session in sessions:
        session.current = session.id == session_id
    return sessions


@router.delete(
    "/sessions/{session_id:id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 404),
    summary="End one of the caller's sessions (sign out there)",
)
async def delete_session(user: CurrentUser, session_id: DbId) -> None:
    if not await Session.end_live(session_id, user):
        raise SessionNotFound
