"""Test set-up: a real database built by the migrations, one app per test.

SQLite by default; PostgreSQL when TEST_DATABASE_URL names a server (a fresh database is
created on it for the run and dropped afterwards). The environment is set here, before
the app is imported, so the one TORTOISE_ORM config points at the test database.
"""

import atexit
import os
import secrets
import shutil
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

_TEST_SERVER_URL = os.environ.get("TEST_DATABASE_URL")
_SQLITE_DIR = None if _TEST_SERVER_URL else tempfile.mkdtemp(prefix="app-tests-")
if _TEST_SERVER_URL:
    _parts = urlsplit(_TEST_SERVER_URL)
    TEST_DATABASE_NAME = f"test_{uuid.uuid4().hex[:12]}"
    os.environ["DATABASE_URL"] = urlunsplit(_parts._replace(path=f"/{TEST_DATABASE_NAME}"))
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
)


if _SQLITE_DIR:  # removed when the test process exits, however the session ended
    atexit.register(shutil.rmtree, _SQLITE_DIR, ignore_errors=True)


pytest_plugins = ["tests.fixtures"]
