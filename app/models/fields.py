"""Field helpers shared by the models."""

from typing import Any

from tortoise import fields


def utc_datetime(**kwargs: Any) -> fields.DatetimeField:
    """A DatetimeField that takes the driver's value as it is when the driver returns
    datetimes natively: asyncpg gives timezone-aware UTC datetimes for TIMESTAMPTZ, so
    Tortoise's per-value conversion (the larger part of what a page of rows costs) is
    skipped on PostgreSQL. SQLite returns text, which is still converted. The schema, and
    what Aerich records, are those of a plain DatetimeField."""
    field = fields.DatetimeField(**kwargs)
    field.skip_to_python_if_native = True
    return field
