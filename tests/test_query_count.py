"""`include=` loads relations with a constant number of queries, whatever the page size."""

import pytest


@pytest.fixture
async def catalogue(client, make_account):
    """12 users with 3 items each."""
    accounts = [await make_account() for _ in range(12)]
    for account in accounts:
        for n in range(3):
            await client.post("/items/", json={"name": f"item {n}"}, headers=account.headers)
    return accounts


async def _count_queries(client, query_counter, path, include, headers, limit):
    query_counter.statements.clear()
    response = await client.get(path, params={"limit": limit, "include": include}, headers=headers)
    assert response.status_code == 200
    assert len(response.json()) == limit
    assert all(include in row for row in response.json())
    return len(query_counter.statements)


@pytest.mark.parametrize(
    ("path", "include", "expected_queries"),
    [
        # token's user, count, page, one prefetch of all the page's items
        ("/users/", "items", 4),
        # token's user, count, page joined with owners
        ("/items/", "owner", 3),
    ],
)
async def test_include_costs_the_same_queries_for_any_page_size(
    client, catalogue, query_counter, path, include, expected_queries
):
    headers = catalogue[0].headers

    counts = {
        limit: await _count_queries(client, query_counter, path, include, headers, limit)
        for limit in (1, 5, 12)
    }

    assert set(counts.values()) == {expected_queries}, counts


async def test_one_item_with_its_owner_is_one_join(client, catalogue, query_counter):
    item_id = (await client.get("/items/?limit=1", headers=catalogue[0].headers)).json()[0]["id"]
    query_counter.statements.clear()

    response = await client.get(
        f"/items/{item_id}", params={"include": "owner"}, headers=catalogue[0].headers
    )

    assert response.status_code == 200 and response.json()["owner"]["id"] == catalogue[0].id
    assert len(query_counter.statements) == 2  # the token's user, the item joined with its owner
