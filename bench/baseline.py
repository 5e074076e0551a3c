"""The ceiling: the benchmarked endpoints on FastAPI with hand-written SQL on an asyncpg pool.

Same JSON, status codes and validation as the service for the requests `bench/run.py`
sends, and the same work per request: the bearer token is checked with a user lookup
(active, token version), lists count their rows for `X-Total-Count`, `include=` loads the
relation with one more query (items) or a join (owner). What it leaves out is the ORM
and pydantic on the way out: rows go straight to orjson.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench SECRET_KEY=... \
        uvicorn bench.baseline:app --loop uvloop --http httptools --no-access-log
"""

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import asyncpg
import jwt
import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Hashing is the same library work as the service's: its passlib context (argon2 with the
# ARGON2_* settings) in worker threads, at most PASSWORD_HASH_CONCURRENCY at once.
from app.core.security import verify_password

SECRET_KEY = os.environ["SECRET_KEY"]
TOKEN_MINUTES = int(os.environ.get("ACCESS_TOKEN_EXPIRE_MINUTES", "60"))
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_WINDOW = timedelta(seconds=int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900")))
INT32_MAX = 2**31 - 1
NO_NUL = r"^[^\x00]*$"

USER_COLUMNS = "id, email, username, is_active, is_superuser, created_at, updated_at"
ITEM_COLUMNS = "id, name, description, owner_id, created_at, updated_at"
OWNER_JOIN = (
    "SELECT i.id, i.name, i.description, i.owner_id, i.created_at, i.updated_at,"
    " u.id, u.email, u.username, u.is_active, u.is_superuser, u.created_at, u.updated_at"
    " FROM items i JOIN users u ON u.id = i.owner_id ORDER BY i.id LIMIT $1 OFFSET $2"
)

CREDENTIALS_ERROR = HTTPException(
    401, "Could not validate credentials", {"WWW-Authenticate": "Bearer"}
)
BAD_LOGIN = HTTPException(401, "Incorrect email or password", {"WWW-Authenticate": "Bearer"})
USER_NOT_FOUND = HTTPException(404, "User not found")

DbId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Skip = Annotated[int, Query(ge=0, le=INT32_MAX)]
Limit = Annotated[int, Query(ge=1, le=100)]


# orjson writes an aware datetime as the service does: 2026-01-31T12:00:00.123456+00:00
# (asyncpg gives timestamptz in UTC), so rows go out as they come.
def _user(r: asyncpg.Record, o: int = 0) -> dict:
    return {
        "id": r[o],
        "email": r[o + 1],
        "username": r[o + 2],
        "is_active": r[o + 3],
        "is_superuser": r[o + 4],
        "created_at": r[o + 5],
        "updated_at": r[o + 6],
    }


def _item(r: asyncpg.Record) -> dict:
    return {
        "id": r[0],
        "name": r[1],
        "description": r[2],
        "owner_id": r[3],
        "created_at": r[4],
        "updated_at": r[5],
    }


def _json(content: object, status_code: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(content), status_code, headers, "application/json")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=int(os.environ.get("DB_POOL_MIN", "1")),
        max_size=int(os.environ.get("DB_POOL_MAX", "10")),
        max_inactive_connection_lifetime=300,
        timeout=5,
        command_timeout=30,
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, redirect_slashes=False, openapi_url=None)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return _json({"detail": jsonable_encoder(errors)}, 422)


def pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


Pool = Annotated[asyncpg.Pool, Depends(pool)]


async def current_user(request: Request, db: Pool) -> asyncpg.Record:
    """The active user an unrevoked bearer token names: decode, then one lookup."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
    try:
        claims = jwt.decode(
            token, SECRET_KEY, algorithms=["HS256"], options={"require": ["sub", "ver", "exp"]}
        )
        user_id, version = int(claims["sub"]), claims["ver"]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise CREDENTIALS_ERROR from None
    if not (0 < user_id <= INT32_MAX and isinstance(version, int)):
        raise CREDENTIALS_ERROR
    row = await db.fetchrow("SELECT id, is_active, token_version FROM users WHERE id = $1", user_id)
    if row is None or not row[1] or row[2] != version:
        raise CREDENTIALS_ERROR
    return row


CurrentUser = Annotated[asyncpg.Record, Depends(current_user)]


@app.get("/health")
async def health(db: Pool) -> Response:
    await db.fetchval("SELECT 1")
    return _json({"status": "ok", "database": "ok"})


@app.post("/auth/token")
async def login(
    request: Request, db: Pool, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    """The service's flow: count the attempt (one upsert), verify, clear on success."""
    field = "email" if "@" in username else "username_lower"
    user = None
    if "\x00" not in username and len(username) <= (255 if field == "email" else 50):
        user = await db.fetchrow(
            f"SELECT id, hashed_password, is_active, token_version FROM users WHERE {field} = $1",
            username.lower(),
        )
    account = f"user:{user[0]}" if user else f"login:{username.lower()}"
    client = request.client.host if request.client else "unknown"
    key = hashlib.sha256(f"{client}|{account}".encode()).hexdigest()
    now = datetime.now(UTC)
    failures, started = await db.fetchrow(
        "INSERT INTO login_failures AS f (key, failures, window_started_at) VALUES ($1, 1, $2)"
        " ON CONFLICT (key) DO UPDATE SET"
        " failures = CASE WHEN f.window_started_at <= $3 THEN 1 ELSE f.failures + 1 END,"
        " window_started_at = CASE WHEN f.window_started_at <= $3 THEN $2"
        " ELSE f.window_started_at END"
        " RETURNING failures, window_started_at",
        key,
        now,
        now - LOGIN_WINDOW,
    )
    if failures > LOGIN_MAX_FAILURES:
        retry_after = max(1, int((started + LOGIN_WINDOW - now).total_seconds() + 0.999))
        raise HTTPException(
            429,
            "Too many failed login attempts, try again later",
            {"Retry-After": str(retry_after)},
        )
    matched, _ = await verify_password(password, user[1] if user else None)
    if not matched or user is None:
        raise BAD_LOGIN
    await db.execute("DELETE FROM login_failures WHERE key = $1", key)
    if not user[2]:
        raise HTTPException(400, "Inactive user")
    now = datetime.now(UTC)
    claims = {"sub": str(user[0]), "ver": user[3], "iat": now}
    claims["exp"] = now + timedelta(minutes=TOKEN_MINUTES)
    return _json({"access_token": jwt.encode(claims, SECRET_KEY, "HS256"), "token_type": "bearer"})


@app.get("/users/")
@app.get("/users")
async def list_users(
    _: CurrentUser,
    db: Pool,
    skip: Skip = 0,
    limit: Limit = 100,
    include: Literal["items"] | None = None,
) -> Response:
    total = await db.fetchval("SELECT count(*) FROM users")
    rows = await db.fetch(
        f"SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT $1 OFFSET $2", limit, skip
    )
    users = [_user(row) for row in rows]
    if include and users:
        by_owner = {user["id"]: user.setdefault("items", []) for user in users}
        for row in await db.fetch(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE owner_id = ANY($1::int[]) ORDER BY id",
            list(by_owner),
        ):
            by_owner[row[3]].append(_item(row))
    return _json(users, headers={"X-Total-Count": str(total)})


@app.get("/users/{user_id}")
async def read_user(
    _: CurrentUser, db: Pool, user_id: DbId, include: Literal["items"] | None = None
) -> Response:
    row = await db.fetchrow(f"SELECT {USER_COLUMNS}, version FROM users WHERE id = $1", user_id)
    if row is None:
        raise USER_NOT_FOUND
    user = _user(row)
    if include:
        user["items"] = [
            _item(item)
            for item in await db.fetch(
                f"SELECT {ITEM_COLUMNS} FROM items WHERE owner_id = $1 ORDER BY id", user_id
            )
        ]
    return _json(user, headers={"ETag": f'"{row[7]}"'})


@app.get("/items/")
@app.get("/items")
async def list_items(
    _: CurrentUser,
    db: Pool,
    skip: Skip = 0,
    limit: Limit = 100,
    include: Literal["owner"] | None = None,
) -> Response:
    total = await db.fetchval("SELECT count(*) FROM items")
    if include:
        rows = await db.fetch(OWNER_JOIN, limit, skip)
        items = [{**_item(row), "owner": _user(row, 6)} for row in rows]
    else:
        rows = await db.fetch(
            f"SELECT {ITEM_COLUMNS} FROM items ORDER BY id LIMIT $1 OFFSET $2", limit, skip
        )
        items = [_item(row) for row in rows]
    return _json(items, headers={"X-Total-Count": str(total)})


class ItemCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
    description: Annotated[str, StringConstraints(max_length=10_000, pattern=NO_NUL)] | None = None


@app.post("/items/", status_code=201)
@app.post("/items", status_code=201)
async def create_item(user: CurrentUser, db: Pool, body: ItemCreate) -> Response:
    now = datetime.now(UTC)
    item_id = await db.fetchval(
        "INSERT INTO items (name, description, owner_id, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $4) RETURNING id",
        body.name,
        body.description,
        user[0],
        now,
    )
    item = {
        "id": item_id,
        "name": body.name,
        "description": body.description,
        "owner_id": user[0],
        "created_at": now,
        "updated_at": now,
    }
    return _json(item, 201)
