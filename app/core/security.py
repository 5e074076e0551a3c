"""Password hashing and access tokens.

Hashing is deliberately slow, so every hash and verify runs in a worker thread and
never blocks the event loop.
"""

import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from passlib.context import CryptContext
from starlette.concurrency import run_in_threadpool

from app.core.config import get_settings

JWT_ALGORITHM = "HS256"


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


@lru_cache
def _dummy_hash() -> str:
    """A hash of a random password, verified when the account does not exist so that
    a login costs the same time whether or not the email is registered."""
    return password_context().hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await run_in_threadpool(password_context().hash, password)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check `password` against `hashed` (or the dummy hash when there is no account).

    Returns whether it matched and, when the stored hash uses a deprecated scheme or
    cost, the new hash to store in its place.
    """
    if hashed is None:
        await run_in_threadpool(_verify_against_dummy, password)
        return False, None
    return await run_in_threadpool(password_context().verify_and_update, password, hashed)


def _verify_against_dummy(password: str) -> None:
    password_context().verify(password, _dummy_hash())


def create_access_token(user_id: int) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_expire_minutes),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str) -> int | None:
    """The user id a valid token names, or None for a bad, tampered or expired one."""
    try:
        payload = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
        return int(payload["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
