"""Password hashing and access tokens.

Hashing is deliberately slow, so every hash and verify runs in a worker thread and
never blocks the event loop.
"""

import asyncio
import contextlib
import contextvars
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import TypeVar

import jwt
from passlib.context import CryptContext

from app.core.config import get_settings
from app.core.limits import INT32_MAX

JWT_ALGORITHM = "HS256"
T = TypeVar("T")


@lru_cache
def password_context() -> CryptContext:
    """argon2 for new hashes; bcrypt hashes still verify and are flagged for rehash."""
    settings = get_settings()
    return CryptContext(
        schemes=["argon2", "bcrypt"],
        deprecated="auto",
        argon2__time_cost=settings.argon2_time_cost,
        argon2__memory_cost=settings.argon2_memory_cost,
        argon2__parallelism=settings.argon2_parallelism,
    )


# Hashing threads run at a lower CPU priority than the event loop, so that a burst of
# sign-ins slows other sign-ins, not every other request.
HASHING_NICENESS = 10


def _lower_thread_priority() -> None:
    """Linux nice values are per thread (argon2's own lane threads inherit this one's)."""
    # Elsewhere, or where not permitted, they simply run at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


@lru_cache
def _hashing_executor() -> ThreadPoolExecutor:
    """At most PASSWORD_HASH_CONCURRENCY hashes at once: each takes a core and
    ARGON2_MEMORY_COST of RAM, so a burst of logins queues here instead of starving the
    machine."""
    return ThreadPoolExecutor(
        max_workers=get_settings().password_hash_concurrency,
        thread_name_prefix="password-hash",
        initializer=_lower_thread_priority,
    )


async def _in_hashing_thread(function: Callable[..., T], *args: object) -> T:
    loop = asyncio.get_running_loop()
    # In the request's context: a line logged while hashing carries its request id.
    context = contextvars.copy_context()
    return await loop.run_in_executor(_hashing_executor(), context.run, partial(function, *args))


@lru_cache
def _dummy_hash() -> str:
    """A hash of a random password, verified when the account does not exist so that
    a login costs the same time whether or not the email is registered."""
    return password_context().hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await _in_hashing_thread(password_context().hash, password)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check `password` against `hashed` (or the dummy hash when there is no account).

    Returns whether it matched and, when the stored hash uses a deprecated scheme or
    cost, the new hash to store in its place.
    """
    return await _in_hashing_thread(_verify_and_rehash, password, hashed)


def _verify_and_rehash(password: str, hashed: str | None) -> tuple[bool, str | None]:
    context = password_context()
    try:
        if hashed is None:
            context.verify(password, _dummy_hash())
            return False, None
        if context.identify(hashed) == "bcrypt":
            # bcrypt only ever read the first 72 bytes, and bcrypt 5 refuses longer input.
            matched = context.verify(password.encode()[:72], hashed)
            return matched, context.hash(password) if matched else None
        return context.verify_and_update(password, hashed)
    except ValueError:  # a NUL for bcrypt, or over passlib's size limit: cannot match
        return False, None


def create_access_token(user_id: int, token_version: int, session_id: int) -> str:
    """A signed token naming the user, their `token_version` and the session it belongs
    to: bumping that version (password change, deactivation) or ending the session
    revokes it."""
    settings = get_settings()
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "ver": token_version,
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_expire_minutes),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str) -> tuple[int, int, int] | None:
    """(user id, token version, session id) of a valid token; None for a bad, tampered
    or expired one, or one of another kind (a refresh token)."""
    try:
        payload = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "ver", "sid", "exp"]},
        )
        user_id, token_version, session_id = int(payload["sub"]), payload["ver"], payload["sid"]
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if not (0 < user_id <= INT32_MAX and isinstance(token_version, int) and _is_id(session_id)):
        return None
    return user_id, token_version, session_id


# A refresh token is signed too: only a token this service issued names a session, so a
# made-up or altered one is refused without touching any session (while a genuine one
# that was already used ends its session: reuse detection, `Session.rotate`).
REFRESH_TOKEN_TYPE = "refresh"


def new_refresh_secret() -> tuple[str, str]:
    """A random secret for a refresh token and its SHA-256 (what the database keeps: the
    secret is 256 random bits, so a fast hash is enough, unlike for a password)."""
    secret = secrets.token_urlsafe(32)
    return secret, refresh_secret_hash(secret)


def refresh_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_refresh_token(session_id: int, secret: str) -> str:
    payload = {"typ": REFRESH_TOKEN_TYPE, "sid": session_id, "jti": secret}
    return jwt.encode(payload, get_settings().secret_key, algorithm=JWT_ALGORITHM)


def decode_refresh_token(token: str) -> tuple[int, str] | None:
    """(session id, hash of its secret) of a refresh token this service signed; None for
    anything else. Its expiry is the session's (`Session.refresh_expires_at`)."""
    try:
        payload = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["typ", "sid", "jti"]},
        )
    except jwt.PyJWTError:
        return None
    session_id, secret = payload["sid"], payload["jti"]
    if payload["typ"] != REFRESH_TOKEN_TYPE or not _is_id(session_id):
        return None
    if not isinstance(secret, str):
        return None
    return session_id, refresh_secret_hash(secret)


def _is_id(value: object) -> bool:
    return type(value) is int and 0 < value <= INT32_MAX
