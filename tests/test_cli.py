"""`python -m app` management commands, run as real processes."""

import asyncio
import os
import sqlite3

import asyncpg
import pytest

from app.models import User
from tests.fixtures import login
from tests.support import manage, primary_url, scratch_database

UNREACHABLE = "postgres://postgres@127.0.0.1:1/nowhere"
RACERS = 4


async def test_createsuperuser_creates_an_account_that_can_sign_in(client):
    code, out, _ = await manage(
        "createsuperuser", "--email", "Root@Example.com", "--password", "s3cret-pass"
    )

    assert code == 0 and "Created" in out
    user = await User.get(email="root@example.com")
    assert user.is_superuser and user.is_active and user.is_verified
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
    assert me.json()["is_superuser"] is True and me.json()["is_verified"] is True


@pytest.mark.parametrize(
    ("email", "password"), [("not-an-email", "long enough"), ("ok@example.com", "short")]
)
async def test_createsuperuser_rejects_bad_input_with_a_message(client, email, password):
    code, _, err = await manage("createsuperuser", "--email", email, "--password", password)

    assert code == 2 and err.startswith("error:") and err.count("\n") == 1, err
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
    code, _, err = await manage("migrate", "--wait", "1", DATABASE_URL=UNREACHABLE)

    assert code == 1 and "database unreachable" in err


async def test_createsuperuser_needs_a_password_only_to_create(client):
    code, out, err = await manage("createsuperuser", "--email", "new@example.com")

    assert code == 2 and not out
    assert err.startswith("error:") and "--password" in err and err.count("\n") == 1, err
    assert await User.all().count() == 0


@pytest.mark.parametrize("password", [[], ["--password", "short"]], ids=["none", "short"])
async def test_createsuperuser_promotes_whatever_the_ignored_password(client, alice, password):
    code, out, err = await manage("createsuperuser", "--email", "alice@example.com", *password)

    assert code == 0, err
    assert "Promoted alice@example.com to superuser" in out and "password unchanged" in out
    assert ("--password" in out) == bool(password)  # says the one given was not used
    assert (await User.get(id=alice.id)).is_superuser
    assert await login(client, "alice@example.com", alice.password)


async def test_createsuperuser_reactivates_a_deactivated_account(client, alice, admin):
    deactivated = await client.patch(
        f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text

    code, out, err = await manage(
        "createsuperuser", "--email", "alice@example.com", "--password", "whatever1"
    )

    assert code == 0, err
    assert "Promoted alice@example.com to superuser and reactivated it (password" in out
    assert await login(client, "alice@example.com", alice.password)
    # The tokens the deactivation revoked stay revoked.
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401


async def test_createsuperuser_promotion_changes_the_etag(client, alice):
    before = await client.get(f"/users/{alice.id}", headers=alice.headers)

    code, _, err = await manage(
        "createsuperuser", "--email", "alice@example.com", "--password", "whatever1"
    )

    after = await client.get(f"/users/{alice.id}", headers=alice.headers)
    assert code == 0, err
    assert after.json()["is_superuser"] is True
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json()["updated_at"] > before.json()["updated_at"]


async def test_createsuperuser_on_an_unmigrated_database_says_to_migrate(tmp_path):
    async with scratch_database(tmp_path) as url:
        code, _, err = await manage(
            "createsuperuser",
            "--email",
            "x@example.com",
            "--password",
            "long enough",
            DATABASE_URL=url,
        )

    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(
        "error: the database has no schema yet; run `python -m app migrate` first"
    ), err


@pytest.mark.parametrize(
    "command",
    [
        ["createsuperuser", "--email", "x@example.com", "--password", "long enough"],
        ["migrations", "status"],
    ],
    ids=["createsuperuser", "migrations-status"],
)
async def test_commands_on_an_unreachable_database_say_so_in_one_line(command):
    code, _, err = await manage(*command, DATABASE_URL=UNREACHABLE)

    assert code == 1 and err.startswith("error: database unreachable: ") and err.count("\n") == 1, (
        err
    )


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
async def test_concurrent_createsuperuser_for_one_new_email_all_succeed(client):
    """Every process finds no account, then all INSERT at once: one creates, the others
    hit the unique email and promote instead. A table lock holds the INSERTs back until
    all of them are waiting, so the race happens every run."""
    url = primary_url()
    blocker, watcher = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("LOCK TABLE users IN SHARE MODE")  # reads pass, INSERTs wait
        runs = [
            asyncio.create_task(
                manage(
                    "createsuperuser", "--email", "race@example.com", "--password", "long enough"
                )
            )
            for _ in range(RACERS)
        ]
        for _ in range(300):
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO%users%'"
            )
            if waiting == RACERS:
                break
            await asyncio.sleep(0.1)
        await hold.rollback()
        results = await asyncio.gather(*runs)
    finally:
        await blocker.close()
        await watcher.close()

    assert waiting == RACERS, results
    assert [code for code, _, _ in results] == [0] * RACERS, results
    assert not any(err for _, _, err in results), results
    assert sum("Created superuser" in out for _, out, _ in results) == 1
    (user,) = await User.filter(email="race@example.com")
    assert user.is_superuser and user.is_active


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
@pytest.mark.parametrize("command", [("migrate",), ("migrations", "status")])
async def test_a_database_that_does_not_exist_is_named_in_one_line_with_the_fix(command):
    from urllib.parse import urlsplit, urlunsplit

    missing = "no_such_database_" + os.urandom(4).hex()
    url = urlunsplit(urlsplit(primary_url())._replace(path=f"/{missing}", query=""))

    code, _, err = await manage(*command, DATABASE_URL=url)

    assert code == 1 and err.count("\n") == 1, err
    assert f'database "{missing}" does not exist' in err and f"createdb {missing}" in err, err
