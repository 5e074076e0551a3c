"""Which migrations exist and which a database has applied, read without Aerich: the
serving app asks this for `/health/ready`, and Aerich (with its migration planner and
numpy, through dictdiffer: about 11 MB and half a second per process) is loaded only by
the migration tooling (`app/db/migrations.py`, `app/db/makemigration.py`)."""

from pathlib import Path

from tortoise import BaseDBAsyncClient
from tortoise.exceptions import OperationalError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def migration_files(location: Path = MIGRATIONS_DIR) -> list[str]:
    """The migration files, in the order they apply."""
    names = (path.name for path in (location / "models").glob("[0-9]*_*.py"))
    return sorted(names, key=lambda name: int(name.split("_")[0]))


async def pending_migrations(db: BaseDBAsyncClient) -> list[str]:
    """The migration files not yet applied to the database `db` reaches, read with that
    connection from Aerich's own table (for `/health/ready`, inside the running app)."""
    try:
        rows = await db.execute_query_dict("SELECT version FROM aerich WHERE app = 'models'")
    except OperationalError:  # no `aerich` table: nothing applied
        return migration_files()
    applied = {row["version"] for row in rows}
    return [name for name in migration_files() if name not in applied]
