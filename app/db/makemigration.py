"""`python -m app makemigration NAME`: one migration file that works on SQLite and PostgreSQL.

Aerich writes a migration's SQL for the dialect of the database it is configured for.
This runs `aerich migrate --offline` (no database needed: the models are compared with
the newest file's MODELS_STATE) once per dialect, each in a scratch copy of
`migrations/`, and merges the two results into one file that returns the statements
for the connection it is given.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from aerich.utils import import_py_file

from app.db.applied import MIGRATIONS_DIR

REPO = MIGRATIONS_DIR.parent
# Offline generation only needs the engine: nothing connects to these.
DIALECT_URLS = {
    "sqlite": "sqlite://:memory:",
    "postgres": "postgres://offline@127.0.0.1:1/offline",
}


class MakeMigrationError(Exception):
    pass


def _generate(dialect: str, name: str, scratch: Path) -> Path | None:
    """Aerich's migration for one dialect, in a copy of migrations/; None if no changes."""
    location = scratch / dialect
    shutil.copytree(MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    (scratch / f"{dialect}.toml").write_text(
        "[tool.aerich]\n"
        'tortoise_orm = "app.db.config.TORTOISE_ORM"\n'
        f'location = "{location}"\n'
        f'src_folder = "{REPO}"\n'
    )
    before = set((location / "models").glob("*.py"))
    aerich = str(Path(sys.executable).parent / "aerich")
    config = str(scratch / f"{dialect}.toml")
    result = subprocess.run(
        [aerich, "-c", config, "migrate", "--offline", "--name", name],
        cwd=REPO,
        # Only this scratch database: no replicas, no other migrations database.
        env={
            **os.environ,
            "DATABASE_URL": DIALECT_URLS[dialect],
            "DATABASE_REPLICA_URLS": "",
            "MIGRATIONS_DATABASE_URL": "",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise MakeMigrationError(
            f"aerich could not write the {dialect} migration; write that part by hand "
            f"(a table rebuild on SQLite, for example):\n{result.stdout}{result.stderr}"
        )
    created = set((location / "models").glob("*.py")) - before
    return created.pop() if created else None


def _sql(module: ModuleType) -> tuple[str, str]:
    async def both() -> tuple[str, str]:
        return await module.upgrade(None), await module.downgrade(None)

    return asyncio.run(both())


def _render(name: str, sql: dict[str, tuple[str, str]], models_state: str) -> str:
    """The merged file: one SQL text when the dialects agree, one per dialect otherwise."""
    (sqlite_up, sqlite_down), (pg_up, pg_down) = sql["sqlite"], sql["postgres"]
    header = (
        f'"""{name}: generated for SQLite and PostgreSQL by `python -m app makemigration`."""'
        "\n\nfrom tortoise import BaseDBAsyncClient\n\nRUN_IN_TRANSACTION = True\n\n"
    )
    if (sqlite_up, sqlite_down) == (pg_up, pg_down):
        body = (
            f'\nasync def upgrade(db: BaseDBAsyncClient) -> str:\n    return """{pg_up}"""\n\n\n'
            f'async def downgrade(db: BaseDBAsyncClient) -> str:\n    return """{pg_down}"""\n'
        )
    else:
        body = (
            f'UPGRADE = {{\n    "sqlite": """{sqlite_up}""",\n    "postgres": """{pg_up}""",\n}}\n'
            f'DOWNGRADE = {{\n    "sqlite": """{sqlite_down}""",\n'
            f'    "postgres": """{pg_down}""",\n}}\n\n\n'
            "async def upgrade(db: BaseDBAsyncClient) -> str:\n"
            "    return UPGRADE[db.capabilities.dialect]\n\n\n"
            "async def downgrade(db: BaseDBAsyncClient) -> str:\n"
            "    return DOWNGRADE[db.capabilities.dialect]\n"
        )
    return f"{header}{body}\n\nMODELS_STATE = {models_state!r}\n"


def make_migration(name: str) -> Path | None:
    """Write the merged migration into migrations/models/; None when nothing changed."""
    with tempfile.TemporaryDirectory(prefix="makemigration-") as scratch:
        generated = {d: _generate(d, name, Path(scratch)) for d in DIALECT_URLS}
        if not any(generated.values()):
            return None
        if not all(generated.values()):
            raise MakeMigrationError(f"only some dialects saw changes: {generated}")
        modules = {d: import_py_file(path) for d, path in generated.items()}
        sql = {d: _sql(module) for d, module in modules.items()}
        target = MIGRATIONS_DIR / "models" / generated["postgres"].name
        target.write_text(_render(name, sql, modules["postgres"].MODELS_STATE))
        return target
