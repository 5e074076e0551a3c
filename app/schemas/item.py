"""The Item resource as clients see it, and the bodies that change it."""

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, Tag, field_validator

from app.schemas.common import (
    NO_NUL,
    PUBLIC_SHAPE,
    STRICT_BODY,
    DbId,
    UtcDatetime,
    drop_null_defaults,
    embedding,
)

if TYPE_CHECKING:
    from app.schemas.user import UserPublic

ItemName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
ItemDescription = Annotated[str, StringConstraints(max_length=10_000, pattern=NO_NUL)]


class ItemCreate(BaseModel):
    model_config = STRICT_BODY

    name: ItemName
    description: ItemDescription | None = None


class ItemUpdate(BaseModel):
    """Any of the fields; `description: null` clears it. The owner changes only by transfer."""

    model_config = ConfigDict(strict=True, json_schema_extra=drop_null_defaults)

    name: ItemName = None  # type: ignore[assignment]
    description: ItemDescription | None = None


class ItemTransfer(BaseModel):
    model_config = STRICT_BODY

    item_ids: list[DbId] = Field(
        min_length=1, max_length=100, json_schema_extra={"uniqueItems": True}
    )
    new_owner_id: DbId

    @field_validator("item_ids")
    @classmethod
    def _distinct(cls, item_ids: list[int]) -> list[int]:
        if len(set(item_ids)) != len(item_ids):
            raise ValueError("item_ids must be distinct")
        return item_ids


class ItemPublic(BaseModel):
    model_config = PUBLIC_SHAPE

    id: int
    name: str
    description: str | None
    owner_id: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ItemWithOwner(ItemPublic):
    """An item with its owner, for `include=owner` (loaded by a join)."""

    owner: "UserPublic"


# An item as `GET /items/...` answers it: with its owner when `include=owner`.
ItemRead = Annotated[
    Annotated[ItemWithOwner, Tag("embedded")] | Annotated[ItemPublic, Tag("plain")],
    embedding("owner"),
]
