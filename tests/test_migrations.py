"""The Aerich migrations: no drift from the models, round trips, failures, concurrent deploys.

Every test that runs a migration tool starts it as a real process, the way a deploy does.
"""

import asyncio
import base64
import json
import os
import shutil
import sys
import zlib
from pathlib import Path

import pytest
from aerich.utils import get_models_describe
from tortoise import connections
from tortoise.utils import get_schema_sql

from app.db.applied import MIGRATIONS_DIR
from app.db.migrations import split_statements
from tests import schema
from tests.support import (
    REPO,
    UPGRADE_FROM,
    is_postgres,
    manage,
    primary_url,
    query,
    run,
    scratch_database,
)

MIGRATION_FILES = sorted(
    (p.name for p in (MIGRATIONS_DIR / "models").glob("[0-9]*_*.py")),
    key=lambda name: int(name.split("_")[0]),
)
DATA_TABLES = ("users", "items", "login_failures", "auth_sessions")
MIGRATION_ONLY_INDEXES = [("items", "idx_items_name_trgm"), ("users", "idx_users_email_trgm")]


# The counts `row_counts` keeps that differ from COUNT(*): users, items, items per owner.
MISCOUNTED = """
SELECT COUNT(*) FROM (
    SELECT 'users' AS t, 0 AS owner_id, COUNT(*) AS n FROM users
    UNION ALL SELECT 'items', 0, COUNT(*) FROM items
    UNION ALL SELECT 'items', owner_id, COUNT(*) FROM items GROUP BY owner_id
) AS counted FULL JOIN (
    SELECT table_name AS t, owner_id, SUM(n) AS n FROM row_counts GROUP BY table_name, owner_id
) AS kept ON kept.t = counted.t AND kept.owner_id = counted.owner_id
WHERE COALESCE(kept.n, 0) <> COALESCE(counted.n, 0)
"""


async def _aerich(url: str, *args: str) -> tuple[int, str, str]:
    return await run(str(Path(sys.executable).parent / "aerich"), *args, DATABASE_URL=url)


# --- no drift -----------------------------------------------------------------------------


async def test_migrated_schema_equals_the_schema_the_models_describe(app, tmp_path):
    """CI fails here when a model changes without a migration (or the other way round)."""
    migrated_url = primary_url()  # built by the migrations for this run
    models_sql = get_schema_sql(connections.get("default"), safe=False)

    async with scratch_database(tmp_path) as models_url:
        for statement in split_statements(models_sql):
            await query(models_url, statement)

        from_models = await schema.describe(models_url)
        from_migrations = await schema.describe(migrated_url)
    # Aerich's own table: the serving app does not load Aerich's model (Aerich keeps it).
    from_migrations.pop("aerich")
    # Indexes the models cannot declare, written by hand into a migration (trigram search).
    for table, index in MIGRATION_ONLY_INDEXES:
        from_migrations.get(table, {}).get("indexes", {}).pop(index, None)

    drift = schema.differences(from_migrations, from_models)
    assert not drift, (
        "The migrated schema differs from the models (changed a model without a "
        f"migration? see README, Migrations): {json.dumps(drift, indent=2, default=str)}"
    )


def test_the_last_migration_records_the_models_as_they_are(app):
    """`aerich migrate` diffs against the newest file's MODELS_STATE: it must be current,
    or the next generated migration would repeat or miss changes."""
    namespace: dict[str, object] = {}
    exec((MIGRATIONS_DIR / "models" / MIGRATION_FILES[-1]).read_text(), namespace)
    recorded = json.loads(zlib.decompress(base64.b64decode(namespace["MODELS_STATE"])))

    current = json.loads(json.dumps(get_models_describe("models")))

    # Aerich's own model is recorded too; the serving app does not load it.
    assert recorded.pop("models.Aerich")["table"] == "aerich"
    assert recorded == current


# --- round trips with data ----------------------------------------------------------------


async def _insert_rows(url: str, tag: str) -> None:
    """Rows valid from the first migration on; later columns must have defaults."""
    now = "2026-01-01 00:00:00+00:00"
    await query(
        url,
        "INSERT INTO users (email, hashed_password, is_active, is_superuser, created_at, "
        f"updated_at) VALUES ('{tag}@example.com', 'x', {_true(url)}, {_false(url)}, "
        f"'{now}', '{now}')",
    )
    await query(
        url,
        "INSERT INTO items (name, owner_id, created_at, updated_at) SELECT "
        f"'{tag}-item', id, '{now}', '{now}' FROM users WHERE email = '{tag}@example.com'",
    )


def _true(url: str) -> str:
    return "TRUE" if is_postgres(url) else "1"


def _false(url: str) -> str:
    return "FALSE" if is_postgres(url) else "0"


async def _rows(url: str) -> list[tuple[str, str]]:
    return await query(
        url,
        "SELECT u.email, i.name FROM users u JOIN items i ON i.owner_id = u.id ORDER BY u.email",
    )


async def test_every_migration_round_trips_and_keeps_existing_rows(tmp_path):
    assert len(MIGRATION_FILES) >= 2
    async with scratch_database(tmp_path) as url:
        code, out, err = await _aerich(url, "upgrade")
        assert code == 0, out + err
        assert all(f"Success upgrading to {name}" in out for name in MIGRATION_FILES)

        # Down one migration at a time to the first, with rows written at every step.
        expected: list[tuple[str, str]] = []
        for name in reversed(MIGRATION_FILES[1:]):
            tag = f"written-at-{name.split('_')[0]}"
            await _insert_rows(url, tag)
            expected = sorted([*expected, (f"{tag}@example.com", f"{tag}-item")])
            code, out, err = await _aerich(url, "downgrade", "--yes")
            assert code == 0 and f"Success downgrading to {name}" in out, out + err
            assert await _rows(url) == expected

        # Up again over those rows: every later migration runs on a table with data.
        code, out, err = await _aerich(url, "upgrade")
        assert code == 0, out + err
        assert await _rows(url) == expected
        # The kept counts (`RowCount`) start from the rows that were already there.
        assert await query(url, MISCOUNTED) == [(0,)]
        code, out, _ = await _aerich(url, "heads")
        assert "No available heads" in out

        # The first migration's downgrade drops everything it made, cleanly.
        code, out, err = await _aerich(url, "downgrade", "--version", "0", "--yes")
        assert code == 0, out + err
        for table in DATA_TABLES:
            with pytest.raises(Exception, match=table):
                await query(url, f"SELECT 1 FROM {table}")
        code, out, err = await _aerich(url, "upgrade")
        assert code == 0 and f"Success upgrading to {MIGRATION_FILES[0]}" in out, out + err


async def test_aerich_verbs_work_from_the_repository_root(tmp_path):
    async with scratch_database(tmp_path) as url:
        history = await _aerich(url, "history")
        await _aerich(url, "upgrade")
        await _aerich(url, "downgrade", "--yes")
        heads_one_down = await _aerich(url, "heads")
        await _aerich(url, "upgrade")
        heads_after = await _aerich(url, "heads")

    assert history[0] == 0 and history[1].split() == MIGRATION_FILES
    assert heads_one_down[1].split() == MIGRATION_FILES[-1:]
    assert "No available heads" in heads_after[1]


# --- status for deploys -------------------------------------------------------------------


async def test_migrations_status_exits_nonzero_until_the_database_is_at_head(tmp_path):
    async with scratch_database(tmp_path) as url:
        pending = await manage("migrations", "status", DATABASE_URL=url)
        migrated = await manage("migrate", DATABASE_URL=url)
        at_head = await manage("migrations", "status", DATABASE_URL=url)

    assert pending[0] == 1 and f"{len(MIGRATION_FILES)} pending" in pending[1]
    assert migrated[0] == 0
    assert at_head[0] == 0 and "at head" in at_head[1]
    assert all(f"[x] {name}" in at_head[1] for name in MIGRATION_FILES)


# --- failures and concurrency -------------------------------------------------------------


def _migrations_with(tmp_path: Path, name: str, upgrade_sql: str) -> Path:
    """A copy of our migrations plus one more, as a deploy would ship it."""
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "models" / name).write_text(
        "async def upgrade(db):\n"
        f"    return {upgrade_sql!r}\n\n\n"
        "async def downgrade(db):\n"
        "    return ''\n"
    )
    return location


async def test_a_failing_migration_changes_nothing_and_names_its_statement(tmp_path):
    broken = "9_20990101000000_broken.py"
    location = _migrations_with(
        tmp_path,
        broken,
        'ALTER TABLE "items" ADD "half_done" INT;\n'
        'CREATE INDEX "idx_half_done" ON "items" ("half_done");\n'
        'UPDATE "no_such_table" SET x = 1;\n',
    )
    async with scratch_database(tmp_path) as url:
        code, _out, err = await run(
            sys.executable, "-c", UPGRADE_FROM, str(location), DATABASE_URL=url
        )

        assert code != 0
        assert broken in err and 'UPDATE "no_such_table" SET x = 1' in err
        described = await schema.describe(url)
        assert "half_done" not in described["items"]["columns"]
        assert "idx_half_done" not in described["items"]["indexes"]
        versions = [row[0] for row in await query(url, "SELECT version FROM aerich ORDER BY id")]
        assert versions == MIGRATION_FILES  # the good ones before it stay applied, once


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="concurrent deploys need PostgreSQL"
)
async def test_three_concurrent_upgrades_apply_each_migration_exactly_once(tmp_path):
    slow = "9_20990101000000_slow_data_migration.py"
    location = _migrations_with(
        tmp_path,
        slow,
        'CREATE TABLE IF NOT EXISTS "deploy_runs" ("id" SERIAL PRIMARY KEY);\n'
        'INSERT INTO "deploy_runs" DEFAULT VALUES;\n'
        "SELECT pg_sleep(1);\n",
    )
    async with scratch_database(tmp_path) as url:
        results = await asyncio.gather(
            *(
                run(sys.executable, "-c", UPGRADE_FROM, str(location), DATABASE_URL=url)
                for _ in range(3)
            )
        )

        assert [code for code, _, _ in results] == [0, 0, 0], results
        applied = [out.split()[1:] for _, out, _ in results]
        assert sorted(len(files) for files in applied) == [0, 0, len(MIGRATION_FILES) + 1]
        versions = await query(url, "SELECT version, COUNT(*) FROM aerich GROUP BY version")
        assert sorted(versions) == sorted((name, 1) for name in [*MIGRATION_FILES, slow])
        assert await query(url, 'SELECT COUNT(*) FROM "deploy_runs"') == [(1,)]


# --- writing migrations -------------------------------------------------------------------


def _project_copy(tmp_path: Path, model_edit: tuple[str, str]) -> Path:
    """The app and its migrations in a scratch folder, with one model edited."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "app", copy / "app", ignore=ignore)
    shutil.copytree(MIGRATIONS_DIR, copy / "migrations", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", copy)
    model = copy / "app" / "models" / "item.py"
    old, new = model_edit
    assert old in model.read_text()
    model.write_text(model.read_text().replace(old, new))
    return copy


async def test_makemigration_writes_one_file_that_migrates_both_databases(tmp_path):
    version_field = "    version = fields.IntField(default=1, db_default=1)\n"
    copy = _project_copy(
        tmp_path,
        (version_field, version_field + "    color = fields.CharField(max_length=20, null=True)\n"),
    )

    code, out, err = await manage("makemigration", "add_item_color", cwd=copy)

    assert code == 0, out + err
    (written,) = (copy / "migrations" / "models").glob("*_add_item_color.py")
    # Aerich numbers the next migration after the last one (numbers may have gaps).
    last_number = max(int(name.split("_")[0]) for name in MIGRATION_FILES)
    assert written.name.startswith(f"{last_number + 1}_")
    assert 'ADD "color" VARCHAR(20)' in written.read_text()
    async with scratch_database(tmp_path) as url:
        assert (await manage("migrate", cwd=copy, DATABASE_URL=url))[0] == 0
        assert "color" in (await schema.describe(url))["items"]["columns"]
        status = await manage("migrations", "status", cwd=copy, DATABASE_URL=url)
        assert status[0] == 0
    again = await manage("makemigration", "nothing_new", cwd=copy)
    assert again[0] == 0 and "No changes" in again[1]


async def test_makemigration_refuses_what_aerich_cannot_write_for_sqlite(tmp_path):
    copy = _project_copy(
        tmp_path,
        (
            "fields.CharField(max_length=255, db_index=True)",
            "fields.CharField(max_length=300, db_index=True)",
        ),
    )

    code, _, err = await manage("makemigration", "longer_names", cwd=copy)

    assert code == 1 and "sqlite" in err.lower()
    assert sorted(p.name for p in (copy / "migrations" / "models").glob("[0-9]*.py")) == sorted(
        MIGRATION_FILES
    )
