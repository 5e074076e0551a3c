"""Applying the Aerich migrations safely, for deploys, `make run`, the container and tests.

`python -m app migrate` is `aerich upgrade` made boring:
- it finds `migrations/` by absolute path, so it works from any working directory;
- on PostgreSQL it waits for the server, then holds an advisory lock (on a connection of
  its own, opened with the URL's options as the pool's are), so instances that start
  together apply each migration exactly once;
- each migration runs statement by statement inside its own transaction, on SQLite too
  (Aerich's `executescript` commits as it goes there), and a failure names the file and
  the statement, and leaves the database as it was before that migration;
- on PostgreSQL every statement waits at most `MIGRATION_LOCK_TIMEOUT` for a lock
  (`lock_timeout`): a migration that meets a busy table fails fast, with that error, and
  can be run again, instead of queueing every request behind its lock.

A migration that must run outside a transaction (`CREATE INDEX CONCURRENTLY`, which
builds an index without blocking writes) says `RUN_IN_TRANSACTION = False`, Aerich's flag,
and runs its statements itself with `run_concurrently(db, [...])` from its `upgrade()`
(returning ""), so that `aerich upgrade` and `python -m app migrate` run them alike: one
by one on one connection, under the same lock timeout; if one fails, the indexes it left
INVALID (a failed concurrent build) are dropped, so nothing is half done and the
migration, not recorded as applied, can be run again. Such a migration should be
idempotent (`IF NOT EXISTS`): statements before the failing one stay applied.
`migrations/models/4_*_add_search_indexes.py` is the example.
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

from app.core.config import get_settings
from app.db.applied import MIGRATIONS_DIR
from app.db.config import is_postgres
from app.db.errors import DATABASE_UNAVAILABLE

# Any constant shared by every instance of the service: "aerich" in ASCII.
UPGRADE_LOCK_ID = 0x6165726963
LOCK_POLL_SECONDS = 0.25
# Aerich writes one statement per line-ending semicolon; a hand-written function body
# between dollar quotes ($$ ... $$, $body$ ... $body$) holds its own.
STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")
DOLLAR_QUOTED = re.compile(r"(\$\w*\$).*?\1", re.S)


class MigrationError(Exception):
    """A migration failed; its transaction was rolled back."""

    def __init__(self, version_file: str, statement: str, cause: Exception) -> None:
        super().__init__(f"{version_file} failed: {cause}\n  in statement: {statement}")


def split_statements(sql: str) -> list[str]:
    quoted = [match.span() for match in DOLLAR_QUOTED.finditer(sql)]
    statements, start = [], 0
    for end in STATEMENT_END.finditer(sql):
        if not any(begin < end.start() < stop for begin, stop in quoted):
            statements.append(sql[start : end.start()])
            start = end.end()
    statements.append(sql[start:])
    return [statement.strip() for statement in statements if statement.strip()]


class StatementFailed(Exception):
    """A statement of a migration's own `upgrade()` failed (see `run_concurrently`)."""

    def __init__(self, statement: str, cause: Exception) -> None:
        super().__init__(f"{cause}\n  in statement: {statement}")
        self.statement, self.cause = statement, cause


class GuardedCommand(Command):
    """Aerich's Command, running a migration's statements one by one in its transaction,
    each under a lock timeout."""

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
            try:
                statements = split_statements(await module.upgrade(conn))
            except StatementFailed as exc:  # a migration that runs its own statements
                raise MigrationError(version_file, exc.statement, exc.cause) from exc.cause
            transactional = getattr(module, "RUN_IN_TRANSACTION", True)
            if statements and transactional and conn.capabilities.dialect == "postgres":
                await conn.execute_query(f"SET LOCAL lock_timeout = {_lock_timeout_ms()}")
            for statement in statements:
                try:
                    await conn.execute_query(statement)
                except Exception as exc:
                    raise MigrationError(version_file, statement, exc) from exc
        # What is left is Aerich's bookkeeping: record the version and its model state.
        await super()._upgrade(conn, version_file, fake=True, version_module=version_module)


def _lock_timeout_ms() -> int:
    return int(get_settings().migration_lock_timeout * 1000)


# Long enough for an index build on a big table (DB_COMMAND_TIMEOUT is for requests).
NON_TRANSACTIONAL_STATEMENT_TIMEOUT = 24 * 3600.0


# How long cleaning up after a failed concurrent build may wait for the transactions
# that blocked it (it blocks no request meanwhile).
CLEANUP_LOCK_TIMEOUT_MS = 60_000
BUILT_INDEX = re.compile(r'INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([\w.]+)"?', re.I)


async def run_concurrently(db: BaseDBAsyncClient, statements: list[str]) -> None:
    """Run PostgreSQL statements that cannot be in a transaction (`CREATE INDEX
    CONCURRENTLY`), for a migration with `RUN_IN_TRANSACTION = False` to call from its
    `upgrade()`/`downgrade()` (so `aerich upgrade` runs them the same way): one by one on
    one connection, each waiting at most `MIGRATION_LOCK_TIMEOUT` for a lock.

    A concurrent build that fails leaves its index INVALID (costing every write, serving
    no read, and skipped by `IF NOT EXISTS` next time): it is dropped, after waiting for
    the transactions that blocked the build, then `StatementFailed` is raised. An INVALID
    index of these statements left by an earlier run is dropped before building."""
    names = {m[1] for statement in statements for m in BUILT_INDEX.finditer(statement)}
    async with db.acquire_connection() as connection:
        try:
            await _drop_invalid(connection, names, CLEANUP_LOCK_TIMEOUT_MS)
            await connection.execute(f"SET lock_timeout = {_lock_timeout_ms()}")
            for statement in statements:
                try:
                    await connection.execute(statement, timeout=NON_TRANSACTIONAL_STATEMENT_TIMEOUT)
                except Exception as exc:
                    await _drop_invalid(connection, names, CLEANUP_LOCK_TIMEOUT_MS)
                    raise StatementFailed(statement, exc) from exc
        finally:
            await connection.execute("RESET lock_timeout")


async def _drop_invalid(connection: asyncpg.Connection, names: set[str], wait_ms: int) -> None:
    if not names:
        return
    await connection.execute(f"SET lock_timeout = {wait_ms}")
    for index in await _invalid_indexes(connection) & names:
        await connection.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index}"')


async def _invalid_indexes(connection: asyncpg.Connection) -> set[str]:
    """The names of the INVALID indexes in the current schema."""
    rows = await connection.fetch(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace"
    )
    return {row[0] for row in rows}


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
        # Polled, not waited for in one statement: a session waiting inside a statement
        # holds a snapshot, and the running deploy's CREATE INDEX CONCURRENTLY would wait
        # for it to end, while it waits for that deploy: they would block each other.
        await _poll_for_lock(lock_connection)
        return await _upgrade_unlocked(config, location)
    finally:
        await lock_connection.close()  # ending the session releases the lock


async def _poll_for_lock(connection: asyncpg.Connection) -> None:
    """Take the upgrade lock, trying again every LOCK_POLL_SECONDS while another has it."""
    try_lock = "SELECT pg_try_advisory_lock($1)"
    while not await connection.fetchval(try_lock, UPGRADE_LOCK_ID):  # noqa: ASYNC110
        await asyncio.sleep(LOCK_POLL_SECONDS)


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
