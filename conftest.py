"""Test set-up: a real database built by the migrations, one app per test.

SQLite by default; PostgreSQL when TEST_DATABASE_URL names a server (a fresh database is
created on it for the run and dropped afterwards). The environment is set here, before
the app is imported, so the one TORTOISE_ORM config points at the test database.
"""

import atexit
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

_TEST_SERVER_URL = os.environ.get("TEST_DATABASE_URL")
_SQLITE_DIR = None if _TEST_SERVER_URL else tempfile.mkdtemp(prefix="app-tests-")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _on_test_database(server_url: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{TEST_DATABASE_NAME}"))


if _TEST_SERVER_URL:
    TEST_DATABASE_NAME = f"test_{uuid.uuid4().hex[:12]}"
    os.environ["DATABASE_URL"] = _on_test_database(_TEST_SERVER_URL)
    # The cluster pass (README, Scaling out): TEST_DATABASE_URL names PgBouncer, these the
    # primary directly (migrations, creating the database) and the replicas.
    if migrations_server := os.environ.get("TEST_MIGRATIONS_URL"):
        os.environ["MIGRATIONS_DATABASE_URL"] = _on_test_database(migrations_server)
    if replica_servers := os.environ.get("TEST_REPLICA_URLS"):
        os.environ["DATABASE_REPLICA_URLS"] = ",".join(
            _on_test_database(url) for url in replica_servers.split(",")
        )
else:
    os.environ["DATABASE_URL"] = f"sqlite://{_SQLITE_DIR}/test.sqlite3"

os.environ.update(
    ENVIRONMENT="test",
    # A new key every run: no key written in the code is ever accepted.
    SECRET_KEY=secrets.token_urlsafe(48),
    # Cheap argon2 for speed; production keeps the strong defaults.
    ARGON2_TIME_COST="1",
    ARGON2_MEMORY_COST="1024",
    ARGON2_PARALLELISM="1",
    LOGIN_MAX_FAILURES="5",
    SQL_ECHO="false",
    CORS_ORIGINS="https://app.example.com",
    # No tracing, whatever the shell or .env says (tests/test_tracing.py turns it on).
    OTEL_EXPORTER_OTLP_ENDPOINT="",
    # Mail goes to the SMTP server the tests run on loopback (tests/mail.py), on this
    # port; retries come within a second, so an outage test takes seconds. The senders
    # never poll on their own in the suite: they are woken by commits and retries only,
    # so they send no statement a test did not cause.
    EMAIL_BACKEND="smtp",
    SMTP_HOST="127.0.0.1",
    SMTP_PORT=str(_free_port()),
    SMTP_STARTTLS="false",
    SMTP_TIMEOUT_SECONDS="5",
    EMAIL_FROM="service@example.com",
    MAIL_RETRY_BASE_SECONDS="0.2",
    MAIL_RETRY_MAX_SECONDS="1",
    MAIL_POLL_SECONDS="3600",
    REQUIRE_VERIFIED_EMAIL="false",
)


if _SQLITE_DIR:  # removed when the test process exits, however the session ended
    atexit.register(shutil.rmtree, _SQLITE_DIR, ignore_errors=True)


pytest_plugins = ["tests.mail", "tests.fixtures"]
