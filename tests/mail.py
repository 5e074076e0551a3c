"""A real SMTP server for the suite: aiosmtpd on loopback, in the test process, on the
port conftest.py gave the app (SMTP_PORT). Tests read what it received from `mailbox`."""

import asyncio
import email
import email.policy
import os
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from app.core.mail_templates import SUBJECTS

# Generous: a mail leaves within a few seconds of its commit; a retry within a second.
MAIL_DEADLINE_SECONDS = 20


class Mailbox:
    """What the server received; `stop()` / `start()` make an outage."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[attr-defined]
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str, kind: str | None = None) -> list[EmailMessage]:
        """The mails to `address`, of one kind (app/core/mail_templates.py) if given."""
        subject = SUBJECTS.get(kind) if kind else None
        with self._lock:
            return [
                message
                for message in self.messages
                if message["To"] == address and subject in (None, message["Subject"])
            ]

    async def wait_for(
        self, address: str, kind: str | None = None, count: int = 1
    ) -> list[EmailMessage]:
        """The first `count` mails to `address` (of `kind`), waiting up to a deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAIL_DEADLINE_SECONDS
        while len(received := self.to(address, kind)) < count:
            assert loop.time() < deadline, f"{count} mail(s) to {address} never arrived"
            await asyncio.sleep(0.05)
        return received[:count]


def token_in(message: EmailMessage) -> str:
    """The token of a mail: its plain-text part's line that starts with `Token: `."""
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (line,) = [line for line in text.splitlines() if line.startswith("Token: ")]
    return line.removeprefix("Token: ")


@pytest.fixture(scope="session", autouse=True)
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(int(os.environ["SMTP_PORT"]))
    mailbox.start()
    yield mailbox
    mailbox.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Iterator[Mailbox]:
    """The server, emptied when the test's app started (tests/fixtures.py)."""
    yield smtp_server
    if smtp_server._controller is None:  # a test that made an outage ends it
        smtp_server.start()
