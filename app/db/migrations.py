"""Applying the Aerich migrations safely, for deploys, `make run`, the container and tests.

`python -m app migrate` is `aerich upgrade` made boring:
- it finds `migrations/` by absolute path, so it works from any working directory;
- on PostgreSQL it waits for the server, then holds an advisory lock (on a connection of
  its own, opened with the URL's options as the pool's are), so instances that start
  together apply each migration exactly once;
- each migration runs statement by statement inside its own transaction, on SQLite too
  (Aerich's `executescript` commits as it goes there), and a failure names the file and
  the statement, and leaves the database as it was before that migration.
"""

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import asyncpg
from aerich import Command
from aerich.migrate import Migrate
from aerich.utils import import_py_file, import_py_module
from tortoise import BaseDBAsyncClient
from tortoise.exceptions import OperationalError

from app.db.config import is_postgres
from app.db.errors import DATABASE_UNAVAILABLE

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# Any constant shared by every instance of the service: "aerich" in ASCII.
UPGRADE_LOCK_ID = 0x6165726963
# Aerich writes one statement per line-ending semicolon.
STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


class MigrationError(Exception):
    """A migration failed; its transaction was rolled back."""

    def __init__(self, version_file: str, statement: str, cause: Exception) -> None:
        super().__init__(f"{version_file} failed: {cause}\n  in statement: {statement}")


def split_statements(sql: str) -> list[str]:
    return [part.strip() for part in STATEMENT_END.split(sql) if part.strip()]


class GuardedCommand(Command):
    """Aerich's Command, running a migration's statements one by one in its transaction."""

    async def _upgrade(
        self,
        conn: BaseDBAsyncClient,
        version_file: str,
        fake: bool = False,
        version_module: Any = None,
    ) -> None:
        if not fake:
            module = (
                import_py_module(version_module)
                if version_module is not None
                else import_py_file(Path(Migrate.migrate_location, version_file))
            )
            for statement in split_statements(await module.upgrade(conn)):
                try:
                    await conn.execute_query(statement)
                except Exception as exc:
                    raise MigrationError(version_file, statement, exc) from exc
        # What is left is Aerich's bookkeeping: record the version and its model state.
        await super()._upgrade(conn, version_file, fake=True, version_module=version_module)


async def upgrade(
    config: dict[str, Any], wait_seconds: float = 0, location: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply every pending migration; returns the files applied.

    On PostgreSQL, first wait up to `wait_seconds` for the server to accept connections
    (like the full-stack template's prestart step), then hold the advisory lock.
    """
    if not is_postgres(config):
        return await _upgrade_unlocked(config, location)
    credentials = config["connections"]["default"]["credentials"]
    lock_connection = await connect_when_ready(credentials, wait_seconds)
    try:
        await lock_connection.execute("SELECT pg_advisory_lock($1)", UPGRADE_LOCK_ID)
        return await _upgrade_unlocked(config, location)
    finally:
        await lock_connection.close()  # ending the session releases the lock


async def _upgrade_unlocked(config: dict[str, Any], location: Path) -> list[str]:
    async with GuardedCommand(tortoise_config=config, location=str(location)) as command:
        return await command.upgrade()


# Tortoise's own keys, and the pool's: not options of one asyncpg connection.
NOT_CONNECT_OPTIONS = frozenset(
    {
        "connection_name",
        "fetch_inserted",
        "loop",
        "minsize",
        "maxsize",
        "min_size",
        "max_size",
        "max_queries",
        "max_inactive_connection_lifetime",
        "setup",
        "init",
        "reset",
    }
)


def connect_options(credentials: dict[str, Any]) -> dict[str, Any]:
    """asyncpg.connect() keywords for the credentials Tortoise's asyncpg pool is given, so the
    lock connection gets what each pooled connection gets (`ssl`, timeouts, ...), converted
    as tortoise.backends.asyncpg does: `schema` and `application_name` become server
    settings, every other option is passed on as it is."""
    options = {k: v for k, v in credentials.items() if k not in NOT_CONNECT_OPTIONS}
    server_settings = dict(options.pop("server_settings", None) or {})
    if schema := options.pop("schema", None):
        server_settings["search_path"] = schema
    if application_name := options.pop("application_name", None):
        server_settings["application_name"] = application_name
    options["port"] = int(options.get("port", 5432))
    options.setdefault("timeout", 5)
    return {**options, "server_settings": server_settings}


async def connect_when_ready(
    credentials: dict[str, Any], wait_seconds: float
) -> asyncpg.Connection:
    """The advisory lock's own connection, retried for up to `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    options = connect_options(credentials)
    while True:
        try:
            return await asyncpg.connect(**options)
        except DATABASE_UNAVAILABLE:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1)


async def status(
    config: dict[str, Any], location: Path = MIGRATIONS_DIR
) -> tuple[list[str], list[str]]:
    """(applied, pending) migration files; an empty database has every file pending."""
    async with Command(tortoise_config=config, location=str(location)) as command:
        files = Migrate.get_all_version_files()
        try:
            applied = set(await command.get_applied_migrations(command.app))
        except OperationalError:  # no `aerich` table yet
            applied = set()
    return [f for f in files if f in applied], [f for f in files if f not in applied]
