"""`migrate`'s own PostgreSQL connection, the one that holds the advisory lock, is opened
with the options of the URL, as Tortoise's pool is: a server that requires TLS must not
be asked without it."""

import os

import asyncpg
import pytest

from app.core.config import Settings
from app.db.config import tortoise_config
from app.db.migrations import connect_when_ready
from tests.support import primary_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="the lock connection is PostgreSQL's"
)


def _credentials(url: str) -> dict:
    """What `migrate` is given for this DATABASE_URL (pool settings included)."""
    return tortoise_config(Settings(database_url=url))["connections"]["default"]["credentials"]


async def test_the_lock_connection_asks_for_tls_when_the_url_does():
    url = primary_url()
    try:  # the test says something only if the server refuses TLS (the local one has ssl=off)
        await (await asyncpg.connect(url, ssl="require")).close()
    except ConnectionError:
        pass
    else:
        pytest.skip("the test server accepts TLS")

    try:
        connection = await connect_when_ready(_credentials(f"{url}?ssl=require"), 0)
    except ConnectionError as exc:
        assert "SSL" in str(exc)
    else:
        await connection.close()
        pytest.fail("the lock connection was opened without the TLS the URL asks for")


async def test_the_lock_connection_gets_the_session_settings_of_the_url():
    # The lock connection is the migrations' own: the primary itself behind a pooler.
    url = f"{primary_url()}?application_name=app-migrate&schema=elsewhere"

    connection = await connect_when_ready(_credentials(url), 0)
    try:
        assert await connection.fetchval("SHOW application_name") == "app-migrate"
        assert await connection.fetchval("SHOW search_path") == "elsewhere"
    finally:
        await connection.close()
