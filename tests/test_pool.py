"""Pooled PostgreSQL connections are handed back without a reset query (tortoise_ext/postgres.py),
and still never carry an abandoned transaction to the next request."""

import os

import asyncpg
import pytest
from tortoise import connections

from app.db.tortoise_ext import speedups
from app.db.tortoise_ext.postgres import LeanConnection
from tests.support import primary_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="the asyncpg pool is PostgreSQL's"
)


@pytest.mark.skipif(not speedups(), reason="TORTOISE_SPEEDUPS=false: asyncpg's own reset")
async def test_pooled_connections_reset_nothing_on_release(app):
    pool = connections.get("default")._pool

    async with pool.acquire() as connection:
        assert isinstance(connection, LeanConnection)
        assert connection.get_reset_query() == ""


async def test_a_transaction_left_open_is_rolled_back_on_release():
    pool = await asyncpg.create_pool(
        primary_url(), min_size=1, max_size=1, connection_class=LeanConnection
    )
    try:
        async with pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("CREATE TEMPORARY TABLE left_open (x int)")
            backend = await connection.fetchval("SELECT pg_backend_pid()")

        async with pool.acquire() as connection:  # the one connection of this pool
            assert await connection.fetchval("SELECT pg_backend_pid()") == backend
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
    finally:
        await pool.close()
