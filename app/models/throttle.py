"""Attempts counted per key in a time window, kept in the database so every worker shares
them: failed logins (`LoginFailure`) and asked-for mails (`MailRequest`)."""

from datetime import timedelta

from tortoise import fields, timezone
from tortoise.transactions import in_transaction

from app.db.replicas import PRIMARY
from app.models.base import AppModel


class WindowCounter(AppModel):
    # One row per key with attempts in the current window. An attempt is counted before
    # what it guards is done, so parallel attempts cannot slip past the limit.
    key = fields.CharField(max_length=320, primary_key=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField()

    class Meta:
        abstract = True

    @classmethod
    async def count_attempt(cls, key: str, max_failures: int, window: timedelta) -> int | None:
        """Count one attempt for `key`, atomically. Returns the seconds to wait when the
        attempts in the window exceed `max_failures`, else None.

        The row is made sure to exist by an INSERT that ignores a conflict (so parallel
        first attempts never collide), then counted under its lock. A successful login
        may delete it in between: then the attempt is counted on a new row.
        """
        while True:
            now = timezone.now()
            async with in_transaction(PRIMARY) as connection:
                fresh = cls(key=key, failures=0, window_started_at=now)
                await cls.bulk_create([fresh], ignore_conflicts=True, using_db=connection)
                row = await cls.filter(key=key).select_for_update().using_db(connection).first()
                if row is None:
                    continue  # cleared by a successful login since the INSERT: again
                if row.failures == 0:
                    # A new row: drop the expired ones too, so unknown logins cannot grow
                    # the table.
                    expired = cls.filter(window_started_at__lte=now - window)
                    await expired.using_db(connection).delete()
                if row.window_started_at + window <= now:
                    row.failures, row.window_started_at = 1, now
                else:
                    row.failures += 1
                await row.save(using_db=connection, update_fields=["failures", "window_started_at"])
            break
        if row.failures <= max_failures:
            return None
        remaining = (row.window_started_at + window - now).total_seconds()
        return max(1, int(remaining + 0.999))

    @classmethod
    async def clear(cls, key: str) -> None:
        await cls.filter(key=key).delete()


class LoginFailure(WindowCounter):
    # Keyed by (client, account). A successful login deletes the row.

    class Meta:
        table = "login_failures"


class MailRequest(WindowCounter):
    # Keyed by the purpose and the normalised email (password reset) or the account
    # (verification): one mail per window, whichever worker is asked.

    class Meta:
        table = "mail_requests"
