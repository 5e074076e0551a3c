"""The ceiling: the benchmarked endpoints as a plain ASGI app, hand-written SQL on asyncpg.

Same JSON, status codes and headers as the service for the requests bench/verify.py
sends, and the same work per request: the bearer token is checked with a user lookup
(active, token version), lists count their rows for `X-Total-Count`, `include=` loads the
relation with one more query (items) or a join (owner). Around that, only what lean
hand-written code does, found by profiling it under wrk (bench/README.md):

- no framework: routing by comparing the path, the query string parsed by hand,
  validation errors written as FastAPI writes them (the 422 bodies are not compared);
- one pool connection per request, on which asyncpg prepares each statement once (its
  statement cache), released without asyncpg's reset query: nothing here changes the
  session (no SET, LISTEN, advisory lock, cursor or open transaction);
- rows straight into dicts, encoded once by orjson; fixed error bodies encoded at import.

The libraries doing the security work are the service's: PyJWT checks the token, and the
service's own passlib context hashes (bench/baseline_http.py has the parsing).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench SECRET_KEY=... \
        uvicorn bench.baseline:app --loop uvloop --http httptools --no-access-log
"""

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
import orjson

# Hashing is the same library work as the service's: its passlib context (argon2 with the
# ARGON2_* settings) in worker threads, at most PASSWORD_HASH_CONCURRENCY at once.
from app.core.security import verify_password
from bench.baseline_http import (
    BAD_LOGIN,
    BAD_TOKEN,
    INACTIVE,
    INT32_MAX,
    JSON_TYPE,
    NOT_ALLOWED,
    NOT_FOUND,
    USER_NOT_FOUND,
    Failure,
    include_param,
    int_param,
    item_create,
    json_body,
    login_form,
    page_params,
    query_params,
    token_claims,
)

SECRET_KEY = os.environ["SECRET_KEY"]
TOKEN_MINUTES = int(os.environ.get("ACCESS_TOKEN_EXPIRE_MINUTES", "60"))
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_WINDOW = timedelta(seconds=int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900")))

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
FAILED_LOGIN = (
    "INSERT INTO login_failures AS f (key, failures, window_started_at) VALUES ($1, 1, $2)"
    " ON CONFLICT (key) DO UPDATE SET"
    " failures = CASE WHEN f.window_started_at <= $3 THEN 1 ELSE f.failures + 1 END,"
    " window_started_at = CASE WHEN f.window_started_at <= $3 THEN $2"
    " ELSE f.window_started_at END RETURNING failures, window_started_at"
)
INSERT_ITEM = (
    "INSERT INTO items (name, description, owner_id, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $4) RETURNING id"
)


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


class Db:
    pool: asyncpg.Pool


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing to undo: asyncpg still rolls back a transaction left open."""


async def _caller(con: asyncpg.Connection, scope: dict) -> asyncpg.Record:
    """The active user an unrevoked bearer token names: decode, then one lookup."""
    user_id, version = token_claims(scope, SECRET_KEY)
    row = await con.fetchrow(TOKEN_HOLDER, user_id)
    if row is None or not row[1] or row[2] != version:
        raise Failure(*BAD_TOKEN)
    return row


async def read_user(scope: dict, user_id: str) -> tuple:
    async with Db.pool.acquire() as con:
        await _caller(con, scope)
        number = int_param(user_id, ("path", "user_id"), 1, INT32_MAX)
        include = include_param(query_params(scope), "items")
        row = await con.fetchrow(READ_USER, number)
        if row is None:
            raise Failure(*USER_NOT_FOUND)
        user = _user(row)
        if include:
            user["items"] = [_item(item) for item in await con.fetch(USER_ITEMS, number)]
    return 200, orjson.dumps(user), [(b"etag", b'"%d"' % row[7])]


async def list_users(scope: dict) -> tuple:
    async with Db.pool.acquire() as con:
        await _caller(con, scope)
        skip, limit, include = page_params(scope, "items")
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
    return 200, orjson.dumps(users), [(b"x-total-count", b"%d" % total)]


async def list_items(scope: dict) -> tuple:
    async with Db.pool.acquire() as con:
        await _caller(con, scope)
        skip, limit, include = page_params(scope, "owner")
        total = await con.fetchval("SELECT count(*) FROM items")
        if include:
            rows = await con.fetch(OWNER_JOIN, limit, skip)
            items = [{**_item(row), "owner": _user(row, 6)} for row in rows]
        else:
            items = [_item(row) for row in await con.fetch(ITEMS_PAGE, limit, skip)]
    return 200, orjson.dumps(items), [(b"x-total-count", b"%d" % total)]


async def create_item(scope: dict, receive: Any) -> tuple:
    body = await json_body(scope, receive)  # malformed JSON: 422 before the token, as FastAPI
    async with Db.pool.acquire() as con:
        user = await _caller(con, scope)
        name, description = item_create(body)
        now = datetime.now(UTC)
        item_id = await con.fetchval(INSERT_ITEM, name, description, user[0], now)
    item = {
        "id": item_id,
        "name": name,
        "description": description,
        "owner_id": user[0],
        "created_at": now,
        "updated_at": now,
    }
    return 201, orjson.dumps(item), None


async def login(scope: dict, receive: Any) -> tuple:
    """The service's flow: count the attempt (one upsert), verify, clear on success."""
    username, password = await login_form(scope, receive)
    field = "email" if "@" in username else "username_lower"
    user = None
    async with Db.pool.acquire() as con:
        if "\x00" not in username and len(username) <= (255 if field == "email" else 50):
            user = await con.fetchrow(
                f"SELECT id, hashed_password, is_active, token_version FROM users"
                f" WHERE {field} = $1",
                username.lower(),
            )
        account = f"user:{user[0]}" if user else f"login:{username.lower()}"
        client = scope["client"][0] if scope.get("client") else "unknown"
        key = hashlib.sha256(f"{client}|{account}".encode()).hexdigest()
        now = datetime.now(UTC)
        failures, started = await con.fetchrow(FAILED_LOGIN, key, now, now - LOGIN_WINDOW)
    if failures > LOGIN_MAX_FAILURES:
        retry_after = max(1, int((started + LOGIN_WINDOW - now).total_seconds() + 0.999))
        body = orjson.dumps({"detail": "Too many failed login attempts, try again later"})
        raise Failure(429, body, [(b"retry-after", b"%d" % retry_after)])
    matched, _ = await verify_password(password, user[1] if user else None)
    if not matched or user is None:
        raise Failure(*BAD_LOGIN)
    await Db.pool.execute("DELETE FROM login_failures WHERE key = $1", key)
    if not user[2]:
        raise Failure(*INACTIVE)
    now = datetime.now(UTC)
    claims = {"sub": str(user[0]), "ver": user[3], "iat": now}
    claims["exp"] = now + timedelta(minutes=TOKEN_MINUTES)
    token = jwt.encode(claims, SECRET_KEY, "HS256")
    return 200, orjson.dumps({"access_token": token, "token_type": "bearer"}), None


async def health(scope: dict) -> tuple:
    await Db.pool.fetchval("SELECT 1")
    return 200, orjson.dumps({"status": "ok", "database": "ok"}), None


async def _route(scope: dict, receive: Any) -> tuple:
    path, method = scope["path"], scope["method"]
    get = method in ("GET", "HEAD")
    user_id = path[7:].removesuffix("/") if path.startswith("/users/") else ""
    if user_id.isascii() and user_id.isdigit():  # the service's /users/{user_id:int}
        return await read_user(scope, user_id) if get else NOT_ALLOWED
    if path in ("/users/", "/users"):
        return await list_users(scope) if get else NOT_ALLOWED
    if path in ("/items/", "/items"):
        if get:
            return await list_items(scope)
        return await create_item(scope, receive) if method == "POST" else NOT_ALLOWED
    if path == "/auth/token":
        return await login(scope, receive) if method == "POST" else NOT_ALLOWED
    if path == "/health":
        return await health(scope) if get else NOT_ALLOWED
    return NOT_FOUND


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                Db.pool = await _create_pool()
            except (OSError, asyncpg.PostgresError) as exc:
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await Db.pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _create_pool() -> asyncpg.Pool:
    return await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=int(os.environ.get("DB_POOL_MIN", "1")),
        max_size=int(os.environ.get("DB_POOL_MAX", "10")),
        max_inactive_connection_lifetime=300,
        timeout=5,
        command_timeout=30,
        reset=_no_reset,
    )


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    try:
        status, body, headers = await _route(scope, receive)
    except Failure as failure:
        status, body, headers = failure.status, failure.body, failure.headers
    start = [(b"content-length", b"%d" % len(body)), JSON_TYPE, *(headers or ())]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})
