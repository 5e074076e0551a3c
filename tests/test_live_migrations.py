"""Migrations a live table survives (PostgreSQL): the trigram indexes are built
CONCURRENTLY while writers run, and DDL that meets a busy table gives up after
MIGRATION_LOCK_TIMEOUT, leaving nothing half done."""

import asyncio
import os
import shutil
import sys
from pathlib import Path

import asyncpg
import pytest

from app.db.applied import MIGRATIONS_DIR
from tests.support import UPGRADE_FROM, manage, query, run, scratch_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="concurrent index builds are PostgreSQL's"
)
SEARCH_MIGRATION = next((MIGRATIONS_DIR / "models").glob("4_*_add_search_indexes.py")).name
TRIGRAM_INDEXES = {"idx_items_name_trgm", "idx_users_email_trgm"}
# Shorter than a plain CREATE INDEX on the test's 200,000 rows takes: writers would wait.
LOCK_TIMEOUT = 0.5


def _migrations_before_search(tmp_path: Path) -> Path:
    """Our migrations as a deploy before the search indexes shipped them."""
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "models" / SEARCH_MIGRATION).unlink()
    return location


async def _before_search(tmp_path: Path, url: str) -> None:
    location = _migrations_before_search(tmp_path)
    code, out, err = await run(sys.executable, "-c", UPGRADE_FROM, str(location), DATABASE_URL=url)
    assert code == 0, out + err
    await query(
        url,
        "INSERT INTO users (email, hashed_password, is_active, is_superuser, "
        "created_at, updated_at, version, token_version) "
        "VALUES ('w@example.com', 'x', true, false, now(), now(), 1, 0)",
    )


async def _indexes(url: str) -> dict[str, bool]:
    rows = await query(
        url,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname LIKE '%trgm%'",
    )
    return dict(rows)


async def _applied(url: str) -> list[str]:
    return [row[0] for row in await query(url, "SELECT version FROM aerich ORDER BY id")]


async def test_the_search_indexes_build_while_writers_write_without_waiting(tmp_path):
    async with scratch_database(tmp_path) as url:
        await _before_search(tmp_path, url)
        await query(
            url,
            "INSERT INTO items (name, owner_id, created_at, updated_at, version) "
            "SELECT md5(n::text) || md5((n + 1)::text), 1, now(), now(), 1 "
            "FROM generate_series(1, 200000) n",
        )
        done = asyncio.Event()
        written: list[int] = []

        async def writer() -> None:
            # A writer that would wait longer than the migration's lock timeout fails.
            connection = await asyncpg.connect(url)
            await connection.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}s'")
            try:
                while not done.is_set():
                    await connection.execute(
                        "INSERT INTO items (name, owner_id, created_at, updated_at, version) "
                        "VALUES ('live', 1, now(), now(), 1)"
                    )
                    written.append(1)
                    await asyncio.sleep(0.01)
            finally:
                await connection.close()

        writers = [asyncio.create_task(writer()) for _ in range(3)]
        await asyncio.sleep(0.2)
        code, out, err = await manage(
            "migrate", DATABASE_URL=url, MIGRATION_LOCK_TIMEOUT=str(LOCK_TIMEOUT)
        )
        done.set()
        await asyncio.gather(*writers)  # raises if any writer hit its lock timeout

        assert code == 0, out + err
        assert await _indexes(url) == dict.fromkeys(TRIGRAM_INDEXES, True)
        assert len(written) > 3 and SEARCH_MIGRATION in await _applied(url)
        plan = await query(
            url,
            "EXPLAIN SELECT id FROM items "
            "WHERE UPPER(CAST(name AS VARCHAR)) LIKE UPPER('%c4ca4238a0b9%')",
        )
        assert "idx_items_name_trgm" in "\n".join(row[0] for row in plan)


# The failed build's cleanup, waiting for the transactions that blocked the build.
CLEANUP_WAITING = (
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
    "AND state = 'active' AND query LIKE 'DROP INDEX CONCURRENTLY%')"
)


async def test_a_blocked_index_build_gives_up_and_leaves_nothing_half_done(tmp_path):
    async with scratch_database(tmp_path) as url:
        await _before_search(tmp_path, url)
        blocker = await asyncpg.connect(url)
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("UPDATE users SET version = version + 1")  # holds its lock

        migrate = asyncio.create_task(
            manage("migrate", DATABASE_URL=url, MIGRATION_LOCK_TIMEOUT="1")
        )
        # The blocker ends once the build gave up (MIGRATION_LOCK_TIMEOUT=1) and its cleanup
        # waits for it (DROP INDEX CONCURRENTLY), however long the command took to start.
        watcher = await asyncpg.connect(url)
        try:
            while not migrate.done() and not await watcher.fetchval(CLEANUP_WAITING):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        finally:
            await watcher.close()
            await transaction.rollback()
            await blocker.close()
        code, _out, err = await migrate

        assert code == 1
        assert SEARCH_MIGRATION in err and "lock timeout" in err, err
        assert "Traceback" not in err, err
        indexes = await _indexes(url)
        assert "idx_users_email_trgm" not in indexes  # its INVALID index was dropped
        assert indexes.get("idx_items_name_trgm", True)  # built before: valid, or not there
        assert SEARCH_MIGRATION not in await _applied(url)

        code, out, err = await manage("migrate", DATABASE_URL=url)  # once the table is free
        assert code == 0, out + err
        assert await _indexes(url) == dict.fromkeys(TRIGRAM_INDEXES, True)
