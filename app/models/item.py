"""The `items` table, with the seed's column names."""

from collections.abc import Sequence
from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.db.raw import fetch_rows
from app.models.fields import utc_datetime
from app.models.versioned import Versioned

ROW_SQL = (
    'SELECT "id", "name", "description", "owner_id", "created_at", "updated_at", "version" '
    'FROM "items" WHERE "id" = {}'
)


class Item(Versioned, Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, db_index=True)
    description = fields.TextField(null=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(  # noqa: F821
        "models.User", related_name="items", on_delete=fields.CASCADE, db_index=True
    )
    owner_id: int
    created_at = utc_datetime(auto_now_add=True)
    updated_at = utc_datetime(auto_now=True)
    # Bumped by every change, in the same UPDATE that checks it: the ETag / If-Match value.
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "items"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    async def row(cls, item_id: int) -> dict[str, Any] | None:
        """One item's columns as a dict, by a prepared statement (a hot read)."""
        rows = await fetch_rows(cls, ROW_SQL, item_id)
        return rows[0] if rows else None

    @classmethod
    async def grouped_by_owner(
        cls, owner_ids: list[int], fields: Sequence[str]
    ) -> dict[int, list[dict[str, Any]]]:
        """Every item of these owners as dicts of `fields` (which name `owner_id`), by
        owner, in one query: the reverse relation's prefetch without model objects."""
        groups: dict[int, list[dict[str, Any]]] = {owner_id: [] for owner_id in owner_ids}
        if owner_ids:
            for row in await cls.filter(owner_id__in=owner_ids).order_by("id").values(*fields):
                groups[row["owner_id"]].append(row)
        return groups
