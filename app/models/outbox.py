"""The mail outbox: mails written in the transaction of what caused them, sent after it
commits by the sender task (app/core/outbox.py) of any worker, retried until they go."""

from datetime import datetime, timedelta

from tortoise import BaseDBAsyncClient, connections, fields, timezone
from tortoise.expressions import F

from app.core.mail import Mail, seal
from app.db.replicas import PRIMARY
from app.models.base import AppModel
from app.models.fields import utc_datetime


class OutboxMail(AppModel):
    # `body` is the sealed mail (app/core/mail.py: encrypted, it holds a token), cleared
    # once sent. A row is due when `next_attempt_at` has passed; claiming it moves that
    # forward by a lease, in a conditional UPDATE, so one worker at a time sends it, and
    # a worker that dies mid-send leaves it to be claimed again when the lease ends.

    id = fields.IntField(primary_key=True)
    recipient = fields.CharField(max_length=255)
    body = fields.TextField(null=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = utc_datetime()
    sent_at = utc_datetime(null=True)
    created_at = utc_datetime(auto_now_add=True)

    class Meta:
        table = "outbox_mails"
        indexes = (("sent_at", "next_attempt_at"),)

    @classmethod
    async def enqueue(cls, mail: Mail, using_db: BaseDBAsyncClient) -> None:
        """Write the mail in the caller's transaction: it exists if and only if that
        transaction commits."""
        await cls.create(
            recipient=mail.to, body=seal(mail), next_attempt_at=timezone.now(), using_db=using_db
        )

    @classmethod
    async def claim_due(cls, lease: timedelta, limit: int = 20) -> list["OutboxMail"]:
        """The due mails this worker now holds for `lease`: each one claimed by an UPDATE
        that only succeeds while it is still due, so two workers never both hold it."""
        now = timezone.now()
        due = cls.filter(sent_at=None, next_attempt_at__lte=now).order_by("next_attempt_at", "id")
        # On the primary: a replica may not have the mail just committed yet.
        candidates = await due.limit(limit).using_db(connections.get(PRIMARY))
        claimed = []
        for mail in candidates:
            # Still due: another worker's claim moved it past `now`, and this one fails.
            held = cls.filter(id=mail.id, sent_at=None, next_attempt_at__lte=now)
            if await held.update(next_attempt_at=now + lease, attempts=F("attempts") + 1):
                mail.attempts += 1
                claimed.append(mail)
        return claimed

    @classmethod
    async def next_due_at(cls) -> datetime | None:
        """When the next unsent mail falls due (a retry, or a lease's end), if any."""
        first = (
            cls.filter(sent_at=None).order_by("next_attempt_at").using_db(connections.get(PRIMARY))
        )
        mail = await first.only("id", "next_attempt_at").first()
        return mail.next_attempt_at if mail else None

    async def mark_sent(self) -> None:
        await OutboxMail.filter(id=self.id).update(sent_at=timezone.now(), body=None)

    async def retry_later(self, base_seconds: float, max_seconds: float) -> timedelta:
        """Due again after a backoff that doubles with each attempt; returns the delay."""
        delay = timedelta(seconds=min(base_seconds * 2 ** (self.attempts - 1), max_seconds))
        await OutboxMail.filter(id=self.id).update(next_attempt_at=timezone.now() + delay)
        return delay

    async def drop_unreadable(self) -> None:
        """Sealed under an earlier SECRET_KEY: it can never be sent; kept as sent, empty."""
        await self.mark_sent()

    @classmethod
    async def purge_sent(cls, older_than: timedelta) -> int:
        return await cls.filter(sent_at__lte=timezone.now() - older_than).delete()
