"""Types shared by the request and response schemas."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from app.core.limits import INT32_MAX, SEARCH_TEXT_MAX_LENGTH

# JSON bodies are taken as typed: `true` is not an id and "1" is not a number.
STRICT_BODY = ConfigDict(strict=True)

DbId = Annotated[int, Field(ge=1, le=INT32_MAX)]

# Text that reaches the database: PostgreSQL refuses NUL characters, so they are invalid input.
NO_NUL = r"^[^\x00]*$"
SearchText = Annotated[str, StringConstraints(max_length=SEARCH_TEXT_MAX_LENGTH, pattern=NO_NUL)]

# ISO 8601 with an explicit UTC offset: 2026-01-31T12:00:00.123456+00:00.
UtcDatetime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.astimezone(UTC).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ErrorDetail(BaseModel):
    """FastAPI's error shape, for every error but request validation (422)."""

    detail: str


def drop_null_defaults(schema: dict[str, Any]) -> None:
    """Optional fields of a PATCH body are absent, not null: hide the `default: null`."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            del prop["default"]
