"""The `items` table, with the seed's column names."""

from tortoise import fields
from tortoise.models import Model

from app.models.versioned import Versioned


class Item(Versioned, Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, db_index=True)
    description = fields.TextField(null=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(  # noqa: F821
        "models.User", related_name="items", on_delete=fields.CASCADE, db_index=True
    )
    owner_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Bumped by every change, in the same UPDATE that checks it: the ETag / If-Match value.
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "items"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
