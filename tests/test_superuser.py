"""`User.create_or_promote_superuser`: one transaction, its INSERT in a savepoint."""

import asyncio
import os

import asyncpg
import pytest

from app.core.security import hash_password
from app.models import User
from tests.fixtures import PASSWORD
from tests.support import primary_url


async def test_creates_then_promotes_and_reactivates(client, alice):
    hashed = await hash_password(PASSWORD)

    created, done = await User.create_or_promote_superuser("root@example.com", hashed)
    assert done == "created" and created.is_superuser
    await User.filter(id=alice.id).update(is_active=False)
    promoted, done = await User.create_or_promote_superuser("alice@example.com", None)
    again, done_again = await User.create_or_promote_superuser("alice@example.com", hashed)

    assert done == "reactivated" and promoted.is_superuser and promoted.is_active
    assert done_again == "unchanged" and again.id == alice.id
    assert await User.create_or_promote_superuser("nobody@example.com", None) == (None, "missing")


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="an uncommitted row from a second session"
)
async def test_losing_the_insert_to_a_concurrent_signup_rolls_back_only_the_savepoint(client):
    """The other session's row is invisible to the first SELECT and collides with the
    INSERT: the savepoint's rollback leaves the transaction usable, and the account that
    won is promoted in it."""
    other = await asyncpg.connect(primary_url())
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            "INSERT INTO users (email, hashed_password, is_active, is_superuser, created_at, "
            "updated_at) VALUES ('race@example.com', 'x', true, false, now(), now())"
        )
        call = asyncio.create_task(
            User.create_or_promote_superuser("race@example.com", await hash_password(PASSWORD))
        )
        await asyncio.sleep(0.3)  # its INSERT now waits on the uncommitted row
        await transaction.commit()
        user, done = await call
    finally:
        await other.close()

    assert done == "promoted"
    rows = await User.filter(email="race@example.com")
    assert [(row.id, row.is_superuser) for row in rows] == [(user.id, True)]
