"""Released migrations run the SQL they always ran.

Databases already migrated hold what migrations 5 and 6 created, so their SQL is pinned
here, per dialect, by its SHA-256: moving it (into app/db/sql/row_counts.py) or reformatting
it must leave every byte a migration returns as it was. A change of behaviour is a new
migration. (The effect itself is tested by test_migrations.py and test_row_counts.py.)
"""

import hashlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

import pytest

from app.db.migrations import MIGRATIONS_DIR, split_statements
from app.db.sql import row_counts

RELEASED_SQL_SHA256 = {  # (migration, dialect, direction): the SQL's hash since its release
    ("5", "sqlite", "upgrade"): "d86c66ce7ee965e153a52447560f4f38b4d21da0ddfd19912dc8deff09119318",
    (
        "5",
        "sqlite",
        "downgrade",
    ): "a4563fe88585f86c5b691eeaf44ddc759c7023000dd954aebc0188b22b095914",
    (
        "5",
        "postgres",
        "upgrade",
    ): "890cc81687635357dfe687e850e88333b16e2da1e3a2c464317243f65af438d7",
    (
        "5",
        "postgres",
        "downgrade",
    ): "ce1e03219725ad95e1b2c959786947153b33c9bf77949171702817492f6084e2",
    ("6", "sqlite", "upgrade"): "e004ebd5b5532a4b85984a62f8ad48a81aa3460c1ca07701f386135d72cdecf5",
    (
        "6",
        "sqlite",
        "downgrade",
    ): "e004ebd5b5532a4b85984a62f8ad48a81aa3460c1ca07701f386135d72cdecf5",
    (
        "6",
        "postgres",
        "upgrade",
    ): "b151dd45252087d7fa0ba0eeffc5f414b24f838945d62fe85a8466b5376e4bb5",
    (
        "6",
        "postgres",
        "downgrade",
    ): "515ce15f1dc3451f46dd8d7e5f91b6a9a1e91e516cc9a8b1f94d2df141253993",
}


@dataclass
class _Capabilities:
    dialect: str


class _OfflineClient:
    """What migrations 5 and 6 ask of their client: the dialect, and (6) the schema."""

    def __init__(self, dialect: str) -> None:
        self.capabilities = _Capabilities(dialect)

    async def execute_query_dict(self, sql: str) -> list[dict[str, str]]:
        assert sql == "SELECT current_schema() AS name"
        return [{"name": "public"}]


def _migration(number: str) -> ModuleType:
    (path,) = (MIGRATIONS_DIR / "models").glob(f"{number}_*.py")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("number", "dialect", "direction"), sorted(RELEASED_SQL_SHA256))
async def test_a_released_migration_returns_the_sql_it_was_released_with(
    number: str, dialect: str, direction: str
) -> None:
    sql = await getattr(_migration(number), direction)(_OfflineClient(dialect))

    assert (
        hashlib.sha256(sql.encode()).hexdigest() == RELEASED_SQL_SHA256[number, dialect, direction]
    ), f"migration {number}'s {dialect} {direction} SQL changed: write a new migration instead"


def test_each_trigger_and_function_is_one_statement_under_its_own_name() -> None:
    named = {
        **row_counts.SQLITE_TRIGGERS,
        **row_counts.POSTGRES_FUNCTIONS,
        **{name: sql for name, (_, sql) in row_counts.POSTGRES_TRIGGERS.items()},
    }
    for name, statement in named.items():
        assert len(split_statements(statement)) == 1, name
        assert statement.startswith((f'CREATE TRIGGER "{name}"', f"CREATE TRIGGER {name} ")) or (
            statement.startswith(f"CREATE FUNCTION {name}()")
        ), name
