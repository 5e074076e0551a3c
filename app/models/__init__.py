"""All models, imported here so Tortoise and Aerich discover them from `app.models`."""

from app.models.account_token import AccountToken
from app.models.idempotency import IdempotencyKey
from app.models.item import Item
from app.models.outbox import OutboxMail
from app.models.row_count import RowCount
from app.models.session import Session
from app.models.throttle import LoginFailure, MailRequest
from app.models.user import User

__all__ = [
    "AccountToken",
    "IdempotencyKey",
    "Item",
    "LoginFailure",
    "MailRequest",
    "OutboxMail",
    "RowCount",
    "Session",
    "User",
]
