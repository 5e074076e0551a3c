"""The bench database: create and drop it, build it with the service's migrations, load it
by COPY, and put it back as it was between rounds."""

import asyncio
import datetime as dt
import subprocess
from collections.abc import Iterator
from typing import Any

import asyncpg

from bench.config import (
    DB_NAME,
    ITEMS_PER_USER,
    LOGS,
    PASSWORD,
    PYTHON,
    SEED_EPOCH,
    USERS,
    BenchError,
    pg_url,
)

USER_COLUMNS = [
    "id",
    "email",
    "username",
    "username_lower",
    "hashed_password",
    "is_active",
    "is_superuser",
    "created_at",
    "updated_at",
]
ITEM_COLUMNS = ["id", "name", "description", "owner_id", "created_at", "updated_at"]


def sql(database: str, *statements: str) -> list[Any]:
    """Run statements on `database`, one connection; the last one's rows are returned."""

    async def run() -> list[Any]:
        connection = await asyncpg.connect(pg_url(database), timeout=10)
        try:
            rows: list[Any] = []
            for statement in statements:
                rows = await connection.fetch(statement)
            return rows
        finally:
            await connection.close()

    return asyncio.run(run())


def create_database() -> None:
    sql(
        "postgres",
        f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)',
        f'CREATE DATABASE "{DB_NAME}"',
    )


def drop_database() -> None:
    sql("postgres", f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    """The schema as production gets it: `python -m app migrate`."""
    done = subprocess.run(
        [PYTHON, "-m", "app", "migrate"],
        cwd=LOGS,  # no .env here
        env={**env, "DATABASE_URL": pg_url(DB_NAME)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"python -m app migrate failed:\n{done.stdout}{done.stderr}")


def password_hash() -> str:
    """One hash from the service's own passlib context at the production cost (the
    SERVER_SETTINGS must be in os.environ), so no sign-in finds it outdated."""
    from app.core.security import password_context

    return password_context().hash(PASSWORD)


def _stamp(n: int) -> dt.datetime:
    # Every tenth row has no microseconds: isoformat() then leaves them out, and all
    # servers must agree on that too.
    micro = 0 if n % 10 == 0 else (n * 7919) % 1_000_000
    return SEED_EPOCH + dt.timedelta(seconds=n, microseconds=micro)


# Items whose names hold a rare word, evenly spread over the table whatever its size: a
# search whose answer has the same size at every scale (bench/scale.py searches it).
NEEDLE, NEEDLES = "kettle", 20


def _item_name(j: int, needle_every: int) -> str:
    if j % needle_every == needle_every // 2:
        return f"brass {NEEDLE} {j}"
    if j % 11 == 0:
        return f"café {j} ☕"
    if j % 13 == 0:
        return f'item "{j}" \\ with quotes'
    return f"item {j}"


def _users(hashed_password: str, n_users: int) -> Iterator[tuple]:
    for i in range(1, n_users + 1):
        username = None if i % 7 == 0 else f"user{i}"
        created = _stamp(i)
        yield (
            i,
            f"user{i}@example.com",
            username,
            username.lower() if username else None,
            hashed_password,
            i % 97 != 0,  # a few inactive accounts
            i % 1000 == 0,  # and a few superusers
            created,
            created + dt.timedelta(minutes=i % 3),
        )


def _items(n_users: int) -> Iterator[tuple]:
    n_items = n_users * ITEMS_PER_USER
    needle_every = max(n_items // NEEDLES, 1)
    for j in range(1, n_items + 1):
        created = _stamp(n_users + j)
        yield (
            j,
            _item_name(j, needle_every),
            None if j % 3 == 0 else f"description of item {j}",
            (j - 1) // ITEMS_PER_USER + 1,
            created,
            created + dt.timedelta(seconds=j % 5),
        )


def seed(hashed_password: str, n_users: int = USERS) -> tuple[int, int]:
    """`n_users` users with ITEMS_PER_USER items each, by COPY from generators (a million
    users fit in little memory). Returns (users, items)."""

    async def load() -> None:
        connection = await asyncpg.connect(pg_url(DB_NAME), timeout=10)
        try:
            await connection.copy_records_to_table(
                "users", records=_users(hashed_password, n_users), columns=USER_COLUMNS
            )
            await connection.copy_records_to_table(
                "items", records=_items(n_users), columns=ITEM_COLUMNS
            )
            for table in ("users", "items"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await connection.execute("VACUUM ANALYZE users")
            await connection.execute("VACUUM ANALYZE items")
        finally:
            await connection.close()

    asyncio.run(load())
    return n_users, n_users * ITEMS_PER_USER


def reset_items(max_item_id: int) -> None:
    """Remove what POST /items/ added, so every round sees the same tables."""
    sql(DB_NAME, f"DELETE FROM items WHERE id > {max_item_id}", "VACUUM ANALYZE items")


def db_sessions() -> int:
    """Connections opened to BENCH_DB so far (this query's own included)."""
    rows = sql(DB_NAME, f"SELECT sessions FROM pg_stat_database WHERE datname = '{DB_NAME}'")
    return int(rows[0][0])


def server_version() -> str:
    return sql(DB_NAME, "SHOW server_version")[0][0]
