"""Read a database's schema into plain data, to compare two databases.

Columns (type, nullability, default), indexes (columns, uniqueness), unique and primary
keys, and foreign keys with their ON DELETE, for every table.
"""

from typing import Any

from tests.support import is_postgres, query

Schema = dict[str, Any]

PG_COLUMNS = """
SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,
       column_default
FROM information_schema.columns WHERE table_schema = 'public'
"""
PG_INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary,
       array_to_string(array(
           SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n
       ), ',')
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
"""
PG_FOREIGN_KEYS = """
SELECT conrelid::regclass::text, pg_get_constraintdef(oid)
FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace
"""


async def describe(url: str) -> Schema:
    if is_postgres(url):
        return await _describe_postgres(url)
    return await _describe_sqlite(url)


async def _describe_postgres(url: str) -> Schema:
    schema: Schema = {}
    for table, column, data_type, length, nullable, default in await query(url, PG_COLUMNS):
        schema.setdefault(table, _empty())["columns"][column] = (
            data_type,
            length,
            nullable == "YES",
            default,
        )
    for table, name, unique, primary, columns in await query(url, PG_INDEXES):
        # Constraint-backed indexes take generated names: compare what they index.
        key = name if not (unique or primary) else f"{'pk' if primary else 'unique'}:{columns}"
        schema[table]["indexes"][key] = (columns, unique, primary)
    for table, definition in await query(url, PG_FOREIGN_KEYS):
        schema[table]["foreign_keys"].add(definition)
    return schema


async def _describe_sqlite(url: str) -> Schema:
    schema: Schema = {}
    tables = await query(
        url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in tables:
        described = schema.setdefault(table, _empty())
        for _, column, data_type, notnull, default, pk in await query(
            url, f"PRAGMA table_info('{table}')"
        ):
            described["columns"][column] = (data_type.upper(), not notnull, default, pk)
        for _, name, unique, origin, _ in await query(url, f"PRAGMA index_list('{table}')"):
            columns = ",".join(row[2] for row in await query(url, f"PRAGMA index_info('{name}')"))
            # SQLite names the indexes behind UNIQUE itself: compare what they index.
            key = name if origin == "c" else f"{origin}:{columns}"
            described["indexes"][key] = (columns, bool(unique), origin)
        for row in await query(url, f"PRAGMA foreign_key_list('{table}')"):
            _, _, target, source, target_column, on_update, on_delete, _ = row
            described["foreign_keys"].add((source, target, target_column, on_update, on_delete))
    return schema


def _empty() -> Schema:
    return {"columns": {}, "indexes": {}, "foreign_keys": set()}


def differences(migrated: Schema, modelled: Schema) -> dict[str, Any]:
    """What each side has that the other lacks, by table and part; empty when equal."""
    drift: dict[str, Any] = {}
    for table in sorted(set(migrated) | set(modelled)):
        if table not in migrated or table not in modelled:
            drift[table] = "only in the migrations" if table in migrated else "only in the models"
            continue
        for part in ("columns", "indexes", "foreign_keys"):
            ours, theirs = migrated[table][part], modelled[table][part]
            if ours == theirs:
                continue
            if isinstance(ours, dict):
                ours, theirs = set(ours.items()), set(theirs.items())
            drift.setdefault(table, {})[part] = {
                "migrations": sorted(map(str, ours - theirs)),
                "models": sorted(map(str, theirs - ours)),
            }
    return drift
