"""Hand-written SQL on the Tortoise connection, answered like the ORM's `.values()`.

For the hottest statements only (the token check runs on every request): building a
query through Tortoise costs about as much CPU as the round trip itself. Write `{}` for
each parameter; it becomes `$n` on PostgreSQL and `?` on SQLite. Values are always bound,
never formatted into the SQL.
"""

from functools import lru_cache
from typing import Any

from tortoise.models import Model


@lru_cache(maxsize=64)
def _for_dialect(sql: str, dialect: str, count: int) -> str:
    marks = [f"${n}" for n in range(1, count + 1)] if dialect == "postgres" else ["?"] * count
    return sql.format(*marks)


async def fetch_rows(model: type[Model], sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows as dicts with the model's Python types: asyncpg already returns them; SQLite's
    text and integers go through the fields' own conversion."""
    db = model._meta.db
    dialect = db.capabilities.dialect
    rows = await db.execute_query_dict(_for_dialect(sql, dialect, len(params)), list(params))
    if dialect == "postgres":
        return rows
    fields = model._meta.fields_map
    return [
        {
            key: fields[key].to_python_value(value) if key in fields else value
            for key, value in row.items()
        }
        for row in rows
    ]
