"""Opaque list cursors: a signed position in one list's order.

A cursor names the list path and the order it was made for, and the last row's order
value and id (the keyset). It is a JWT signed with a key derived from `SECRET_KEY`, so a
client cannot forge or alter one, and an access token is never mistaken for a cursor (or
the other way round): both the key and the claims differ.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import jwt

from app.core.config import get_settings
from app.core.errors import InvalidCursor

ALGORITHM = "HS256"
_TIMESTAMPS = frozenset({"created_at", "updated_at"})
# A signed cursor is ours, but a position is checked all the same (a key that leaked, an
# older release's cursor): what no column can hold would reach SQL as an error, a 500.
_IDS = frozenset({"id"})
ID_RANGE = range(-(2**31), 2**31)  # INTEGER, the ids' column type on both databases
MAX_TEXT_LENGTH = 255  # the longest sortable text column (email, name)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the order's value of its last row, then that row's id."""

    order_by: str
    value: Any
    id: int


@lru_cache
def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"list cursors", hashlib.sha256).digest()


def encode_cursor(path: str, position: Position) -> str:
    value = position.value
    if isinstance(value, datetime):
        value = value.isoformat()
    claims = {"typ": "cursor", "path": path, "o": position.order_by, "v": value, "id": position.id}
    return jwt.encode(claims, _key(get_settings().secret_key), algorithm=ALGORITHM)


def decode_cursor(cursor: str, path: str) -> Position:
    """The position `cursor` names for the list at `path`; 400 for anything else."""
    try:
        claims = jwt.decode(cursor, _key(get_settings().secret_key), algorithms=[ALGORITHM])
        order_by, value, row_id = claims["o"], claims["v"], claims["id"]
        if claims.get("typ") != "cursor" or claims.get("path") != path:
            raise InvalidCursor
        if not (isinstance(order_by, str) and type(row_id) is int and row_id in ID_RANGE):
            raise InvalidCursor
        value = _checked_value(order_by.lstrip("-"), value)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise InvalidCursor from None
    return Position(order_by, value, row_id)


def _checked_value(field: str, value: Any) -> Any:
    """The order's value as its column holds it: an id in INTEGER's range, an aware
    timestamp, or text (null for a nullable one) without NUL that fits the column."""
    if field in _IDS:
        if type(value) is int and value in ID_RANGE:
            return value
    elif field in _TIMESTAMPS:
        moment = datetime.fromisoformat(value)
        if moment.utcoffset() is not None:
            return moment
    elif value is None or (
        isinstance(value, str) and len(value) <= MAX_TEXT_LENGTH and "\x00" not in value
    ):
        return value
    raise InvalidCursor
