"""ETag on reads, If-Match on PATCH and DELETE: no lost updates (412 when stale)."""

import pytest

from app.models import Item, User


@pytest.fixture
async def item(client, alice):
    response = await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    return response.json()


async def _etag(client, path, headers):
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    return response.headers["ETag"]


@pytest.mark.parametrize("kind", ["item", "user"])
async def test_a_stale_if_match_gets_412_and_changes_nothing(client, alice, item, kind):
    path = f"/items/{item['id']}" if kind == "item" else f"/users/{alice.id}"
    field = "name" if kind == "item" else "username"
    etag = await _etag(client, path, alice.headers)

    first = await client.patch(
        path, json={field: "first"}, headers={**alice.headers, "If-Match": etag}
    )
    second = await client.patch(
        path, json={field: "second"}, headers={**alice.headers, "If-Match": etag}
    )

    assert first.status_code == 200 and first.headers["ETag"] != etag
    assert second.status_code == 412
    assert second.json() == {"detail": "Precondition failed: the resource has changed"}
    assert (await client.get(path, headers=alice.headers)).json()[field] == "first"


async def test_the_etag_from_a_patch_allows_the_next_patch(client, alice, item):
    path = f"/items/{item['id']}"
    etag = await _etag(client, path, alice.headers)

    first = await client.patch(
        path, json={"name": "a"}, headers={**alice.headers, "If-Match": etag}
    )
    second = await client.patch(
        path, json={"name": "b"}, headers={**alice.headers, "If-Match": first.headers["ETag"]}
    )

    assert second.status_code == 200
    assert second.headers["ETag"] == await _etag(client, path, alice.headers)


@pytest.mark.parametrize(
    "if_match", ['"999"', 'W/"1"', "garbage", '"99999999999"', '"1"x', '"01"', '" 1"'], ids=str
)
async def test_if_match_that_does_not_match_is_412(client, alice, item, if_match):
    response = await client.patch(
        f"/items/{item['id']}", json={"name": "x"}, headers={**alice.headers, "If-Match": if_match}
    )

    assert response.status_code == 412
    assert (await Item.get(id=item["id"])).name == "lamp"


@pytest.mark.parametrize("if_match", ["*", '"7", "1"'])
async def test_if_match_star_or_a_list_containing_the_version_applies(
    client, alice, item, if_match
):
    response = await client.patch(
        f"/items/{item['id']}", json={"name": "x"}, headers={**alice.headers, "If-Match": if_match}
    )

    assert response.status_code == 200


async def test_delete_with_stale_if_match_is_412_and_keeps_the_row(client, alice, item):
    path = f"/items/{item['id']}"
    etag = await _etag(client, path, alice.headers)
    await client.patch(path, json={"name": "changed"}, headers=alice.headers)

    stale = await client.delete(path, headers={**alice.headers, "If-Match": etag})
    current = await client.delete(
        path, headers={**alice.headers, "If-Match": await _etag(client, path, alice.headers)}
    )

    assert stale.status_code == 412
    assert current.status_code == 204 and not await Item.exists(id=item["id"])


async def test_delete_user_honours_if_match(client, alice):
    stale = await client.delete(f"/users/{alice.id}", headers={**alice.headers, "If-Match": '"42"'})

    assert stale.status_code == 412 and await User.exists(id=alice.id)


async def test_without_if_match_changes_apply_as_before_and_bump_the_etag(client, alice, item):
    path = f"/items/{item['id']}"
    before = await _etag(client, path, alice.headers)

    response = await client.patch(path, json={"description": "d"}, headers=alice.headers)

    assert response.status_code == 200
    assert response.headers["ETag"] != before


async def test_transfer_bumps_the_version(client, alice, bob, item):
    path = f"/items/{item['id']}"
    before = await _etag(client, path, alice.headers)

    await client.post(
        "/items/transfer",
        json={"item_ids": [item["id"]], "new_owner_id": bob.id},
        headers=alice.headers,
    )

    stale = await client.patch(
        path, json={"name": "x"}, headers={**bob.headers, "If-Match": before}
    )
    assert stale.status_code == 412


async def test_me_carries_an_etag(client, alice):
    response = await client.get("/users/me", headers=alice.headers)

    assert response.headers["ETag"] == '"1"'
