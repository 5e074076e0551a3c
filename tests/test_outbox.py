"""The outbox: mails written with their cause, sent after its commit, retried until sent."""

import asyncio
from datetime import timedelta

import pytest
from tortoise import timezone

from app.core import mail as mail_module
from app.core.config import get_settings
from app.core.mail_templates import RESET, VERIFY
from app.core.outbox import MailSender
from app.core.security import hash_password
from app.models import OutboxMail, User
from tests.fixtures import PASSWORD
from tests.mail import MAIL_DEADLINE_SECONDS, token_in


async def _until(condition, what: str) -> None:
    """Wait for `condition()` (awaitable), up to the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAIL_DEADLINE_SECONDS
    while not await condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


async def test_smtp_down_then_up_the_request_still_succeeds_and_the_mail_arrives(client, mailbox):
    mailbox.stop()
    created = await client.post("/users/", json={"email": "down@example.com", "password": PASSWORD})
    reset = await client.post("/auth/password-reset", json={"email": "down@example.com"})

    assert (created.status_code, reset.status_code) == (201, 202)

    async def failed_twice() -> bool:
        return await OutboxMail.filter(sent_at=None, attempts__gte=2).count() == 2

    await _until(failed_twice, "the sender never tried (and failed) twice")
    mailbox.start()
    (verify,) = await mailbox.wait_for("down@example.com", VERIFY)
    (reset_mail,) = await mailbox.wait_for("down@example.com", RESET)
    confirmed = await client.post(
        "/auth/password-reset/confirm",
        json={"token": token_in(reset_mail), "password": "after the outage"},
    )
    assert token_in(verify) and confirmed.status_code == 204


async def test_a_rolled_back_sign_up_mails_nothing(client, mailbox):
    hashed = await hash_password(PASSWORD)
    with pytest.raises(Exception):  # noqa: B017 (the database refuses the item: any error)
        # The item's NOT NULL name fails after the account and its mail were written.
        await User.sign_up("rolled@example.com", None, hashed, [{"name": None}])

    assert not await User.exists(email="rolled@example.com")
    assert await OutboxMail.all().count() == 0
    created = await client.post("/users/", json={"email": "next@example.com", "password": PASSWORD})
    assert created.status_code == 201
    await mailbox.wait_for("next@example.com", VERIFY)  # sent after the rolled-back one
    assert mailbox.to("rolled@example.com") == []


async def test_the_waiting_body_is_encrypted_and_cleared_once_sent(client, mailbox):
    mailbox.stop()
    await client.post("/users/", json={"email": "sealed@example.com", "password": PASSWORD})

    (row,) = await OutboxMail.filter(recipient="sealed@example.com")
    assert row.body and "Token" not in row.body and "sealed@" not in row.body
    mailbox.start()
    (sent,) = await mailbox.wait_for("sealed@example.com", VERIFY)
    assert token_in(sent) not in row.body

    async def cleared() -> bool:
        return await OutboxMail.filter(id=row.id, body=None, sent_at__not_isnull=True).exists()

    await _until(cleared, "the sent mail's body was never cleared")


async def test_a_mail_a_dead_worker_held_is_sent_when_its_lease_ends(client, mailbox):
    """A worker claims a mail and dies before sending it: another sends it later."""
    mailbox.stop()
    await client.post("/users/", json={"email": "orphan@example.com", "password": PASSWORD})

    async def tried() -> bool:  # this app's sender tried once (SMTP down) and let it be
        return await OutboxMail.filter(attempts__gte=1).exists()

    await _until(tried, "the sender never tried")
    # The dead worker's claim, as `claim_due` writes it: held for an hour.
    await OutboxMail.all().update(next_attempt_at=timezone.now() + timedelta(hours=1))
    mailbox.start()
    assert await OutboxMail.claim_due(timedelta(hours=1)) == []  # held: nobody else takes it

    await OutboxMail.all().update(next_attempt_at=timezone.now())  # the lease is over
    sender = MailSender(get_settings())
    await sender.send_due()

    (mail,) = await mailbox.wait_for("orphan@example.com", VERIFY)
    assert token_in(mail)


async def test_sent_mails_are_purged_after_a_while(client, mailbox):
    await client.post("/users/", json={"email": "old@example.com", "password": PASSWORD})
    await mailbox.wait_for("old@example.com", VERIFY)

    async def sent() -> bool:
        return await OutboxMail.filter(sent_at__not_isnull=True).exists()

    await _until(sent, "never marked sent")
    assert await OutboxMail.purge_sent(timedelta(hours=1)) == 0
    await OutboxMail.all().update(sent_at=timezone.now() - timedelta(hours=2))
    assert await OutboxMail.purge_sent(timedelta(hours=1)) == 1


async def test_the_console_backend_prints_the_mail(capsys, monkeypatch):
    settings = get_settings().model_copy(update={"email_backend": "console"})
    mail = mail_module.compose(RESET, "c@example.com", "tok-123", 60)

    await mail_module.deliver(mail, settings)

    out = capsys.readouterr().out
    assert "To: c@example.com" in out and "Token: tok-123" in out
