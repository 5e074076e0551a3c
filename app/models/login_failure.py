"""Failed-login counters, kept in the database so every worker process shares them."""

from datetime import datetime, timedelta

from tortoise import fields, timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.models import Model


class LoginFailure(Model):
    # One row per (client, account) key that has failed recently.
    key = fields.CharField(max_length=320, primary_key=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField()

    class Meta:
        table = "login_failures"

    @classmethod
    async def retry_after(cls, key: str, max_failures: int, window: timedelta) -> int | None:
        """Seconds until `key` may try again, or None when it is not locked out."""
        row = await cls.get_or_none(key=key)
        if row is None or row.failures < max_failures:
            return None
        remaining = row.window_started_at + window - timezone.now()
        if remaining.total_seconds() <= 0:
            return None
        return max(1, int(remaining.total_seconds() + 0.999))

    @classmethod
    async def record(cls, key: str, window: timedelta) -> None:
        """Count one failure atomically; a window that has passed starts again at 1."""
        now = timezone.now()
        expired_before: datetime = now - window
        restarted = await cls.filter(key=key, window_started_at__lte=expired_before).update(
            failures=1, window_started_at=now
        )
        if restarted:
            return
        if await cls.filter(key=key).update(failures=F("failures") + 1):
            return
        try:
            await cls.create(key=key, failures=1, window_started_at=now)
        except IntegrityError:  # another request created it first: count on that row
            await cls.filter(key=key).update(failures=F("failures") + 1)

    @classmethod
    async def clear(cls, key: str) -> None:
        await cls.filter(key=key).delete()
