"""`/items`: creating, listing, reading, changing, deleting and transferring items."""

import asyncio
from datetime import datetime

import pytest
from tortoise import connections

from app.db.replicas import PRIMARY
from app.models import Item

ITEM_FIELDS = {"id", "name", "description", "owner_id", "created_at", "updated_at"}


async def _create(client, account, name="thing", **fields):
    response = await client.post("/items/", json={"name": name, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- creating -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/items/", "/items"])
async def test_create_item_is_owned_by_the_caller(client, alice, path):
    response = await client.post(
        path, json={"name": "lamp", "description": "bright", "owner_id": 999}, headers=alice.headers
    )

    assert response.status_code == 201
    item = response.json()
    assert set(item) == ITEM_FIELDS
    assert (item["name"], item["description"], item["owner_id"]) == ("lamp", "bright", alice.id)


async def test_create_item_requires_a_token(client):
    response = await client.post("/items/", json={"name": "lamp"})

    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert await Item.all().count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 256},
        {"name": "ok", "description": "x" * 10_001},
        {"name": "nul\x00byte"},
        {"name": 5},
    ],
)
async def test_create_item_with_invalid_body_is_422(client, alice, body):
    response = await client.post("/items/", json=body, headers=alice.headers)

    assert response.status_code == 422
    assert await Item.all().count() == 0


async def test_create_item_at_the_length_limits(client, alice):
    item = await _create(client, alice, name="x" * 255, description="y" * 10_000)

    assert len(item["name"]) == 255 and len(item["description"]) == 10_000


# --- listing and reading ------------------------------------------------------------------


async def test_list_items_filters_orders_and_counts(client, alice, bob):
    for name in ("Banana", "apple", "cherry"):
        await _create(client, alice, name=name)
    await _create(client, bob, name="pineapple")

    by_q = await client.get(
        "/items", params={"q": "APPLE", "order_by": "-name"}, headers=bob.headers
    )
    by_owner = await client.get("/items/", params={"owner_id": bob.id}, headers=alice.headers)
    page = await client.get("/items/", params={"skip": 3, "limit": 10}, headers=alice.headers)

    assert [i["name"] for i in by_q.json()] == ["pineapple", "apple"]
    assert by_q.headers["X-Total-Count"] == "2"
    assert [i["name"] for i in by_owner.json()] == ["pineapple"]
    assert [i["name"] for i in page.json()] == ["pineapple"]
    assert page.headers["X-Total-Count"] == "4"


async def test_list_items_ties_are_broken_by_ascending_id_in_both_directions(client, alice):
    ids = [(await _create(client, alice, name="same"))["id"] for _ in range(3)]

    up = await client.get("/items/", params={"order_by": "name"}, headers=alice.headers)
    down = await client.get("/items/", params={"order_by": "-name"}, headers=alice.headers)

    assert [i["id"] for i in up.json()] == ids
    assert [i["id"] for i in down.json()] == ids


async def test_list_items_include_owner(client, alice, bob):
    await _create(client, alice, name="a")
    await _create(client, bob, name="b")

    response = await client.get("/items/", params={"include": "owner"}, headers=alice.headers)

    assert [(i["name"], i["owner"]["email"]) for i in response.json()] == [
        ("a", "alice@example.com"),
        ("b", "bob@example.com"),
    ]
    assert set(response.json()[0]["owner"]) == {
        "id",
        "email",
        "username",
        "is_active",
        "is_superuser",
        "is_verified",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"order_by": "description"},
        {"order_by": "owner_id"},
        {"include": "items"},
        {"limit": 1000},
        {"skip": "x"},
        {"owner_id": "x"},
        {"q": "\x00"},
    ],
)
async def test_list_items_rejects_bad_parameters_with_422(client, alice, params):
    response = await client.get("/items/", params=params, headers=alice.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("q", ["%", "_", "%%", "lamp' OR 1=1 --", "\\", "x" * 255])
async def test_list_items_search_treats_sql_and_wildcards_as_text(client, alice, q):
    await _create(client, alice, name="plain")

    response = await client.get("/items/", params={"q": q}, headers=alice.headers)

    assert response.status_code == 200 and response.json() == []


async def test_get_item_with_and_without_owner_and_404(client, alice, bob):
    item = await _create(client, alice)

    plain = await client.get(f"/items/{item['id']}", headers=bob.headers)
    expanded = await client.get(f"/items/{item['id']}?include=owner", headers=bob.headers)
    missing = await client.get("/items/987654", headers=bob.headers)

    assert plain.json() == item
    assert expanded.json()["owner"]["id"] == alice.id
    assert missing.status_code == 404 and missing.json() == {"detail": "Item not found"}


# --- changing and deleting ----------------------------------------------------------------


async def test_owner_changes_item_and_updated_at_moves(client, alice):
    item = await _create(client, alice, description="old")

    response = await client.patch(
        f"/items/{item['id']}", json={"name": "renamed", "description": None}, headers=alice.headers
    )

    changed = response.json()
    assert response.status_code == 200
    assert (changed["name"], changed["description"]) == ("renamed", None)
    assert changed["created_at"] == item["created_at"]
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(
        item["updated_at"]
    )


async def test_patch_cannot_change_the_owner(client, alice, bob):
    item = await _create(client, alice)

    response = await client.patch(
        f"/items/{item['id']}",
        json={"owner_id": bob.id, "name": "still mine"},
        headers=alice.headers,
    )

    assert response.status_code == 200 and response.json()["owner_id"] == alice.id
    assert (await Item.get(id=item["id"])).owner_id == alice.id


async def test_other_user_may_not_change_or_delete_an_item(client, alice, bob):
    item = await _create(client, alice)

    patch = await client.patch(
        f"/items/{item['id']}", json={"name": "mine now"}, headers=bob.headers
    )
    delete = await client.delete(f"/items/{item['id']}", headers=bob.headers)

    assert patch.status_code == 403 and patch.json() == {"detail": "Not enough permissions"}
    assert delete.status_code == 403
    assert (await Item.get(id=item["id"])).name == "thing"


async def test_superuser_changes_and_deletes_any_item(client, alice, admin):
    item = await _create(client, alice)

    patch = await client.patch(
        f"/items/{item['id']}", json={"name": "moderated"}, headers=admin.headers
    )
    delete = await client.delete(f"/items/{item['id']}", headers=admin.headers)

    assert patch.status_code == 200 and patch.json()["name"] == "moderated"
    assert delete.status_code == 204 and not await Item.exists(id=item["id"])


async def test_owner_deletes_item_then_404(client, alice):
    item = await _create(client, alice)

    first = await client.delete(f"/items/{item['id']}", headers=alice.headers)
    second = await client.delete(f"/items/{item['id']}", headers=alice.headers)
    patch = await client.patch(f"/items/{item['id']}", json={"name": "x"}, headers=alice.headers)

    assert first.status_code == 204 and first.content == b""
    assert second.status_code == 404 and second.json() == {"detail": "Item not found"}
    assert patch.status_code == 404


@pytest.mark.parametrize("body", [{"name": ""}, {"name": None}, {"description": "x" * 10_001}])
async def test_patch_item_with_invalid_body_is_422(client, alice, body):
    item = await _create(client, alice)

    response = await client.patch(f"/items/{item['id']}", json=body, headers=alice.headers)

    assert response.status_code == 422
    assert (await Item.get(id=item["id"])).name == "thing"


# --- transfer -----------------------------------------------------------------------------


async def _owners(ids):
    return {item.id: item.owner_id for item in await Item.filter(id__in=ids)}


async def test_transfer_moves_all_items_and_answers_them_in_request_order(client, alice, bob):
    ids = [(await _create(client, alice, name=f"i{n}"))["id"] for n in range(3)]

    response = await client.post(
        "/items/transfer",
        json={"item_ids": ids[::-1], "new_owner_id": bob.id},
        headers=alice.headers,
    )

    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == ids[::-1]
    assert {i["owner_id"] for i in response.json()} == {bob.id}
    assert await _owners(ids) == dict.fromkeys(ids, bob.id)


async def test_transfer_with_a_missing_item_moves_nothing(client, alice, bob):
    item = await _create(client, alice)

    response = await client.post(
        "/items/transfer",
        json={"item_ids": [item["id"], 777777], "new_owner_id": bob.id},
        headers=alice.headers,
    )

    assert response.status_code == 404 and response.json() == {"detail": "Item not found"}
    assert await _owners([item["id"]]) == {item["id"]: alice.id}


async def test_transfer_with_someone_elses_item_moves_nothing(client, alice, bob, make_account):
    carol = await make_account("carol@example.com")
    mine = await _create(client, alice)
    theirs = await _create(client, bob)

    response = await client.post(
        "/items/transfer",
        json={"item_ids": [mine["id"], theirs["id"]], "new_owner_id": carol.id},
        headers=alice.headers,
    )

    assert response.status_code == 403 and response.json() == {"detail": "Not enough permissions"}
    assert await _owners([mine["id"], theirs["id"]]) == {mine["id"]: alice.id, theirs["id"]: bob.id}


async def test_transfer_to_a_missing_user_moves_nothing(client, alice):
    item = await _create(client, alice)

    response = await client.post(
        "/items/transfer",
        json={"item_ids": [item["id"]], "new_owner_id": 555555},
        headers=alice.headers,
    )

    assert response.status_code == 404 and response.json() == {"detail": "User not found"}
    assert await _owners([item["id"]]) == {item["id"]: alice.id}


async def test_superuser_transfers_anyones_items(client, alice, bob, admin):
    a = await _create(client, alice)
    b = await _create(client, bob)

    response = await client.post(
        "/items/transfer",
        json={"item_ids": [a["id"], b["id"]], "new_owner_id": admin.id},
        headers=admin.headers,
    )

    assert response.status_code == 200
    assert await _owners([a["id"], b["id"]]) == {a["id"]: admin.id, b["id"]: admin.id}


@pytest.mark.parametrize(
    "body",
    [
        {"item_ids": [], "new_owner_id": 1},
        {"item_ids": [1, 1], "new_owner_id": 1},
        {"item_ids": list(range(1, 102)), "new_owner_id": 1},
        {"item_ids": [1]},
        {"item_ids": [2**40], "new_owner_id": 1},
    ],
)
async def test_transfer_with_invalid_body_is_422(client, alice, body):
    response = await client.post("/items/transfer", json=body, headers=alice.headers)

    assert response.status_code == 422


async def test_transfer_requires_a_token(client):
    response = await client.post("/items/transfer", json={"item_ids": [1], "new_owner_id": 1})

    assert response.status_code == 401


async def test_transfer_ids_must_be_integers_not_booleans_or_strings(client, alice, bob):
    item = await _create(client, alice)

    as_bool = await client.post(
        "/items/transfer", json={"item_ids": [True], "new_owner_id": bob.id}, headers=alice.headers
    )
    as_text = await client.post(
        "/items/transfer",
        json={"item_ids": [str(item["id"])], "new_owner_id": bob.id},
        headers=alice.headers,
    )

    assert as_bool.status_code == 422 and as_text.status_code == 422
    assert await _owners([item["id"]]) == {item["id"]: alice.id}


async def test_a_rename_racing_a_transfer_never_undoes_the_transfer(client, alice, bob):
    items = [await _create(client, alice, name=f"i{n}") for n in range(10)]

    await asyncio.gather(
        *(
            client.patch(f"/items/{item['id']}", json={"name": "renamed"}, headers=alice.headers)
            for item in items
        ),
        client.post(
            "/items/transfer",
            json={"item_ids": [item["id"] for item in items], "new_owner_id": bob.id},
            headers=alice.headers,
        ),
    )

    stored = await Item.filter(id__in=[item["id"] for item in items])
    assert {item.owner_id for item in stored} == {bob.id}


@pytest.mark.parametrize("body", [b'{"name": ', b"\xff\xfe", b"[" * 100_000])
async def test_unparseable_bodies_are_4xx(client, alice, body):
    response = await client.post(
        "/items/", content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )

    assert response.status_code in (400, 422)
    assert await Item.all().count() == 0


async def test_an_empty_patch_changes_nothing_not_even_updated_at(client, alice):
    item = await _create(client, alice)

    response = await client.patch(f"/items/{item['id']}", json={}, headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == item


@pytest.mark.parametrize(
    ("name", "q"),
    [("ÉCOLE du soir", "école"), ("école", "ÉCOLE"), ("Ǆungla", "ǆ"), ("ΣΟΦΊΑ", "σοφία")],
)
async def test_search_folds_unicode_case_alike_on_both_databases(client, alice, name, q):
    """PostgreSQL's UPPER knows every alphabet (in a database of a UTF-8 locale); SQLite's
    only ASCII, unless the app's."""
    (folded,) = await connections.get(PRIMARY).execute_query_dict("SELECT UPPER('é') AS e")
    if folded["e"] != "É":
        pytest.skip("this PostgreSQL database's LC_CTYPE is C: its UPPER folds ASCII only")
    item = await _create(client, alice, name=name)

    response = await client.get("/items/", params={"q": q}, headers=alice.headers)

    assert [found["id"] for found in response.json()] == [item["id"]]


async def test_search_keeps_characters_without_a_one_character_capital(client, alice):
    """`ß` has no one-letter capital: PostgreSQL's UPPER keeps it, so does the app's."""
    item = await _create(client, alice, name="Straße")

    found = await client.get("/items/", params={"q": "STRAß"}, headers=alice.headers)
    not_found = await client.get("/items/", params={"q": "STRASSE"}, headers=alice.headers)

    assert [each["id"] for each in found.json()] == [item["id"]] and not_found.json() == []


@pytest.mark.parametrize("q", ["%" * 255, "-" * 255, "' OR 1=1 --", "_%_", "a-b-c d e f", "ab_"])
async def test_a_search_the_trigram_index_cannot_serve_is_422_with_the_reason(client, alice, q):
    """3 characters or more without 3 letters or digits in a row: on PostgreSQL a scan
    of the whole table, twice (page and count), matching up to 255 characters a row."""
    response = await client.get("/items/", params={"q": q}, headers=alice.headers)
    own = await client.get(f"/users/{alice.id}/items", params={"q": q}, headers=alice.headers)

    assert response.status_code == own.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "q"] and "3 letters or digits in a row" in error["msg"]


@pytest.mark.parametrize("q", ["LO", "é", "--lamp--", "%lamp%", "x" * 255, "été"])
async def test_a_short_search_or_one_with_a_trigram_is_served(client, alice, q):
    response = await client.get("/items/", params={"q": q}, headers=alice.headers)

    assert response.status_code == 200
