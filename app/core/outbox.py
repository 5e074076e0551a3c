"""The outbox sender: one task per worker, started by the app's lifespan, that delivers
the mails of `outbox_mails` (app/models/outbox.py) after the transactions that wrote them.

Woken in-process right after such a commit (`wake()`), it also looks every
MAIL_POLL_SECONDS for mails that other workers wrote, or left behind when they stopped,
and wakes by itself when a retry falls due. A failed delivery is logged (without the
mail) and retried with backoff; the request that caused the mail never waits for it.
"""

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from tortoise import timezone

from app.core.config import Settings
from app.core.mail import UnreadableMail, deliver, unseal
from app.core.metrics import MAILS
from app.models import OutboxMail

logger = logging.getLogger("app.mail")

# How long a claimed mail stays this worker's: far longer than one SMTP exchange can take
# (SMTP_TIMEOUT_SECONDS per step); a worker that dies holding it leaves it for this long.
MIN_LEASE_SECONDS = 60
PURGE_EVERY_SECONDS = 600
STOP_GRACE_SECONDS = 3
# Woken this much after a mail falls due, so that it is due by the database's clock too.
DUE_MARGIN_SECONDS = 0.05

_RUNNING: set["MailSender"] = set()


def wake() -> None:
    """Tell this process's senders a mail was just committed."""
    for sender in _RUNNING:
        sender.wake()


class MailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_due: datetime | None = None  # when the next unsent mail falls due
        self._last_purge = 0.0
        self._stopping = False

    def wake(self) -> None:
        self._woken.set()

    def start(self) -> None:
        _RUNNING.add(self)
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        """Let the mail being sent finish (up to STOP_GRACE_SECONDS), then stop. A mail cut
        off stays claimed until its lease ends, and goes then, from whichever worker."""
        _RUNNING.discard(self)
        self._stopping = True
        self._woken.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self._woken.clear()
            try:
                await self.send_due()
            except Exception as exc:  # the database is down, say: try again next pass
                logger.warning("outbox pass failed: %s", type(exc).__name__)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._seconds_to_wait())

    def _seconds_to_wait(self) -> float:
        wait = self.settings.mail_poll_seconds
        if self._next_due is not None:
            until = (self._next_due - timezone.now()).total_seconds() + DUE_MARGIN_SECONDS
            wait = min(wait, max(DUE_MARGIN_SECONDS, until))  # never a busy loop
        return wait

    async def send_due(self) -> None:
        """Claim and send every due mail, then purge the long-sent ones now and then."""
        lease = timedelta(seconds=max(MIN_LEASE_SECONDS, 3 * self.settings.smtp_timeout_seconds))
        while not self._stopping and (mails := await OutboxMail.claim_due(lease)):
            for mail in mails:
                await self._send(mail)  # claimed: sent even when stopping meanwhile
        self._next_due = await OutboxMail.next_due_at()
        if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
            await OutboxMail.purge_sent(timedelta(hours=self.settings.mail_keep_sent_hours))
            self._last_purge = time.monotonic()

    async def _send(self, row: OutboxMail) -> None:
        try:
            mail = unseal(row.body or "")
        except UnreadableMail:
            logger.error(
                "outbox mail %s cannot be decrypted (SECRET_KEY changed?): dropped", row.id
            )
            MAILS.labels("unreadable").inc()
            await row.drop_unreadable()
            return
        try:
            await deliver(mail, self.settings)
        except Exception as exc:  # SMTP down, refused, timed out: retried; never raised
            settings = self.settings
            delay = await row.retry_later(
                settings.mail_retry_base_seconds, settings.mail_retry_max_seconds
            )  # the pass ends by finding when the next mail is due: this one, say
            MAILS.labels("failed").inc()
            logger.warning(
                "outbox mail %s not delivered (attempt %s, %s); retrying in %.1fs",
                *(row.id, row.attempts, type(exc).__name__, delay.total_seconds()),
            )
            return
        await row.mark_sent()
        MAILS.labels("sent").inc()
