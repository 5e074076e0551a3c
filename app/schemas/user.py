"""The User resource as clients see it, and the bodies that create or change it."""

from collections.abc import Iterable
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from app.core.emails import normalize_email
from app.schemas.common import PUBLIC_SHAPE, STRICT_BODY, UtcDatetime, drop_null_defaults, embedding
from app.schemas.item import ItemCreate, ItemPublic, ItemWithOwner

# EmailStr for the schema and its message; stored in the one normalised form.
Email = Annotated[EmailStr, AfterValidator(normalize_email)]
Username = Annotated[
    str, StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    """Sign-up. Unknown fields such as `is_superuser` are ignored, never applied."""

    model_config = STRICT_BODY

    email: Email
    password: Password
    username: Username | None = None
    items: list[ItemCreate] = Field(default_factory=list, max_length=100)


class UserUpdate(BaseModel):
    """Any of the fields; `username: null` removes the username. Only a superuser may
    change `is_active` or `is_superuser`."""

    model_config = ConfigDict(strict=True, json_schema_extra=drop_null_defaults)

    email: Email = None  # type: ignore[assignment]
    username: Username | None = None
    password: Password = None  # type: ignore[assignment]
    is_active: bool = None  # type: ignore[assignment]
    is_superuser: bool = None  # type: ignore[assignment]


class UserPublic(BaseModel):
    model_config = PUBLIC_SHAPE

    id: int
    email: str
    username: str | None
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class UserWithItems(UserPublic):
    """A user with their first items, for `include=items` (`UserQuerySet.with_items`)."""

    items: list[ItemPublic]

    @field_validator("items", mode="before")
    @classmethod
    def _fetched_relation_to_list(cls, items: Iterable[object]) -> list[object]:
        return list(items)


ItemWithOwner.model_rebuild()

# A user as `GET /users/...` answers it: with their items when `include=items`.
UserRead = Annotated[
    Annotated[UserWithItems, Tag("embedded")] | Annotated[UserPublic, Tag("plain")],
    embedding("items"),
]
