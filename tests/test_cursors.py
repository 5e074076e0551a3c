"""Cursor pagination (contract v2): `Link: rel="next"`, keyset pages, and every error case."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise import connections

from app.core.cursors import Position
from app.core.security import create_access_token
from app.models import Item, User

ITEM_ORDERS = ["id", "-id", "name", "-name", "created_at", "-created_at"]
USER_ORDERS = ["id", "-id", "email", "-email", "username", "-username"]
USER_ORDERS += ["created_at", "-created_at"]
TIE = datetime(2026, 1, 1, tzinfo=UTC)


async def _walk(client: httpx.AsyncClient, url: str, headers: dict, **between: Any) -> list:
    """Every row of a list, page by page, following the `next` links."""
    rows: list[dict] = []
    for _ in range(200):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        rows += response.json()
        if (link := response.links.get("next")) is None:
            return rows
        if "cursor=" in url:
            assert "X-Total-Count" not in response.headers
        url = link["url"]
        if step := between.get("step"):
            await step()
    raise AssertionError("the links never ended")


@pytest.fixture
async def catalogue(client, alice, bob, make_account):
    """Users with and without usernames, items with equal names and equal creation times."""
    await make_account("carol@example.com")  # no username
    await make_account("dave@example.com")  # no username
    names = ["pen", "ink", "pen", "desk", "ink", "lamp", "pen", "cup", "desk", "ink", "map"]
    for n, name in enumerate(names):
        owner = alice if n % 3 else bob
        response = await client.post("/items/", json={"name": name}, headers=owner.headers)
        assert response.status_code == 201
    await Item.filter(id__in=[2, 3, 5, 8]).update(created_at=TIE)
    await User.filter(email__in=["bob@example.com", "dave@example.com"]).update(created_at=TIE)
    return alice


@pytest.mark.parametrize("order_by", ITEM_ORDERS)
@pytest.mark.parametrize("limit", [1, 2, 4])
async def test_walking_items_by_cursor_gives_the_list_in_order_once(
    client, catalogue, order_by, limit
):
    everything = await client.get(f"/items/?order_by={order_by}", headers=catalogue.headers)

    walked = await _walk(client, f"/items/?order_by={order_by}&limit={limit}", catalogue.headers)

    assert [i["id"] for i in walked] == [i["id"] for i in everything.json()]


@pytest.mark.parametrize("order_by", USER_ORDERS)
async def test_walking_users_by_cursor_gives_the_list_in_order_once(client, catalogue, order_by):
    everything = await client.get(f"/users/?order_by={order_by}", headers=catalogue.headers)

    walked = await _walk(client, f"/users/?order_by={order_by}&limit=1", catalogue.headers)

    assert [u["id"] for u in walked] == [u["id"] for u in everything.json()]
    assert len(walked) == 4


async def test_filters_and_include_are_kept_by_the_links(client, catalogue):
    url = f"/users/{catalogue.id}/items?q=IN&order_by=-name&include=owner&limit=1"

    walked = await _walk(client, url, catalogue.headers)

    assert [i["name"] for i in walked] == ["ink", "ink"]
    assert all(i["owner"]["id"] == catalogue.id for i in walked)
    users = await _walk(client, "/users/?include=items&limit=1", catalogue.headers)
    assert [len(u["items"]) for u in users] == [7, 4, 0, 0]


async def test_a_full_page_with_more_links_to_the_next_and_the_last_page_does_not(
    client, catalogue
):
    first = await client.get("/items/?limit=5&order_by=name", headers=catalogue.headers)
    skipped = await client.get("/items/?skip=5&limit=5", headers=catalogue.headers)
    last = await client.get("/items/?skip=6&limit=5", headers=catalogue.headers)
    exact = await client.get("/items/?limit=11", headers=catalogue.headers)

    link = httpx.URL(first.links["next"]["url"])
    assert link.path == "/items/" and "skip" not in link.params
    assert link.params["order_by"] == "name" and link.params["limit"] == "5"
    assert first.headers["X-Total-Count"] == "11"
    assert "next" in skipped.links  # skip mode links too, so clients can switch
    assert "Link" not in last.headers and "Link" not in exact.headers
    after = await client.get(str(link), headers=catalogue.headers)
    assert "X-Total-Count" not in after.headers and len(after.json()) == 5


@pytest.mark.parametrize("order_by", ITEM_ORDERS)
async def test_rows_that_live_throughout_a_walk_are_seen_once_while_others_change(
    client, catalogue, bob, order_by
):
    """Between pages, another client inserts, renames and deletes rows (not the ones
    that live throughout): each of those is returned exactly once, in order."""
    before = await client.get(f"/items/?order_by={order_by}", headers=bob.headers)
    churned = [i["id"] for i in before.json() if i["owner_id"] == bob.id]
    steady = [i["id"] for i in before.json() if i["id"] not in churned]
    renames = iter(["aaa", "zzz", "mmm", "pen", "ink"])

    async def step() -> None:
        created = await client.post("/items/", json={"name": "new"}, headers=bob.headers)
        victim = churned.pop(0)
        churned.append(created.json()["id"])
        await client.delete(f"/items/{victim}", headers=bob.headers)
        renamed = {"name": next(renames, "zz")}
        await client.patch(f"/items/{churned[0]}", json=renamed, headers=bob.headers)

    walked = await _walk(client, f"/items/?order_by={order_by}&limit=2", bob.headers, step=step)

    assert [i["id"] for i in walked if i["id"] in steady] == steady


async def _error(client: httpx.AsyncClient, url: str, headers: dict) -> tuple[int, Any]:
    response = await client.get(url, headers=headers)
    return response.status_code, response.json()


async def test_every_cursor_error_of_the_contract(client, catalogue, bob):
    first = await client.get("/items/?limit=2&order_by=name", headers=catalogue.headers)
    cursor = httpx.URL(first.links["next"]["url"]).params["cursor"]
    own = await client.get(f"/users/{catalogue.id}/items?limit=1", headers=catalogue.headers)
    own_cursor = httpx.URL(own.links["next"]["url"]).params["cursor"]
    h = catalogue.headers

    status, body = await _error(client, f"/items/?cursor={cursor}&skip=0", h)
    assert status == 422 and body["detail"][0]["loc"] == ["query", "skip"]
    status, body = await _error(client, f"/items/?cursor={cursor}&order_by=-name", h)
    assert status == 422 and body["detail"][0]["loc"] == ["query", "order_by"]
    status, _ = await _error(client, f"/items/?cursor={cursor}", h)  # default order: id
    assert status == 422
    altered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    token = create_access_token(catalogue.id, 0, 1)
    for bad in [altered, "garbage", "", "a.b.c", token, cursor + "x"]:
        response = await client.get(
            "/items/", params={"cursor": bad, "order_by": "name"}, headers=h
        )
        assert (response.status_code, response.json()) == (400, {"detail": "Invalid cursor"}), bad
    by_time = await client.get("/items/?limit=2&order_by=created_at", headers=h)
    time_cursor = httpx.URL(by_time.links["next"]["url"]).params["cursor"]
    for other_list in ["/users/", f"/users/{catalogue.id}/items"]:
        url = f"{other_list}?cursor={time_cursor}&order_by=created_at"
        status, body = await _error(client, url, h)
        assert (status, body) == (400, {"detail": "Invalid cursor"}), other_list
    status, body = await _error(client, f"/users/{bob.id}/items?cursor={own_cursor}", h)
    assert (status, body) == (400, {"detail": "Invalid cursor"})
    # With and without the trailing slash, a list is the same list.
    assert (await client.get(f"/items?cursor={cursor}&order_by=name", headers=h)).status_code == 200


async def _plan(queryset: Any) -> str:
    connection = connections.get("default")
    _, rows = await connection.execute_query(f"EXPLAIN {queryset.sql(params_inline=True)}")
    return "\n".join(row[0] for row in rows)


async def test_a_cursor_page_is_an_index_range_scan_on_postgresql(client, alice):
    if Item._meta.db.capabilities.dialect != "postgres":
        pytest.skip("query plans are PostgreSQL's")
    connection = connections.get("default")
    await connection.execute_script(
        "INSERT INTO items (name, owner_id, created_at, updated_at, version) "
        f"SELECT 'item ' || n, {alice.id}, now() - n * interval '1 second', now(), 1 "
        "FROM generate_series(1, 20000) AS n; ANALYZE items"
    )
    middle = await Item.all().order_by("id").offset(10_000).first()

    for order_by, index in [("id", "items_pkey"), ("-created_at", "idx_items_created")]:
        value = getattr(middle, order_by.lstrip("-"))
        page = Item.all().ordered_by(order_by).after(Position(order_by, value, middle.id))
        plan = await _plan(page.limit(51))
        assert "Index Scan" in plan and index in plan and "Index Cond" in plan, plan


async def _churn(client: httpx.AsyncClient, account: Any, churned: list, stop: asyncio.Event):
    """Insert, delete and rename `account`'s items until `stop` is set."""
    n = 0
    while not stop.is_set():
        n += 1
        created = await client.post("/items/", json={"name": f"c{n}"}, headers=account.headers)
        churned.append(created.json()["id"])
        await client.delete(f"/items/{churned.pop(0)}", headers=account.headers)
        renamed = {"name": "aaa" if n % 2 else "zzz"}
        await client.patch(f"/items/{churned[0]}", json=renamed, headers=account.headers)
        await asyncio.sleep(0)


@pytest.mark.parametrize("order_by", ["id", "-name", "created_at"])
async def test_a_walk_racing_a_concurrent_writer_sees_the_steady_rows_once(
    client, catalogue, bob, order_by
):
    """The same, with the other client running for real alongside the walk."""
    for _ in range(3):
        before = await client.get(f"/items/?order_by={order_by}", headers=bob.headers)
        steady = [i["id"] for i in before.json() if i["owner_id"] != bob.id]
        churned = [i["id"] for i in before.json() if i["owner_id"] == bob.id]
        stop = asyncio.Event()
        writer = asyncio.create_task(_churn(client, bob, churned, stop))
        try:
            walked = await _walk(client, f"/items/?order_by={order_by}&limit=2", bob.headers)
        finally:
            stop.set()
            await writer

        assert [i["id"] for i in walked if i["id"] in steady] == steady


ODD_POSITIONS = {
    "id-beyond-int": ("/items", Position("id", 2**31, 2**31)),
    "id-far-beyond": ("/items", Position("id", 2**70, 1)),
    "negative-beyond": ("/users", Position("-id", -(2**31) - 1, 1)),
    "text-with-nul": ("/items", Position("name", "a\x00b", 1)),
    "email-with-nul": ("/users", Position("email", "x\x00@example.com", 1)),
    "text-too-long": ("/items", Position("name", "n" * 256, 1)),
    "naive-datetime": ("/items", Position("created_at", datetime(2026, 1, 1), 1)),
    "text-for-id": ("/items", Position("id", "7", 7)),
    "number-for-name": ("/items", Position("name", 7, 7)),
}


@pytest.mark.parametrize(("path", "position"), ODD_POSITIONS.values(), ids=ODD_POSITIONS)
async def test_a_signed_cursor_with_an_odd_position_is_400(client, alice, path, position):
    """Signed, so not altered: but a value no column holds is refused, not sent to SQL
    (an id beyond INTEGER, a NUL in text on PostgreSQL: a 500 before)."""
    from app.core.cursors import encode_cursor

    cursor = encode_cursor(path, position)
    params = {"cursor": cursor, "order_by": position.order_by}

    response = await client.get(f"{path}/", params=params, headers=alice.headers)

    assert (response.status_code, response.json()) == (400, {"detail": "Invalid cursor"})
