"""Concurrent requests that race for the same rows, run for real, many rounds.

On PostgreSQL the requests run on separate pooled connections, so their transactions
truly overlap; on SQLite the client serialises them, and the same invariants hold. Each
test states what a client could notice if a permission or existence check were made
outside the write it guards, and that no race is ever answered with a 500.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app.models import Item, LoginFailure, User
from tests.support import primary_url

ROUNDS = 25


async def _item(client, owner, name="thing") -> dict:
    response = await client.post("/items/", json={"name": name}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_old_owner_cannot_delete_an_item_transferred_away_meanwhile(client, alice, bob):
    outcomes = set()
    for _ in range(ROUNDS):
        item = await _item(client, alice)
        transfer, delete = await asyncio.gather(
            client.post(
                "/items/transfer",
                json={"item_ids": [item["id"]], "new_owner_id": bob.id},
                headers=alice.headers,
            ),
            client.delete(f"/items/{item['id']}", headers=alice.headers),
        )
        outcome = (transfer.status_code, delete.status_code)
        outcomes.add(outcome)
        # Either the transfer came first (then the item is bob's: 403) or the delete did.
        assert outcome in {(200, 403), (404, 204)}, outcome
        kept = await Item.get_or_none(id=item["id"])
        assert (kept is not None and kept.owner_id == bob.id) == (outcome == (200, 403))


async def test_the_old_owner_cannot_rename_an_item_transferred_away_meanwhile(client, alice, bob):
    for round_ in range(ROUNDS):
        item = await _item(client, alice)
        transfer, rename = await asyncio.gather(
            client.post(
                "/items/transfer",
                json={"item_ids": [item["id"]], "new_owner_id": bob.id},
                headers=alice.headers,
            ),
            client.patch(
                f"/items/{item['id']}", json={"name": f"alice's {round_}"}, headers=alice.headers
            ),
        )
        assert transfer.status_code == 200
        assert rename.status_code in {200, 403}, rename.text
        final = await client.get(f"/items/{item['id']}", headers=bob.headers)
        assert final.json()["owner_id"] == bob.id
        if rename.status_code == 200:  # the rename came first: the transfer bumped it after
            assert rename.json()["owner_id"] == alice.id
            assert final.headers["etag"] != rename.headers["etag"]
        else:
            assert final.json()["name"] == "thing"


async def test_a_superuser_transfer_racing_the_owners_delete_moves_or_loses_it_whole(
    client, alice, bob, admin
):
    for _ in range(ROUNDS):
        item = await _item(client, alice)
        transfer, delete = await asyncio.gather(
            client.post(
                "/items/transfer",
                json={"item_ids": [item["id"]], "new_owner_id": bob.id},
                headers=admin.headers,
            ),
            client.delete(f"/items/{item['id']}", headers=alice.headers),
        )
        assert (transfer.status_code, delete.status_code) in {(200, 403), (404, 204)}


async def test_a_patch_racing_a_delete_of_the_same_item_is_200_or_404(client, alice):
    for round_ in range(ROUNDS):
        item = await _item(client, alice)
        patch, delete = await asyncio.gather(
            client.patch(
                f"/items/{item['id']}", json={"name": f"n{round_}"}, headers=alice.headers
            ),
            client.delete(f"/items/{item['id']}", headers=alice.headers),
        )
        assert delete.status_code == 204
        assert patch.status_code in {200, 404}, patch.text
        if patch.status_code == 404:
            assert patch.json() == {"detail": "Item not found"}


async def test_a_patch_racing_the_deletion_of_the_same_user_is_never_a_500(
    client, make_account, admin
):
    for round_ in range(ROUNDS):
        victim = await make_account()
        patch, delete = await asyncio.gather(
            client.patch(
                f"/users/{victim.id}", json={"username": f"name{round_}"}, headers=victim.headers
            ),
            client.delete(f"/users/{victim.id}", headers=admin.headers),
        )
        assert delete.status_code == 204
        # The caller is the deleted user: gone before its write, it is no longer signed in.
        assert patch.status_code in {200, 401}, patch.text
        assert not await User.exists(id=victim.id)


async def test_a_superusers_patch_racing_the_deletion_of_that_user_is_200_or_404(
    client, make_account, admin
):
    for round_ in range(ROUNDS):
        victim = await make_account()
        patch, delete = await asyncio.gather(
            client.patch(
                f"/users/{victim.id}", json={"username": f"name{round_}"}, headers=admin.headers
            ),
            client.delete(f"/users/{victim.id}", headers=victim.headers),
        )
        assert delete.status_code == 204
        assert patch.status_code in {200, 404}, patch.text


async def test_creating_an_item_racing_the_callers_own_deletion_is_201_or_401(client, make_account):
    for _ in range(ROUNDS):
        victim = await make_account()
        delete, *creates = await asyncio.gather(
            client.delete(f"/users/{victim.id}", headers=victim.headers),
            *(
                client.post("/items/", json={"name": "late"}, headers=victim.headers)
                for _ in range(4)
            ),
        )
        assert delete.status_code == 204
        assert {create.status_code for create in creates} <= {201, 401}, creates[-1].text
        assert not await Item.exists(owner_id=victim.id)


async def test_a_superuser_demoted_meanwhile_either_acted_first_or_is_refused(
    client, alice, make_account
):
    """The demotion and the write are ordered: a write that lands after the demotion
    would be a superuser right used by someone who no longer has it."""
    root = await make_account(superuser=True)
    demoter = await make_account(superuser=True)
    for round_ in range(ROUNDS):
        await User.filter(id=root.id).update(is_superuser=True)
        item = await _item(client, alice)
        rename, demote = await asyncio.gather(
            client.patch(f"/items/{item['id']}", json={"name": f"r{round_}"}, headers=root.headers),
            client.patch(
                f"/users/{root.id}", json={"is_superuser": False}, headers=demoter.headers
            ),
        )
        assert demote.status_code == 200
        assert rename.status_code in {200, 403}, rename.text


ON_POSTGRES = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="holds a row lock from a second connection"
)


@asynccontextmanager
async def _row_locked_elsewhere(sql: str, *args: object) -> AsyncIterator[asyncpg.Connection]:
    """Another session holding `SELECT ... FOR UPDATE` on a row until the block ends: it
    makes the service's requests queue on that row in a known order."""
    connection = await asyncpg.connect(primary_url())
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(sql, *args)
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


@ON_POSTGRES
async def test_deleting_a_user_while_their_items_are_transferred_never_deadlocks(
    client, make_account, admin
):
    """Both lock the same items: the DELETE must take them in the transfer's order."""
    other_admin = await make_account(superuser=True)
    bob, victim = await make_account(), await make_account()
    ids = [(await _item(client, victim))["id"] for _ in range(6)]
    async with _row_locked_elsewhere("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", ids[0]):
        transfer = asyncio.create_task(
            client.post(
                "/items/transfer",
                json={"item_ids": ids, "new_owner_id": bob.id},
                headers=admin.headers,
            )
        )
        await asyncio.sleep(0.3)  # the transfer waits for the first item
        delete = asyncio.create_task(
            client.delete(f"/users/{victim.id}", headers=other_admin.headers)
        )
        await asyncio.sleep(0.3)  # the delete queues behind it
    assert {(await transfer).status_code, (await delete).status_code} <= {200, 204, 404}


@ON_POSTGRES
async def test_an_item_created_while_the_caller_is_deactivated_is_refused(client, make_account):
    victim = await make_account()
    async with _row_locked_elsewhere(
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", victim.id
    ) as other:
        create = asyncio.create_task(
            client.post("/items/", json={"name": "after"}, headers=victim.headers)
        )
        await asyncio.sleep(0.3)  # the INSERT's foreign-key check waits on the user row
        await other.execute(
            "UPDATE users SET is_active = false, token_version = token_version + 1 WHERE id = $1",
            victim.id,
        )
        await other.execute("COMMIT")
        await other.execute("BEGIN")  # for the rollback on the way out

    assert (await create).status_code == 401
    assert not await Item.exists(owner_id=victim.id)


async def test_parallel_logins_to_one_account_are_never_a_500(client, alice):
    for _ in range(ROUNDS):
        logins = await asyncio.gather(
            *(
                client.post(
                    "/auth/token",
                    data={"username": "alice", "password": alice.password if n % 3 else "bad"},
                )
                for n in range(6)
            )
        )
        assert {login.status_code for login in logins} <= {200, 401, 429}
        await LoginFailure.all().delete()
