"""Applying the Aerich migrations from code: for `make run`, the container start and tests.

`aerich upgrade` resolves `migrations/` against the working directory; this module uses
the absolute path, so it works from anywhere. On PostgreSQL the upgrade runs under an
advisory lock, so instances that start together apply each migration exactly once.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
from aerich import Command

from app.api.errors import DATABASE_UNAVAILABLE

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# Any constant shared by every instance of the service; "aerich" in ASCII.
UPGRADE_LOCK_ID = 0x6165726963


async def upgrade(config: dict[str, Any], wait_seconds: float = 0) -> list[str]:
    """Apply every pending migration; returns the files applied.

    On PostgreSQL, first wait up to `wait_seconds` for the server to accept connections
    (like the full-stack template's prestart step), then hold the advisory lock.
    """
    connection = config["connections"]["default"]
    if connection["engine"] != "tortoise.backends.asyncpg":
        return await _upgrade_unlocked(config)
    lock_connection = await _connect_when_ready(connection["credentials"], wait_seconds)
    try:
        await lock_connection.execute("SELECT pg_advisory_lock($1)", UPGRADE_LOCK_ID)
        return await _upgrade_unlocked(config)
    finally:
        await lock_connection.close()  # ending the session releases the lock


async def _connect_when_ready(
    credentials: dict[str, Any], wait_seconds: float
) -> asyncpg.Connection:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return await asyncpg.connect(
                host=credentials["host"],
                port=credentials["port"],
                user=credentials["user"],
                password=credentials["password"],
                database=credentials["database"],
                timeout=credentials.get("timeout", 5),
            )
        except DATABASE_UNAVAILABLE:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1)


async def _upgrade_unlocked(config: dict[str, Any]) -> list[str]:
    async with Command(tortoise_config=config, location=str(MIGRATIONS_DIR)) as command:
        return await command.upgrade()


async def pending(config: dict[str, Any]) -> list[str]:
    """Migration files not yet applied to the database."""
    async with Command(tortoise_config=config, location=str(MIGRATIONS_DIR)) as command:
        return await command.heads()
