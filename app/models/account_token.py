"""Single-use tokens mailed to account owners: password reset and email verification.

Only the SHA-256 of a token is stored (a token is 32 random bytes, so its hash cannot be
guessed back); the mail carrying the token is written to the outbox in the same
transaction as the token's row.
"""

import hashlib
import secrets
from datetime import timedelta

from tortoise import BaseDBAsyncClient, fields, timezone
from tortoise.transactions import in_transaction

from app.core.config import get_settings
from app.core.errors import InvalidToken
from app.core.mail import compose
from app.core.mail_templates import RESET, VERIFY
from app.db.replicas import PRIMARY
from app.models.base import AppModel
from app.models.fields import utc_datetime
from app.models.outbox import OutboxMail
from app.models.user import User

# No token this service makes is longer; longer input is refused before hashing.
MAX_TOKEN_LENGTH = 100


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class AccountToken(AppModel):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="account_tokens", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    purpose = fields.CharField(max_length=20)  # RESET or VERIFY (app/core/mail_templates.py)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The address the token was mailed to: it only works while the account still has it.
    email = fields.CharField(max_length=255)
    expires_at = utc_datetime()
    used_at = utc_datetime(null=True)
    created_at = utc_datetime(auto_now_add=True)

    class Meta:
        table = "account_tokens"

    @classmethod
    async def mail_to(cls, user: User, purpose: str, using_db: BaseDBAsyncClient) -> str:
        """Make a token for `user` and put the mail carrying it in the outbox, both in the
        caller's transaction (nothing is sent if it rolls back); answers the token."""
        settings = get_settings()
        minutes = (
            settings.password_reset_minutes
            if purpose == RESET
            else settings.email_verification_minutes
        )
        token = secrets.token_urlsafe(32)
        await cls.create(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_digest(token),
            email=user.email,
            expires_at=timezone.now() + timedelta(minutes=minutes),
            using_db=using_db,
        )
        await OutboxMail.enqueue(compose(purpose, user.email, token, minutes), using_db)
        return token

    @classmethod
    async def redeem(cls, token: str, purpose: str, using_db: BaseDBAsyncClient) -> User:
        """Use `token` up, in the caller's transaction, and answer its user, locked;
        InvalidToken when it is unknown, used, expired, or no longer fits its account
        (deactivated, or its email changed since).

        The user's row is locked before the token's (the service's lock order: users
        first); the token is used by one conditional UPDATE (unused and unexpired), so of
        two concurrent redeems exactly one succeeds. A refusal after it rolls it back."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken
        digest = token_digest(token)
        found = await cls.filter(token_hash=digest, purpose=purpose).using_db(using_db).first()
        if found is None:
            raise InvalidToken
        locked = User.filter(id=found.user_id).select_for_update().using_db(using_db)
        user = await locked.first()
        now = timezone.now()
        unused = cls.filter(id=found.id, used_at=None, expires_at__gt=now).using_db(using_db)
        if not await unused.update(used_at=now):
            raise InvalidToken
        if user is None or not user.is_active or user.email != found.email:
            raise InvalidToken
        return user

    @classmethod
    async def request_password_reset(cls, email: str) -> None:
        """Mail a reset token to the active account with this (normalised) email, if any."""
        async with in_transaction(PRIMARY) as connection:
            users = User.filter(email=email, is_active=True).using_db(connection)
            if user := await users.first():
                await cls.mail_to(user, RESET, connection)

    @classmethod
    async def reset_password(cls, token: str, hashed_password: str) -> None:
        """Set the password: its token version moves on, so every session ends; the
        user's other reset tokens are used up too. The email is verified as well: the
        token was read from its mailbox (the way in for an unverified account that
        REQUIRE_VERIFIED_EMAIL keeps from signing in)."""
        async with in_transaction(PRIMARY) as connection:
            user = await cls.redeem(token, RESET, connection)
            changes = {"hashed_password": hashed_password, "is_verified": True}
            await user.apply_changes(changes, None, connection)
            others = cls.filter(user_id=user.id, purpose=RESET, used_at=None)
            await others.using_db(connection).update(used_at=timezone.now())

    @classmethod
    async def request_verification(cls, caller: User) -> bool:
        """Mail a new verification token to the caller; False when already verified."""
        async with in_transaction(PRIMARY) as connection:
            user, _ = await User.lock_acting(caller, using_db=connection)
            if user.is_verified:
                return False
            await cls.mail_to(user, VERIFY, connection)
        return True

    @classmethod
    async def verify_email(cls, token: str) -> User:
        async with in_transaction(PRIMARY) as connection:
            user = await cls.redeem(token, VERIFY, connection)
            if not user.is_verified:
                await user.apply_changes({"is_verified": True}, None, connection)
        return user
