"""`/users`: sign-up, listing, reading, changing and deleting accounts."""

import asyncio
from datetime import UTC, datetime

import pytest

from app.models import Item, User
from tests.fixtures import PASSWORD, login

USER_FIELDS = {
    *("id", "email", "username", "is_active", "is_superuser", "is_verified"),
    *("created_at", "updated_at"),
}


# --- sign-up ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/", "/users"])
async def test_signup_answers_201_with_and_without_trailing_slash(client, path):
    response = await client.post(path, json={"email": "new@example.com", "password": PASSWORD})

    assert response.status_code == 201
    user = response.json()
    assert set(user) == USER_FIELDS
    assert user["email"] == "new@example.com"
    assert user["username"] is None
    assert user["is_active"] is True and user["is_superuser"] is False
    assert user["is_verified"] is False


async def test_signup_stores_email_lower_cased_and_keeps_username_case(client):
    response = await client.post(
        "/users/",
        json={"email": "Mixed.Case@Example.COM", "password": PASSWORD, "username": "Ann.B"},
    )

    assert response.status_code == 201
    assert response.json()["email"] == "mixed.case@example.com"
    assert response.json()["username"] == "Ann.B"


async def test_timestamps_are_iso8601_with_utc_offset(client, alice):
    user = (await client.get("/users/me", headers=alice.headers)).json()

    for field in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(user[field])
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0
        assert user[field].endswith("+00:00")


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.com"])
async def test_signup_with_taken_email_in_any_case_is_400(client, alice, email):
    response = await client.post("/users/", json={"email": email, "password": PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}
    assert await User.all().count() == 1


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
async def test_signup_with_taken_username_in_any_case_is_400(client, alice, username):
    response = await client.post(
        "/users/", json={"email": "other@example.com", "password": PASSWORD, "username": username}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Username already taken"}


async def test_signup_ignores_privileged_fields(client):
    response = await client.post(
        "/users/",
        json={
            "email": "sneaky@example.com",
            "password": PASSWORD,
            "is_superuser": True,
            "is_active": False,
            "id": 999,
            "hashed_password": "x",
        },
    )

    assert response.status_code == 201
    user = response.json()
    assert user["is_superuser"] is False and user["is_active"] is True and user["id"] != 999
    stored = await User.get(id=user["id"])
    assert stored.is_superuser is False and stored.hashed_password.startswith("$argon2")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "x" * 129},
        {"email": "a@example.com", "password": PASSWORD, "username": "ab"},
        {"email": "a@example.com", "password": PASSWORD, "username": "x" * 51},
        {"email": "a@example.com", "password": PASSWORD, "username": "has space"},
        {"email": "a@example.com", "password": PASSWORD, "username": "semi;colon"},
        {"email": "a@example.com", "password": PASSWORD, "items": [{"name": ""}]},
        {"email": "a@example.com", "password": PASSWORD, "items": [{"name": "x" * 256}]},
        {"password": PASSWORD},
        {"email": "a@example.com"},
    ],
)
async def test_signup_with_invalid_body_is_422_and_creates_nothing(client, body):
    response = await client.post("/users/", json=body)

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert await User.all().count() == 0


async def test_signup_with_items_creates_them_owned_by_the_new_user(client):
    response = await client.post(
        "/users/",
        json={
            "email": "maker@example.com",
            "password": PASSWORD,
            "items": [{"name": "hammer", "description": "heavy"}, {"name": "nail"}],
        },
    )

    assert response.status_code == 201
    items = await Item.filter(owner_id=response.json()["id"]).order_by("id")
    assert [(i.name, i.description) for i in items] == [("hammer", "heavy"), ("nail", None)]
    assert all(i.created_at is not None for i in items)


async def test_signup_with_items_is_all_or_nothing(client, monkeypatch):
    """A failure after the user row is written rolls the user back too."""

    async def failing_bulk_create(*args, **kwargs):
        raise RuntimeError("disk full while writing items")

    monkeypatch.setattr(Item, "bulk_create", failing_bulk_create)
    client._transport.raise_app_exceptions = False  # let the app answer its 500

    response = await client.post(
        "/users/",
        json={"email": "half@example.com", "password": PASSWORD, "items": [{"name": "a"}]},
    )

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert await User.filter(email="half@example.com").count() == 0


async def test_concurrent_signups_with_one_email_create_exactly_one_user(client):
    """Run for real against the database: the unique constraint decides, never a 500."""
    bodies = [
        {"email": "RACE@example.com" if i % 2 else "race@example.com", "password": PASSWORD}
        for i in range(12)
    ]

    responses = await asyncio.gather(*(client.post("/users/", json=b) for b in bodies))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 11
    assert {r.json()["detail"] for r in responses if r.status_code == 400} == {
        "Email already registered"
    }
    assert await User.filter(email="race@example.com").count() == 1


async def test_concurrent_signups_with_one_username_create_exactly_one_user(client):
    bodies = [
        {
            "email": f"u{i}@example.com",
            "password": PASSWORD,
            "username": "RACER" if i % 2 else "racer",
        }
        for i in range(10)
    ]

    responses = await asyncio.gather(*(client.post("/users/", json=b) for b in bodies))

    assert sorted(r.status_code for r in responses) == [201] + [400] * 9
    assert {r.json()["detail"] for r in responses if r.status_code == 400} == {
        "Username already taken"
    }


# --- listing and reading ------------------------------------------------------------------


async def test_listing_users_requires_a_token(client):
    response = await client.get("/users/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/users/", "/users"])
async def test_list_users_pages_with_total_count(client, make_account, path):
    accounts = [await make_account() for _ in range(5)]

    response = await client.get(path, params={"skip": 1, "limit": 2}, headers=accounts[0].headers)

    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "5"
    assert [u["id"] for u in response.json()] == [accounts[1].id, accounts[2].id]
    assert all(set(u) == USER_FIELDS for u in response.json())


async def test_list_users_filters_by_email_substring_case_insensitively(client, alice, bob):
    response = await client.get("/users/", params={"email": "ALI"}, headers=alice.headers)

    assert [u["email"] for u in response.json()] == ["alice@example.com"]
    assert response.headers["X-Total-Count"] == "1"


async def test_list_users_email_filter_treats_like_wildcards_literally(client, alice, bob):
    response = await client.get("/users/", params={"email": "%"}, headers=alice.headers)

    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


async def test_list_users_filters_by_is_active(client, alice, bob):
    await User.filter(id=bob.id).update(is_active=False)

    active = await client.get("/users/", params={"is_active": "true"}, headers=alice.headers)
    inactive = await client.get("/users/", params={"is_active": "false"}, headers=alice.headers)

    assert [u["id"] for u in active.json()] == [alice.id]
    assert [u["id"] for u in inactive.json()] == [bob.id]


async def test_list_users_orders_by_field_with_ties_broken_by_ascending_id(client, make_account):
    a = await make_account("c@example.com", username="same_a")
    b = await make_account("a@example.com", username="same_b")
    c = await make_account("b@example.com", username="same_c")
    await User.filter(id__in=[a.id, b.id, c.id]).update(created_at=datetime(2026, 1, 1, tzinfo=UTC))

    by_email = await client.get("/users/", params={"order_by": "-email"}, headers=a.headers)
    by_created = await client.get("/users/", params={"order_by": "-created_at"}, headers=a.headers)
    by_id_desc = await client.get("/users/", params={"order_by": "-id"}, headers=a.headers)

    assert [u["email"] for u in by_email.json()] == [
        "c@example.com",
        "b@example.com",
        "a@example.com",
    ]
    assert [u["id"] for u in by_created.json()] == [a.id, b.id, c.id]
    assert [u["id"] for u in by_id_desc.json()] == [c.id, b.id, a.id]


@pytest.mark.parametrize(
    "params",
    [
        {"skip": -1},
        {"limit": 0},
        {"limit": 101},
        {"order_by": "hashed_password"},
        {"order_by": "--id"},
        {"include": "owner"},
        {"include": "secrets"},
        {"is_active": "maybe"},
    ],
)
async def test_list_users_rejects_bad_parameters_with_422(client, alice, params):
    response = await client.get("/users/", params=params, headers=alice.headers)

    assert response.status_code == 422


async def test_list_users_include_items_nests_each_users_items(client, alice, bob):
    await client.post("/items/", json={"name": "a1"}, headers=alice.headers)
    await client.post("/items/", json={"name": "a2"}, headers=alice.headers)

    response = await client.get("/users/", params={"include": "items"}, headers=alice.headers)

    users = {u["id"]: u for u in response.json()}
    assert [i["name"] for i in users[alice.id]["items"]] == ["a1", "a2"]
    assert users[bob.id]["items"] == []
    assert users[alice.id]["items"][0]["owner_id"] == alice.id


async def test_get_me_returns_the_caller(client, alice):
    response = await client.get("/users/me", headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == alice.user | {"updated_at": response.json()["updated_at"]}


async def test_get_user_by_id_with_and_without_items(client, alice, bob):
    await client.post("/items/", json={"name": "b1"}, headers=bob.headers)

    plain = await client.get(f"/users/{bob.id}", headers=alice.headers)
    expanded = await client.get(f"/users/{bob.id}?include=items", headers=alice.headers)

    assert plain.status_code == 200 and set(plain.json()) == USER_FIELDS
    assert [i["name"] for i in expanded.json()["items"]] == ["b1"]


@pytest.mark.parametrize("user_id", [999999])
async def test_get_missing_user_is_404(client, alice, user_id):
    response = await client.get(f"/users/{user_id}", headers=alice.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.parametrize("user_id", ["0", "99999999999"])
async def test_get_user_with_invalid_id_is_422(client, alice, user_id):
    response = await client.get(f"/users/{user_id}", headers=alice.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/users/abc", "/users/-1", "/items/abc", "/users/abc/items"])
async def test_a_path_that_names_no_id_is_404(client, alice, path):
    response = await client.get(path, headers=alice.headers)

    assert response.status_code == 404


async def test_list_a_users_items_and_404_for_missing_user(client, alice, bob):
    await client.post("/items/", json={"name": "mine"}, headers=alice.headers)
    await client.post("/items/", json={"name": "theirs"}, headers=bob.headers)

    response = await client.get(f"/users/{alice.id}/items", headers=bob.headers)
    missing = await client.get("/users/424242/items", headers=bob.headers)

    assert [i["name"] for i in response.json()] == ["mine"]
    assert response.headers["X-Total-Count"] == "1"
    assert missing.status_code == 404 and missing.json() == {"detail": "User not found"}


async def test_a_users_items_take_the_item_list_parameters(client, alice):
    for name in ("pear", "apple", "apricot"):
        await client.post("/items/", json={"name": name}, headers=alice.headers)

    response = await client.get(
        f"/users/{alice.id}/items",
        params={"q": "AP", "order_by": "name", "include": "owner", "limit": 1},
        headers=alice.headers,
    )

    assert response.headers["X-Total-Count"] == "2"
    assert [(i["name"], i["owner"]["id"]) for i in response.json()] == [("apple", alice.id)]


# --- changing -----------------------------------------------------------------------------


async def test_user_changes_own_email_username_and_password(client, alice):
    before = (await client.get("/users/me", headers=alice.headers)).json()

    response = await client.patch(
        f"/users/{alice.id}",
        json={"email": "New.Alice@Example.com", "username": "alice2", "password": "new password!"},
        headers=alice.headers,
    )

    assert response.status_code == 200
    after = response.json()
    assert after["email"] == "new.alice@example.com" and after["username"] == "alice2"
    assert after["created_at"] == before["created_at"]
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )
    assert await login(client, "alice2", "new password!")
    old = await client.post("/auth/token", data={"username": "alice2", "password": PASSWORD})
    assert old.status_code == 401


async def test_user_may_remove_own_username(client, alice):
    response = await client.patch(
        f"/users/{alice.id}", json={"username": None}, headers=alice.headers
    )

    assert response.status_code == 200 and response.json()["username"] is None


async def test_user_may_not_change_another_user(client, alice, bob):
    response = await client.patch(
        f"/users/{bob.id}", json={"username": "hacked"}, headers=alice.headers
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    assert (await User.get(id=bob.id)).username == "bob"


@pytest.mark.parametrize("flag", [{"is_active": False}, {"is_superuser": True}])
async def test_user_may_not_change_own_flags(client, alice, flag):
    response = await client.patch(f"/users/{alice.id}", json=flag, headers=alice.headers)

    assert response.status_code == 403
    stored = await User.get(id=alice.id)
    assert stored.is_active is True and stored.is_superuser is False


async def test_superuser_changes_any_user_and_their_flags(client, admin, bob):
    response = await client.patch(
        f"/users/{bob.id}",
        json={"is_superuser": True, "is_active": False, "username": "robert"},
        headers=admin.headers,
    )

    assert response.status_code == 200
    assert response.json()["is_superuser"] is True and response.json()["is_active"] is False
    assert response.json()["username"] == "robert"


async def test_patch_missing_user_is_404(client, admin):
    response = await client.patch("/users/31337", json={"username": "ghost"}, headers=admin.headers)

    assert response.status_code == 404 and response.json() == {"detail": "User not found"}


async def test_patch_to_a_taken_email_or_username_is_400(client, alice, bob):
    email = await client.patch(
        f"/users/{alice.id}", json={"email": "BOB@example.com"}, headers=alice.headers
    )
    name = await client.patch(f"/users/{alice.id}", json={"username": "Bob"}, headers=alice.headers)

    assert (email.status_code, email.json()) == (400, {"detail": "Email already registered"})
    assert (name.status_code, name.json()) == (400, {"detail": "Username already taken"})
    assert (await User.get(id=alice.id)).email == "alice@example.com"


async def test_patch_to_own_current_email_in_another_case_is_fine(client, alice):
    response = await client.patch(
        f"/users/{alice.id}", json={"email": "ALICE@example.com"}, headers=alice.headers
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body", [{"email": None}, {"is_active": None}, {"password": "short"}, {"username": "a b"}]
)
async def test_patch_with_invalid_body_is_422(client, alice, body):
    response = await client.patch(f"/users/{alice.id}", json=body, headers=alice.headers)

    assert response.status_code == 422


# --- deleting -----------------------------------------------------------------------------


async def test_user_deletes_self_with_their_items(client, alice, bob):
    await client.post("/items/", json={"name": "gone"}, headers=alice.headers)
    await client.post("/items/", json={"name": "kept"}, headers=bob.headers)

    response = await client.delete(f"/users/{alice.id}", headers=alice.headers)

    assert response.status_code == 204 and response.content == b""
    assert not await User.exists(id=alice.id)
    assert [i.name for i in await Item.all()] == ["kept"]


async def test_user_may_not_delete_another_user(client, alice, bob):
    response = await client.delete(f"/users/{bob.id}", headers=alice.headers)

    assert response.status_code == 403 and await User.exists(id=bob.id)


async def test_superuser_deletes_any_user_and_404_when_missing(client, admin, bob):
    deleted = await client.delete(f"/users/{bob.id}", headers=admin.headers)
    again = await client.delete(f"/users/{bob.id}", headers=admin.headers)

    assert deleted.status_code == 204
    assert again.status_code == 404 and again.json() == {"detail": "User not found"}


async def test_deactivation_racing_the_users_own_change_is_never_undone(client, alice, admin):
    await asyncio.gather(
        client.patch(f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers),
        *(
            client.patch(
                f"/users/{alice.id}", json={"username": f"alice{n}"}, headers=alice.headers
            )
            for n in range(5)
        ),
    )

    assert (await User.get(id=alice.id)).is_active is False


async def test_item_collection_of_a_user_answers_with_trailing_slash_too(client, alice):
    await client.post("/items/", json={"name": "x"}, headers=alice.headers)

    response = await client.get(f"/users/{alice.id}/items/", headers=alice.headers)

    assert response.status_code == 200 and len(response.json()) == 1


@pytest.mark.parametrize("body", [{"is_active": "false"}, {"is_superuser": 1}])
async def test_patch_flags_must_be_json_booleans(client, admin, alice, body):
    response = await client.patch(f"/users/{alice.id}", json=body, headers=admin.headers)

    assert response.status_code == 422


async def test_include_items_embeds_the_first_100_items_of_each_user(client, alice, bob):
    await Item.bulk_create([Item(owner_id=alice.id, name=f"a{n}") for n in range(150)])
    await Item.bulk_create([Item(owner_id=bob.id, name=f"b{n}") for n in range(3)])
    alices = [i.id for i in await Item.filter(owner_id=alice.id).order_by("id")]

    one = await client.get(f"/users/{alice.id}?include=items", headers=bob.headers)
    listed = await client.get("/users/?include=items", headers=bob.headers)
    paged = await client.get(f"/users/{alice.id}/items?skip=100", headers=bob.headers)

    assert [i["id"] for i in one.json()["items"]] == alices[:100]
    by_user = {user["id"]: user["items"] for user in listed.json()}
    assert [i["id"] for i in by_user[alice.id]] == alices[:100]
    assert [i["name"] for i in by_user[bob.id]] == ["b0", "b1", "b2"]
    assert [i["id"] for i in paged.json()] == alices[100:]
    assert paged.headers["X-Total-Count"] == "150"


async def test_a_user_with_many_items_does_not_crowd_out_the_next_ones(client, alice, bob):
    # Two users on the page have room for 200 items in the first query; alice's 250
    # lower ids fill it, so bob's must come from the exact per-user query.
    await Item.bulk_create([Item(owner_id=alice.id, name=f"a{n}") for n in range(250)])
    await Item.bulk_create([Item(owner_id=bob.id, name=f"b{n}") for n in range(3)])

    listed = await client.get("/users/?limit=2&include=items", headers=bob.headers)

    by_user = {user["id"]: user["items"] for user in listed.json()}
    assert len(by_user[alice.id]) == 100
    assert [i["name"] for i in by_user[bob.id]] == ["b0", "b1", "b2"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_another_users_missing_id_is_404_before_403(client, alice, method):
    response = await client.request(
        method, "/users/999999", json={"username": "x-name"}, headers=alice.headers
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}
