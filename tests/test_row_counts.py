"""`X-Total-Count` from the counts the database keeps (`RowCount`): exact, whatever writes
race, and used exactly where a list is unfiltered or filtered by owner only."""

import asyncio
import os
import random

import asyncpg
import pytest
from tortoise.functions import Count

from app.models import Item, RowCount, User
from tests.fixtures import PASSWORD
from tests.support import primary_url

ROUNDS = 25


async def _kept_counts() -> dict[tuple[str, int], int]:
    rows = await RowCount.all().values_list("table_name", "owner_id", "n")
    counts: dict[tuple[str, int], int] = {}
    for table_name, owner_id, n in rows:
        counts[table_name, owner_id] = counts.get((table_name, owner_id), 0) + n
    return {key: n for key, n in counts.items() if n}


async def _true_counts() -> dict[tuple[str, int], int]:
    per_owner = await Item.annotate(n=Count("id")).group_by("owner_id").values_list("owner_id", "n")
    counts = {("items", owner_id): n for owner_id, n in per_owner}
    counts["users", 0] = await User.all().count()
    counts["items", 0] = await Item.all().count()
    return {key: n for key, n in counts.items() if n}


async def _total(client, path: str, headers) -> int:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Total-Count"])


async def test_counts_stay_exact_through_a_storm_of_concurrent_writes(client, make_account, admin):
    """Creates, deletes, transfers, sign-ups with items and account deletions (through
    the API, and by a queryset `delete()` whose items go by the foreign key's cascade)
    race for many rounds: every kept count equals `COUNT(*)` after,
    no leftover count of a deleted owner stays, and no write is answered with a 5xx."""
    accounts = [await make_account() for _ in range(4)]
    rng = random.Random(11)
    statuses: set[int] = set()

    async def create(account):
        return await client.post("/items/", json={"name": "storm"}, headers=account.headers)

    async def delete_one(account):
        mine = await Item.filter(owner_id=account.id).values_list("id", flat=True)
        if not mine:
            return await create(account)
        return await client.delete(f"/items/{rng.choice(mine)}", headers=account.headers)

    async def give_away(account):
        mine = await Item.filter(owner_id=account.id).limit(3).values_list("id", flat=True)
        if not mine:
            return await create(account)
        to = rng.choice([a for a in accounts if a is not account])
        body = {"item_ids": list(mine), "new_owner_id": to.id}
        return await client.post("/items/transfer", json=body, headers=account.headers)

    async def sign_up_and_delete(number: int):
        email = f"storm{number}@example.com"
        items = [{"name": f"own {n}"} for n in range(rng.randint(0, 4))]
        response = await client.post(
            "/users/", json={"email": email, "password": PASSWORD, "items": items}
        )
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        await client.post("/items/", json={"name": "given"}, headers=admin.headers)
        given = await Item.filter(owner_id=admin.id).limit(2).values_list("id", flat=True)
        body = {"item_ids": list(given), "new_owner_id": user_id}
        moved = await client.post("/items/transfer", json=body, headers=admin.headers)
        statuses.add(moved.status_code)
        if number % 2:  # a Django-style `User.filter(...).delete()`: the database cascades
            await User.filter(id=user_id).delete()
            return moved
        return await client.delete(f"/users/{user_id}", headers=admin.headers)

    for round_ in range(ROUNDS):
        writes = [rng.choice((create, delete_one, give_away))(a) for a in accounts * 2]
        writes.append(sign_up_and_delete(round_))
        for response in await asyncio.gather(*writes):
            statuses.add(response.status_code)
    assert not {s for s in statuses if s >= 500}, statuses
    assert {200, 201, 204} <= statuses

    kept, true = await _kept_counts(), await _true_counts()
    assert kept == true
    owners = {owner for table, owner in kept if table == "items" and owner}
    assert owners <= set(await User.all().values_list("id", flat=True))
    # What the lists answer, for every list the kept counts serve.
    assert await _total(client, "/items/?limit=1", admin.headers) == true["items", 0]
    assert await _total(client, "/users/?limit=1", admin.headers) == true["users", 0]
    for account in accounts:
        path = f"/users/{account.id}/items?limit=1"
        assert await _total(client, path, admin.headers) == true.get(("items", account.id), 0)


async def test_unfiltered_and_per_owner_lists_are_counted_by_the_kept_counts(client, alice, bob):
    """Seen by making a kept count wrong on purpose: the lists it serves answer it, the
    filtered lists still count their rows."""
    for name in ("apple", "pear"):
        await client.post("/items/", json={"name": name}, headers=alice.headers)
    await RowCount.create(table_name="items", owner_id=0, shard=-1, n=100)
    await RowCount.create(table_name="items", owner_id=alice.id, shard=-1, n=100)
    await RowCount.create(table_name="users", owner_id=0, shard=-1, n=100)

    assert await _total(client, "/items/?limit=1", bob.headers) == 102
    assert await _total(client, f"/items/?owner_id={alice.id}", bob.headers) == 102
    assert await _total(client, f"/users/{alice.id}/items", bob.headers) == 102
    assert await _total(client, "/users/", bob.headers) == 102
    # A filter beyond the owner: COUNT(*) of the matching rows.
    assert await _total(client, "/items/?q=app", bob.headers) == 1
    assert await _total(client, f"/users/{alice.id}/items?q=pe", bob.headers) == 1
    assert await _total(client, "/users/?email=alice", bob.headers) == 1
    assert await _total(client, "/users/?is_active=true", bob.headers) == 2


async def test_a_user_with_no_items_and_an_unknown_count_answer_zero(client, alice, bob):
    assert await _total(client, f"/users/{bob.id}/items", alice.headers) == 0
    assert await RowCount.of("no such table") == 0


async def test_a_sliced_queryset_counts_its_slice(client, alice):
    for name in ("a", "b", "c"):
        await client.post("/items/", json={"name": name}, headers=alice.headers)
    assert await Item.all().of_owner(None).total() == 3
    assert await Item.all().limit(1).of_owner(None).total() == 1
    assert await Item.all().of_owner(alice.id).offset(2).total() == 1


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's search_path")
async def test_writes_from_any_search_path_are_counted_in_the_real_tables(client, alice):
    """An admin session with another search_path, or with temporary tables named like
    the service's (searched first), writes rows that are counted as any others."""
    # Directly, not through a pooler: a session SET would outlive the test there.
    connection = await asyncpg.connect(primary_url())
    try:
        schema = await connection.fetchval("SELECT current_schema()")
        await connection.execute("CREATE TEMP TABLE users (id INT)")
        await connection.execute("CREATE TEMP TABLE row_counts (n INT)")
        await connection.execute("SET search_path = ''")
        for name in ("x", "y"):
            await connection.execute(
                f'INSERT INTO "{schema}".items (name, owner_id, created_at, updated_at, version)'
                " VALUES ($1, $2, now(), now(), 1)",
                name,
                alice.id,
            )
        await connection.execute(f'DELETE FROM "{schema}".items WHERE name = $1', "x")
    finally:
        await connection.close()
    assert await _kept_counts() == await _true_counts()
    assert await _total(client, f"/users/{alice.id}/items", alice.headers) == 1
