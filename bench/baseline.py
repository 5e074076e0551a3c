"""The ceiling: the benchmarked endpoints on FastAPI with hand-written SQL on asyncpg.

The service's framework, routing and uvicorn settings, its answers (status, JSON, ETag,
X-Total-Count, WWW-Authenticate, Retry-After) and its work per request (bench/README.md),
but no ORM: one pooled connection per request, taken by the route class `Pooled` and
released without a reset query (`LeanConnection`) when the endpoint returns; the token
checked by a plain async dependency; rows into dicts, encoded once by orjson (`Json`), no
`response_model`; queries, paths and bodies validated by FastAPI with the service's
constraints. Sign-in hashes with the service's passlib context and signs with PyJWT.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench SECRET_KEY=... \
        uvicorn bench.baseline:app --loop uvloop --http httptools --no-access-log
"""

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
import jwt
import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.emails import email_search_text, normalize_email
from app.core.security import verify_password

SECRET_KEY = os.environ["SECRET_KEY"]
TOKEN_MINUTES = int(os.environ.get("ACCESS_TOKEN_EXPIRE_MINUTES", "60"))
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_WINDOW = timedelta(seconds=int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900")))
INT32_MAX = 2**31 - 1
NO_NUL = r"^[^\x00]*$"

TOKEN_HOLDER = "SELECT id, is_active, token_version FROM users WHERE id = $1"
USER_COLUMNS = "id, email, username, is_active, is_superuser, created_at, updated_at"
ITEM_COLUMNS = "id, name, description, owner_id, created_at, updated_at"
READ_USER = f"SELECT {USER_COLUMNS}, version FROM users WHERE id = $1"
# include=items embeds each user's first EMBEDDED items (lowest ids), as the service: one
# query, limited so that when all rows come back, someone may have more than that.
EMBEDDED = 100
USER_ITEMS = f"SELECT {ITEM_COLUMNS} FROM items WHERE owner_id = $1 ORDER BY id LIMIT {EMBEDDED}"
USERS_PAGE = f"SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT $1 OFFSET $2"
USERS_ITEMS = (
    f"SELECT {ITEM_COLUMNS} FROM items WHERE owner_id = ANY($1::int[]) ORDER BY id LIMIT $2"
)
FIRST_ITEMS = (
    f"SELECT i.* FROM unnest($1::int[]) AS o(id) CROSS JOIN LATERAL (SELECT {ITEM_COLUMNS}"
    f" FROM items WHERE owner_id = o.id ORDER BY id LIMIT {EMBEDDED}) AS i ORDER BY i.id"
)
ITEMS_PAGE = f"SELECT {ITEM_COLUMNS} FROM items ORDER BY id LIMIT $1 OFFSET $2"
OWNER_JOIN = (
    "SELECT i.id, i.name, i.description, i.owner_id, i.created_at, i.updated_at,"
    " u.id, u.email, u.username, u.is_active, u.is_superuser, u.created_at, u.updated_at"
    " FROM items i JOIN users u ON u.id = i.owner_id ORDER BY i.id LIMIT $1 OFFSET $2"
)
# As the service, an item only for a caller still valid (else 401): by hand, one statement
# that reads the caller's row under the lock its foreign key takes anyway.
INSERT_ITEM = (
    "INSERT INTO items (name, description, owner_id, created_at, updated_at)"
    " SELECT $1, $2, id, $4, $4 FROM users WHERE id = $3 AND is_active AND token_version = $5"
    " FOR KEY SHARE RETURNING id, version"
)
LOGIN_USER = "SELECT id, hashed_password, is_active, token_version FROM users WHERE {} = $1"
FAILED_LOGIN = (
    "INSERT INTO login_failures AS f (key, failures, window_started_at) VALUES ($1, 1, $2)"
    " ON CONFLICT (key) DO UPDATE SET"
    " failures = CASE WHEN f.window_started_at <= $3 THEN 1 ELSE f.failures + 1 END,"
    " window_started_at = CASE WHEN f.window_started_at <= $3 THEN $2"
    " ELSE f.window_started_at END RETURNING failures, window_started_at"
)

BAD_TOKEN = "Could not validate credentials"
TOO_MANY_FAILURES = "Too many failed login attempts, try again later"
CLAIMS = {"require": ["sub", "ver", "exp"]}
JSON_TYPE = (b"content-type", b"application/json")

DbId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Skip = Annotated[int, Query(ge=0, le=INT32_MAX)]
Limit = Annotated[int, Query(ge=1, le=100)]


class Json(Response):
    """orjson bytes with their headers, built once: (name, value) pairs in bytes."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: tuple = ()) -> None:
        self.status_code, self.background = status_code, None
        self.body = body = orjson.dumps(content)
        self.raw_headers = [(b"content-length", b"%d" % len(body)), JSON_TYPE, *headers]


def unauthorized(detail: str = BAD_TOKEN) -> HTTPException:
    """A new one each time (a raised exception keeps, and grows, its traceback)."""
    return HTTPException(401, detail, {"WWW-Authenticate": "Bearer"})


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


class LeanConnection(asyncpg.Connection):
    """Released without `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`."""

    def get_reset_query(self) -> str:
        return ""


class Db:
    pool: asyncpg.Pool


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Db.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=int(os.environ.get("DB_POOL_MIN", "1")),
        max_size=int(os.environ.get("DB_POOL_MAX", "10")),
        max_inactive_connection_lifetime=300,
        timeout=5,
        command_timeout=30,
        connection_class=LeanConnection,
    )
    try:
        yield
    finally:
        await Db.pool.close()


app = FastAPI(lifespan=lifespan, redirect_slashes=False, openapi_url=None)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return Json({"detail": jsonable_encoder(errors)}, 422)


class Pooled(APIRoute):
    """One pool connection, `request.scope["db"]`, from before the dependencies until the
    endpoint returns (released before the answer is sent)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def with_connection(request: Request) -> Response:
            async with Db.pool.acquire() as con:
                request.scope["db"] = con
                return await handler(request)

        return with_connection


async def signed_in(request: Request) -> tuple[asyncpg.Connection, int, int]:
    """The connection, and the active user an unrevoked bearer token names (id, version)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":  # also no header; "Bearer " then fails to decode
        raise unauthorized("Not authenticated")
    try:
        claims = jwt.decode(token.strip(), SECRET_KEY, algorithms=["HS256"], options=CLAIMS)
        user_id, version = int(claims["sub"]), claims["ver"]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise unauthorized() from None
    if not (0 < user_id <= INT32_MAX and isinstance(version, int)):
        raise unauthorized()
    con = request.scope["db"]
    row = await con.fetchrow(TOKEN_HOLDER, user_id)
    if row is None or not row[1] or row[2] != version:
        raise unauthorized()
    return con, user_id, version


SignedIn = Annotated[tuple[asyncpg.Connection, int, int], Depends(signed_in)]


def route(method: str, path: str, pooled: bool = True, **kwargs: Any) -> Any:
    """`/things/` and `/things` both, as the service's CollectionRouter (no redirect)."""
    kwargs["route_class_override"] = Pooled if pooled else None

    def register(endpoint: Any) -> Any:
        for each in (path, path.removesuffix("/") if path.endswith("/") else path + "/"):
            app.router.add_api_route(each, endpoint, methods=[method], **kwargs)
        return endpoint

    return register


@route("GET", "/health", pooled=False)
async def health() -> Response:
    await Db.pool.fetchval("SELECT 1")
    return Json({"status": "ok", "database": "ok"})


@route("POST", "/auth/token", pooled=False)
async def login(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    """The service's: count the attempt, verify (holding no connection), clear on success."""
    field, value = "username_lower", username.lower()
    if "@" in username:  # an email, normalised as the service stores it
        try:
            field, value = "email", normalize_email(username)
        except ValueError:
            value = "\x00"  # not an address any account could have
    user = None
    async with Db.pool.acquire() as con:
        if "\x00" not in value and len(value) <= (255 if field == "email" else 50):
            user = await con.fetchrow(LOGIN_USER.format(field), value)
        account = f"user:{user[0]}" if user else f"login:{email_search_text(username)}"
        client = request.client.host if request.client else "unknown"
        key = hashlib.sha256(f"{client}|{account}".encode()).hexdigest()
        now = datetime.now(UTC)
        failures, started = await con.fetchrow(FAILED_LOGIN, key, now, now - LOGIN_WINDOW)
    if failures > LOGIN_MAX_FAILURES:
        retry_after = max(1, int((started + LOGIN_WINDOW - now).total_seconds() + 0.999))
        raise HTTPException(429, TOO_MANY_FAILURES, {"Retry-After": str(retry_after)})
    matched, _ = await verify_password(password, user[1] if user else None)
    if not matched or user is None:
        raise unauthorized("Incorrect email or password")
    await Db.pool.execute("DELETE FROM login_failures WHERE key = $1", key)
    if not user[2]:
        raise HTTPException(400, "Inactive user")
    now = datetime.now(UTC)
    claims = {"sub": str(user[0]), "ver": user[3], "iat": now}
    claims["exp"] = now + timedelta(minutes=TOKEN_MINUTES)
    return Json({"access_token": jwt.encode(claims, SECRET_KEY, "HS256"), "token_type": "bearer"})


@route("GET", "/users/")
async def list_users(
    db: SignedIn, skip: Skip = 0, limit: Limit = 100, include: Literal["items"] | None = None
) -> Response:
    con = db[0]
    total = await con.fetchval("SELECT count(*) FROM users")
    users = [_user(row) for row in await con.fetch(USERS_PAGE, limit, skip)]
    if include and users:
        by_owner = {user["id"]: user.setdefault("items", []) for user in users}
        owners = list(by_owner)
        rows = await con.fetch(USERS_ITEMS, owners, EMBEDDED * len(owners))
        if len(rows) == EMBEDDED * len(owners):  # never with the bench's 5 per user
            rows = await con.fetch(FIRST_ITEMS, owners)
        for row in rows:
            if len(group := by_owner[row[3]]) < EMBEDDED:
                group.append(_item(row))
    return Json(users, headers=((b"x-total-count", b"%d" % total),))


@route("GET", "/users/{user_id:int}")
async def read_user(
    db: SignedIn, user_id: DbId, include: Literal["items"] | None = None
) -> Response:
    con = db[0]
    row = await con.fetchrow(READ_USER, user_id)
    if row is None:
        raise HTTPException(404, "User not found")
    user = _user(row)
    if include:
        user["items"] = [_item(item) for item in await con.fetch(USER_ITEMS, user_id)]
    return Json(user, headers=((b"etag", b'"%d"' % row[7]),))


class ItemCreate(BaseModel):  # the service's (strict: strings only)
    model_config = ConfigDict(strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
    description: Annotated[str, StringConstraints(max_length=10_000, pattern=NO_NUL)] | None = None


@route("POST", "/items/", status_code=201)
async def create_item(db: SignedIn, body: ItemCreate) -> Response:
    con, user_id, version = db
    now = datetime.now(UTC)
    row = await con.fetchrow(INSERT_ITEM, body.name, body.description, user_id, now, version)
    if row is None:  # deactivated, revoked or deleted since the token was checked
        raise unauthorized()
    item = _item((row[0], body.name, body.description, user_id, now, now))
    return Json(item, 201, ((b"etag", b'"%d"' % row[1]),))


@route("GET", "/items/")
async def list_items(
    db: SignedIn, skip: Skip = 0, limit: Limit = 100, include: Literal["owner"] | None = None
) -> Response:
    con = db[0]
    total = await con.fetchval("SELECT count(*) FROM items")
    if include:
        rows = await con.fetch(OWNER_JOIN, limit, skip)
        items = [{**_item(row), "owner": _user(row, 6)} for row in rows]
    else:
        items = [_item(row) for row in await con.fetch(ITEMS_PAGE, limit, skip)]
    return Json(items, headers=((b"x-total-count", b"%d" % total),))
