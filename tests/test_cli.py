"""`python -m app` management commands, run as real processes."""

import sqlite3

import pytest

from app.models import User
from tests.support import manage


async def test_createsuperuser_creates_an_account_that_can_sign_in(client):
    code, out, _ = await manage(
        "createsuperuser", "--email", "Root@Example.com", "--password", "s3cret-pass"
    )

    assert code == 0 and "Created" in out
    user = await User.get(email="root@example.com")
    assert user.is_superuser and user.is_active
    token = await client.post(
        "/auth/token", data={"username": "root@example.com", "password": "s3cret-pass"}
    )
    assert token.status_code == 200


async def test_createsuperuser_promotes_an_existing_account(client, alice):
    code, out, _ = await manage(
        "createsuperuser", "--email", "ALICE@example.com", "--password", "whatever1"
    )

    assert code == 0 and "Promoted" in out
    assert (await User.get(id=alice.id)).is_superuser
    me = await client.get("/users/me", headers=alice.headers)
    assert me.json()["is_superuser"] is True


@pytest.mark.parametrize(
    ("email", "password"), [("not-an-email", "long enough"), ("ok@example.com", "short")]
)
async def test_createsuperuser_rejects_bad_input_with_a_message(client, email, password):
    code, _, err = await manage("createsuperuser", "--email", email, "--password", password)

    assert code != 0 and err.startswith("error:")
    assert await User.all().count() == 0


async def test_migrate_builds_an_empty_sqlite_database_and_is_idempotent(tmp_path):
    url = f"sqlite://{tmp_path}/fresh.sqlite3"

    first = await manage("migrate", DATABASE_URL=url)
    second = await manage("migrate", DATABASE_URL=url)

    assert first[0] == 0 and "Applied 0_" in first[1]
    assert second[0] == 0 and "up to date" in second[1]
    with sqlite3.connect(tmp_path / "fresh.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "items", "login_failures", "aerich"} <= tables


async def test_migrate_gives_up_on_an_unreachable_database_with_a_message():
    code, _, err = await manage(
        "migrate", "--wait", "1", DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere"
    )

    assert code == 1 and "database unreachable" in err
