"""Login attempts per client and account, kept in the database so every worker shares them."""

from datetime import timedelta

from tortoise import fields, timezone
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction


class LoginFailure(Model):
    # One row per (client, account) key with attempts in the current window. An attempt
    # is counted before the password is checked, so parallel guesses cannot slip past
    # the limit; a successful login deletes the row.
    key = fields.CharField(max_length=320, primary_key=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField()

    class Meta:
        table = "login_failures"

    @classmethod
    async def count_attempt(cls, key: str, max_failures: int, window: timedelta) -> int | None:
        """Count one attempt for `key`, atomically. Returns the seconds to wait when the
        attempts in the window exceed `max_failures`, else None."""
        try:
            return await cls._count_attempt(key, max_failures, window)
        except IntegrityError:  # a concurrent attempt created the row first: count on it
            return await cls._count_attempt(key, max_failures, window)

    @classmethod
    async def _count_attempt(cls, key: str, max_failures: int, window: timedelta) -> int | None:
        now = timezone.now()
        async with in_transaction() as connection:
            row = await cls.filter(key=key).select_for_update().using_db(connection).first()
            if row is None:
                # A new row: drop the expired ones too, so unknown logins cannot grow the table.
                await cls.filter(window_started_at__lte=now - window).using_db(connection).delete()
                await cls.create(key=key, failures=1, window_started_at=now, using_db=connection)
                return None
            if row.window_started_at + window <= now:
                row.failures, row.window_started_at = 1, now
            else:
                row.failures += 1
            await row.save(using_db=connection, update_fields=["failures", "window_started_at"])
        if row.failures <= max_failures:
            return None
        remaining = (row.window_started_at + window - now).total_seconds()
        return max(1, int(remaining + 0.999))

    @classmethod
    async def clear(cls, key: str) -> None:
        await cls.filter(key=key).delete()
