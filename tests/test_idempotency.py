"""Idempotent retries (contract v2): `Idempotency-Key` on `POST /items/` and `/items/transfer`."""

import asyncio
import os
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import httpx
import pytest
from tortoise import timezone

from app.models import IdempotencyKey, Item
from tests.support import manage, primary_url, serving

ON_POSTGRES = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="holds a row lock from a second session"
)
REUSED = {"detail": "Idempotency-Key reused with a different request"}
IN_PROGRESS = {"detail": "A request with this Idempotency-Key is in progress"}


def _keyed(account, key: str) -> dict[str, str]:
    return {**account.headers, "Idempotency-Key": key}


async def test_a_retry_answers_the_stored_answer_and_creates_nothing(client, alice):
    first = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k-1"))
    again = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers and first.headers["ETag"] == '"1"'
    assert await Item.filter(owner_id=alice.id).count() == 1


async def test_without_a_key_every_post_does_its_work(client, alice):
    for _ in range(2):
        response = await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert await Item.filter(owner_id=alice.id).count() == 2


async def test_the_same_key_for_another_body_or_path_is_422_and_changes_nothing(client, alice, bob):
    created = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k"))
    other_body = await client.post("/items/", json={"name": "desk"}, headers=_keyed(alice, "k"))
    transfer = {"item_ids": [created.json()["id"]], "new_owner_id": bob.id}
    other_path = await client.post("/items/transfer", json=transfer, headers=_keyed(alice, "k"))

    assert (other_body.status_code, other_body.json()) == (422, REUSED)
    assert (other_path.status_code, other_path.json()) == (422, REUSED)
    assert [i.name for i in await Item.filter(owner_id=alice.id)] == ["lamp"]


async def test_keys_belong_to_the_user_who_sent_them(client, alice, bob):
    mine = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k"))
    theirs = await client.post("/items/", json={"name": "desk"}, headers=_keyed(bob, "k"))

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["owner_id"] == bob.id


async def test_a_refusal_is_stored_and_replayed_and_a_transfer_moves_once(client, alice, bob):
    created = await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    item_id = created.json()["id"]
    refused_body = {"item_ids": [item_id, 999_999], "new_owner_id": bob.id}
    moved_body = {"item_ids": [item_id], "new_owner_id": bob.id}

    refused = [
        await client.post("/items/transfer", json=refused_body, headers=_keyed(alice, "t-1"))
        for _ in range(2)
    ]
    moved = [
        await client.post("/items/transfer", json=moved_body, headers=_keyed(alice, "t-2"))
        for _ in range(2)
    ]

    assert [r.status_code for r in refused] == [404, 404]
    assert refused[1].content == refused[0].content == b'{"detail":"Item not found"}'
    assert refused[1].headers["Idempotent-Replayed"] == "true"
    assert [r.status_code for r in moved] == [200, 200]
    assert moved[1].json() == moved[0].json() and moved[0].json()[0]["owner_id"] == bob.id
    assert moved[0].json()[0]["updated_at"] == moved[1].json()[0]["updated_at"]
    assert (await Item.get(id=item_id)).version == 2  # moved once


async def test_twenty_concurrent_requests_with_one_key_create_one_item(client, alice):
    async def post():
        return await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "burst"))

    for _ in range(3):
        await Item.all().delete()
        await IdempotencyKey.all().delete()
        answers = await asyncio.gather(*(post() for _ in range(20)))

        assert await Item.filter(owner_id=alice.id).count() == 1
        statuses = sorted(response.status_code for response in answers)
        assert set(statuses) <= {201, 409} and statuses.count(201) >= 1
        created = [r for r in answers if r.status_code == 201]
        assert len({r.content for r in created}) == 1
        assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
        assert all(r.json() == IN_PROGRESS for r in answers if r.status_code == 409)


@asynccontextmanager
async def _key_locked_elsewhere(user_id: int, key: str):
    """A second session holding the key's row as an in-flight request would."""
    connection = await asyncpg.connect(primary_url())
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(
            "SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2 FOR UPDATE",
            user_id,
            key,
        )
        yield
    finally:
        await transaction.rollback()
        await connection.close()


@ON_POSTGRES
async def test_a_duplicate_of_a_request_in_flight_is_409_and_another_request_422(client, alice):
    fresh = IdempotencyKey(user_id=alice.id, key="slow", fingerprint="0" * 64)
    await IdempotencyKey.bulk_create([fresh])  # as the first request makes it exist
    body = {"name": "lamp"}
    await client.post("/items/", json=body, headers=_keyed(alice, "probe"))  # its fingerprint
    fingerprint = (await IdempotencyKey.get(key="probe")).fingerprint
    await IdempotencyKey.filter(key="slow").update(fingerprint=fingerprint)

    async with _key_locked_elsewhere(alice.id, "slow"):
        same = await client.post("/items/", json=body, headers=_keyed(alice, "slow"))
        other = await client.post("/items/", json={"name": "x"}, headers=_keyed(alice, "slow"))
    after = await client.post("/items/", json=body, headers=_keyed(alice, "slow"))

    assert (same.status_code, same.json()) == (409, IN_PROGRESS)
    assert (other.status_code, other.json()) == (422, REUSED)
    assert after.status_code == 201  # the first never answered: this one does the work
    assert await Item.filter(owner_id=alice.id).count() == 2


async def test_the_key_belongs_to_the_request_that_first_made_it(client, alice):
    """A request with another body that gets to run first is 422, not the key's owner."""
    await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "probe"))
    lamp = (await IdempotencyKey.get(key="probe")).fingerprint
    # As the first request leaves it just before it locks the row: made, not answered.
    await IdempotencyKey.bulk_create([IdempotencyKey(user_id=alice.id, key="k", fingerprint=lamp)])

    other = await client.post("/items/", json={"name": "desk"}, headers=_keyed(alice, "k"))
    first = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k"))
    again = await client.post("/items/", json={"name": "desk"}, headers=_keyed(alice, "k"))

    assert (other.status_code, other.json()) == (422, REUSED)
    assert first.status_code == 201 and first.json()["name"] == "lamp"
    assert (again.status_code, again.json()) == (422, REUSED)


@ON_POSTGRES
async def test_posts_racing_the_deletion_of_their_user_are_401_never_500(client, make_account):
    client._transport.raise_app_exceptions = False
    for round_ in range(5):
        victim = await make_account()
        admin = await make_account(superuser=True)

        async def post(n: int, victim=victim, round_=round_):
            headers = _keyed(victim, f"key-{round_}-{n}")
            return await client.post("/items/", json={"name": "lamp"}, headers=headers)

        answers = await asyncio.gather(
            *(post(n) for n in range(20)),
            client.delete(f"/users/{victim.id}", headers=admin.headers),
        )
        statuses = {response.status_code for response in answers[:-1]}
        assert statuses <= {201, 401, 409}, [r.text for r in answers if r.status_code >= 500]
        assert answers[-1].status_code == 204
        conflicts = [r.json() for r in answers[:-1] if r.status_code == 409]
        assert IN_PROGRESS not in conflicts  # each key was sent once: never "in progress"


async def test_a_failure_the_client_should_retry_is_not_stored(client, alice, monkeypatch):
    real = Item.create_owned
    failures = iter([ConnectionRefusedError("database down"), RuntimeError("a bug")])

    async def failing(cls, *args, **kwargs):
        if (failure := next(failures, None)) is not None:
            raise failure
        return await real(*args, **kwargs)

    monkeypatch.setattr(Item, "create_owned", classmethod(failing))
    client._transport.raise_app_exceptions = False  # let the app answer its 500
    answers = [
        await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "k"))
        for _ in range(4)
    ]

    assert [r.status_code for r in answers] == [503, 500, 201, 201]
    assert answers[3].headers["Idempotent-Replayed"] == "true"
    assert await Item.filter(owner_id=alice.id).count() == 1


async def test_a_key_survives_a_restart(client, alice):
    answers = []
    for _ in range(2):  # two server processes, one after the other
        async with serving() as server, httpx.AsyncClient(base_url=server.url) as http:
            body, headers = {"name": "lamp"}, _keyed(alice, "k")
            answers.append(await http.post("/items/", json=body, headers=headers))

    first, replay = answers
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content and replay.headers["Idempotent-Replayed"] == "true"
    assert await Item.filter(owner_id=alice.id).count() == 1


async def test_expired_keys_are_not_replayed_and_the_command_purges_them(client, alice):
    await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "old"))
    await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "recent"))
    day_ago = timezone.now() - timedelta(hours=24, minutes=1)
    await IdempotencyKey.filter(key="old").update(created_at=day_ago)

    code, out, _ = await manage("purge-idempotency-keys")

    assert code == 0 and "Deleted 1 expired idempotency key" in out
    assert [k.key for k in await IdempotencyKey.all()] == ["recent"]
    await IdempotencyKey.filter(key="recent").update(created_at=day_ago)
    redone = await client.post("/items/", json={"name": "lamp"}, headers=_keyed(alice, "recent"))
    assert redone.status_code == 201 and "Idempotent-Replayed" not in redone.headers
    assert await Item.filter(owner_id=alice.id).count() == 3


@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\u00e9".encode(), b"tab\there"])
async def test_a_malformed_key_is_422_and_changes_nothing(client, alice, key):
    response = await client.post(
        "/items/", json={"name": "lamp"}, headers={**alice.headers, "Idempotency-Key": key}
    )

    assert response.status_code == 422
    assert await Item.filter(owner_id=alice.id).count() == 0
