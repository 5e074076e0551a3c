"""The `users` table, with the seed's column names."""

from typing import Any

from tortoise import fields
from tortoise.expressions import F
from tortoise.models import Model

from app.db.raw import fetch_rows
from app.models.fields import utc_datetime
from app.models.versioned import Versioned

ROW_SQL = (
    'SELECT "id", "email", "username", "is_active", "is_superuser", "created_at", '
    '"updated_at", "version", "token_version" FROM "users" WHERE "id" = {}'
)


class User(Versioned, Model):
    # Emails are stored lower-cased. Usernames keep their case but are unique
    # case-insensitively through the `username_lower` shadow column.

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=255, unique=True)
    username = fields.CharField(max_length=50, unique=True, null=True)
    username_lower = fields.CharField(max_length=50, unique=True, null=True)
    hashed_password = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    is_superuser = fields.BooleanField(default=False)
    created_at = utc_datetime(auto_now_add=True)
    updated_at = utc_datetime(auto_now=True)
    # Bumped by every change, in the same UPDATE that checks it: the ETag / If-Match value.
    version = fields.IntField(default=1, db_default=1)
    # Bumped when a password changes or the account is deactivated: older tokens stop working.
    token_version = fields.IntField(default=0, db_default=0)

    items: fields.ReverseRelation["Item"]  # noqa: F821

    class Meta:
        table = "users"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email

    async def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the case-folded username in step with `username` on every write."""
        self.email = self.email.lower()
        self.username_lower = self.username.lower() if self.username else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = [*update_fields, "username_lower"]
        await super().save(*args, **kwargs)

    async def apply_changes(
        self, changes: dict[str, Any], if_version: set[int] | None = None
    ) -> bool:
        """As `Versioned.apply_changes`, keeping `username_lower` in step, and revoking
        every token issued before a password change or a deactivation."""
        changes = dict(changes)
        if "username" in changes:
            username = changes["username"]
            changes["username_lower"] = username.lower() if username else None
        if "hashed_password" in changes or changes.get("is_active") is False:
            changes["token_version"] = F("token_version") + 1
        return await super().apply_changes(changes, if_version)

    @classmethod
    async def conflict(
        cls, email: str | None, username: str | None, exclude_id: int | None = None
    ) -> str | None:
        """The contract's message when `email` or `username` is taken by another account.

        A check before writing gives the message; the unique constraints stay the guard
        against races, and this is asked again when one of them fires.
        """
        others = cls.exclude(id=exclude_id) if exclude_id is not None else cls.all()
        if email is not None and await others.filter(email=email.lower()).exists():
            return "Email already registered"
        if username is not None and await others.filter(username_lower=username.lower()).exists():
            return "Username already taken"
        return None

    @classmethod
    async def row(cls, user_id: int) -> dict[str, Any] | None:
        """One user's columns (never the password hash) as a dict. Every authenticated
        request asks this for its caller, so it is one prepared statement, not a query
        built by the ORM each time."""
        rows = await fetch_rows(cls, ROW_SQL, user_id)
        return rows[0] if rows else None

    @classmethod
    async def token_holder(cls, user_id: int, token_version: int) -> dict[str, Any] | None:
        """The row of the active user a token names, if the token is not revoked."""
        row = await cls.row(user_id)
        if row is None or not row["is_active"] or row["token_version"] != token_version:
            return None
        return row

    @classmethod
    async def get_by_login(cls, login: str) -> "User | None":
        """Find the account a login name refers to: an email, or else a username."""
        field = "email" if "@" in login else "username_lower"
        if "\x00" in login or len(login) > cls._meta.fields_map[field].max_length:
            return None  # no account has such a name (and the database would refuse it)
        return await cls.get_or_none(**{field: login.lower()})
