"""Mails: composed from the templates, sealed for the outbox, delivered by a backend.

Django's model: EMAIL_BACKEND=console prints each mail on standard output (development),
`smtp` sends it with aiosmtplib. What waits in the outbox is encrypted with a key derived
from SECRET_KEY (Fernet: AES-128-CBC with an HMAC-SHA256), since it holds a token.
"""

import base64
import html
import json
import sys
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.config import Settings, get_settings
from app.core.mail_templates import HTMLS, SUBJECTS, TEXTS

# What the outbox key is derived for: another purpose of SECRET_KEY never gets this key.
OUTBOX_KEY_INFO = b"tortoise-service outbox mail v1"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def compose(kind: str, to: str, token: str, minutes: int) -> Mail:
    """The mail of `kind` (app/core/mail_templates.py) carrying `token`."""
    values = {"token": token, "minutes": minutes}
    escaped = {name: html.escape(str(value)) for name, value in values.items()}
    return Mail(
        to=to,
        subject=SUBJECTS[kind],
        text=TEXTS[kind].substitute(values),
        html=HTMLS[kind].substitute(escaped),
    )


@lru_cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(hashes.SHA256(), length=32, salt=None, info=OUTBOX_KEY_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(mail: Mail) -> str:
    """The mail encrypted and authenticated, as text for the outbox row."""
    data = json.dumps(asdict(mail)).encode()
    return _fernet(get_settings().secret_key).encrypt(data).decode()


class UnreadableMail(Exception):
    """Sealed under another SECRET_KEY (it changed since), or altered."""


def unseal(sealed: str) -> Mail:
    try:
        data = _fernet(get_settings().secret_key).decrypt(sealed.encode())
    except InvalidToken:
        raise UnreadableMail from None
    return Mail(**json.loads(data))


def message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: the plain text, with the HTML as its alternative."""
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, mail.to, mail.subject
    email.set_content(mail.text)
    email.add_alternative(mail.html, subtype="html")
    return email


async def deliver(mail: Mail, settings: Settings | None = None) -> None:
    """Hand the mail to the configured backend; raises when it could not (then the outbox
    tries again later)."""
    settings = settings or get_settings()
    email = message(mail, settings.email_from)
    if settings.email_backend == "console":
        # Standard output, not a log line: only development prints mails (production
        # refuses this backend), and log shippers never see them.
        sys.stdout.write(f"{email.as_string()}\n{'-' * 79}\n")
        sys.stdout.flush()
        return
    import aiosmtplib  # here: only a sender needs it, not every command that loads models

    login = {}
    if settings.smtp_username and settings.smtp_password:  # both, or no login
        login = {
            "username": settings.smtp_username,
            "password": settings.smtp_password.get_secret_value(),
        }
    await aiosmtplib.send(
        email,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        **login,
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )
