"""All models, imported here so Tortoise and Aerich discover them from `app.models`."""

from app.models.idempotency import IdempotencyKey
from app.models.item import Item
from app.models.login_failure import LoginFailure
from app.models.row_count import RowCount
from app.models.session import Session
from app.models.user import User

__all__ = ["IdempotencyKey", "Item", "LoginFailure", "RowCount", "Session", "User"]
