"""Types shared by the request and response schemas."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from app.core.limits import INT32_MAX, SEARCH_TEXT_MAX_LENGTH
from app.models.base import is_loaded

# Answers are read from model objects and carry exactly their fields, so that the schema
# says so (`additionalProperties: false`) and a shape with an embedded relation is told
# apart from the plain one (`oneOf`).
PUBLIC_SHAPE = ConfigDict(from_attributes=True, extra="forbid")

# JSON bodies are taken as typed: `true` is not an id and "1" is not a number.
STRICT_BODY = ConfigDict(strict=True)

DbId = Annotated[int, Field(ge=1, le=INT32_MAX)]

# Text that reaches the database: PostgreSQL refuses NUL characters, so they are invalid input.
NO_NUL = r"^[^\x00]*$"
SearchText = Annotated[str, StringConstraints(max_length=SEARCH_TEXT_MAX_LENGTH, pattern=NO_NUL)]

# A trigram: three letters or digits in a row. A substring search of 3 characters or more
# without one (`%%%...`, `----...`) cannot use the trigram index: PostgreSQL would match the
# whole table, twice (the page and its count), 255 characters a row. Shorter ones (`q=LO`)
# cost a short match a row and are served.
TRIGRAM = re.compile(r"[^\W_]{3}")
UNINDEXED_SEARCH = (
    "q of 3 characters or more must contain 3 letters or digits in a row "
    "(a search without one cannot use the index)"
)


def _indexable(text: str) -> str:
    if len(text) >= 3 and TRIGRAM.search(text) is None:
        raise ValueError(UNINDEXED_SEARCH)
    return text


IndexedSearchText = Annotated[SearchText, AfterValidator(_indexable)]

# ISO 8601 with an explicit UTC offset: 2026-01-31T12:00:00.123456+00:00. The models hold
# timezone-aware UTC datetimes (Tortoise's `use_tz`, asyncpg's TIMESTAMPTZ), so `isoformat`
# writes the offset as is; pydantic's own serialiser would write `Z` instead.
UtcDatetime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ErrorDetail(BaseModel):
    """FastAPI's error shape, for every error but request validation (422)."""

    detail: str


class ValidationErrorEntry(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    """FastAPI's request validation error (422): a list of what is wrong, and where."""

    detail: list[ValidationErrorEntry]


def drop_null_defaults(schema: dict[str, Any]) -> None:
    """Optional fields of a PATCH body are absent, not null: hide the `default: null`."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            del prop["default"]


def embedding(relation: str) -> Discriminator:
    """Chooses the shape of an answer that embeds `relation` only when asked to
    (`include=`): the tag `embedded` when the relation was loaded, else `plain`. Both
    shapes stay in the OpenAPI schema (`oneOf`); one validation picks the right one."""

    def tag(value: Any) -> str:
        if isinstance(value, dict):
            embedded = relation in value
        elif isinstance(value, BaseModel):
            embedded = relation in type(value).model_fields
        else:
            embedded = is_loaded(value, relation)
        return "embedded" if embedded else "plain"

    return Discriminator(tag)
