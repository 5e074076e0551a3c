"""Oversized bodies, CORS, and the security headers on every response."""

import pytest

from app.models import Item, User
from tests.fixtures import PASSWORD

MIB = 1024 * 1024


async def test_a_body_over_one_mib_is_413_and_writes_nothing(client, alice):
    body = b'{"name": "x", "description": "' + b"y" * MIB + b'"}'

    response = await client.post(
        "/items/", content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")
    assert await Item.all().count() == 0


async def test_a_streamed_body_over_one_mib_is_413_too(client):
    async def chunks():
        for _ in range(20):
            yield b"x" * (64 * 1024)

    response = await client.post(
        "/users/", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert await User.all().count() == 0


async def test_a_body_just_under_the_limit_is_read(client, alice):
    body = {"name": "x", "description": "y" * 10_000}

    response = await client.post("/items/", json=body, headers=alice.headers)

    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/health", "/users/me", "/nope"])
async def test_responses_carry_security_headers(client, path):
    response = await client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["Cache-Control"] == "no-store"


async def test_cors_allows_only_the_configured_origin(client, alice):
    allowed = await client.get(
        "/users/me", headers={**alice.headers, "Origin": "https://app.example.com"}
    )
    other = await client.get(
        "/users/me", headers={**alice.headers, "Origin": "https://evil.example"}
    )

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Total-Count" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_cors_preflight_from_an_unknown_origin_is_refused(client):
    preflight = {"Access-Control-Request-Method": "PATCH"}

    allowed = await client.options(
        "/items/1", headers={**preflight, "Origin": "https://app.example.com"}
    )
    refused = await client.options(
        "/items/1", headers={**preflight, "Origin": "https://evil.example"}
    )

    assert allowed.status_code == 200
    assert refused.status_code == 400 and "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize(
    "params",
    [
        {"email": "' OR '1'='1"},
        {"email": "%' --"},
        {"email": "x" * 255},
        {"email": "\\"},
        {"email": "😀"},
    ],
)
async def test_user_filters_treat_sql_and_long_strings_as_plain_text(client, alice, params):
    response = await client.get("/users/", params=params, headers=alice.headers)

    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    ("path", "name"), [("/users/", "email"), ("/items/", "q"), ("/users/1/items", "q")]
)
async def test_filter_text_longer_than_any_stored_value_is_422(client, alice, path, name):
    """SQLite refused such LIKE patterns with a 500 ("LIKE or GLOB pattern too complex")."""
    for length in (256, 50_000):
        response = await client.get(path, params={name: "x" * length}, headers=alice.headers)

        assert response.status_code == 422, (length, response.text)


async def test_signup_cannot_set_timestamps_or_ids(client):
    response = await client.post(
        "/users/",
        json={
            "email": "t@example.com",
            "password": PASSWORD,
            "created_at": "2000-01-01T00:00:00+00:00",
            "updated_at": "2000-01-01T00:00:00+00:00",
            "version": 99,
            "token_version": 99,
        },
    )

    assert response.status_code == 201
    assert not response.json()["created_at"].startswith("2000")
    stored = await User.get(email="t@example.com")
    assert stored.version == 1 and stored.token_version == 0


async def test_item_bodies_cannot_set_owner_id_or_timestamps(client, alice, bob):
    created = await client.post(
        "/items/",
        json={"name": "x", "owner_id": bob.id, "id": 5, "created_at": "2000-01-01T00:00:00Z"},
        headers=alice.headers,
    )
    patched = await client.patch(
        f"/items/{created.json()['id']}",
        json={"owner_id": bob.id, "updated_at": "2000-01-01T00:00:00Z", "version": 7},
        headers=alice.headers,
    )

    assert created.json()["owner_id"] == alice.id and not created.json()["created_at"].startswith(
        "2000"
    )
    assert patched.json()["owner_id"] == alice.id
    assert (await Item.get(id=created.json()["id"])).version == 1  # nothing it may change


@pytest.mark.parametrize("path", ["/users/{}", "/items/{}", "/users/{}/items"])
async def test_an_id_of_thousands_of_digits_is_answered_as_any_id_out_of_range(client, alice, path):
    out_of_range = await client.get(path.format(2**31), headers=alice.headers)
    huge = await client.get(path.format("9" * 5000), headers=alice.headers)
    anonymous = await client.get(path.format("9" * 5000))

    assert out_of_range.status_code < 500
    assert (huge.status_code, huge.json()) == (out_of_range.status_code, out_of_range.json())
    assert anonymous.status_code == 401
