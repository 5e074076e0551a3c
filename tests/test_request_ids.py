"""`X-Request-ID` on every answer: the client's own when it is valid, else a new one."""

import re

import pytest

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/health/live"),
        ("get", "/users/me"),  # 401
        ("get", "/nowhere"),  # 404
        ("post", "/users/"),  # 422
    ],
)
async def test_every_answer_carries_a_new_id_when_the_client_sent_none(client, method, path):
    first = await client.request(method, path)
    second = await client.request(method, path)

    ids = [response.headers.get("X-Request-ID", "") for response in (first, second)]
    assert all(GENERATED.fullmatch(value) for value in ids), ids
    assert ids[0] != ids[1]


@pytest.mark.parametrize("sent", ["a", "req-42_x.y", "A" * 128, "0123456789abcdef" * 2])
async def test_a_valid_id_from_the_client_comes_back(client, alice, sent):
    response = await client.get("/users/me", headers={**alice.headers, "X-Request-ID": sent})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent", ["A" * 129, "with space", "semi;colon", "caf\xc3\xa9".encode("latin-1"), "a/b", "<x>"]
)
async def test_an_invalid_id_is_replaced_by_a_new_one(client, sent):
    response = await client.get("/health/live", headers={"X-Request-ID": sent})

    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


async def test_browsers_may_send_and_read_the_id(client):
    preflight = await client.options(
        "/users/me",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-request-id",
        },
    )
    assert preflight.status_code == 200
    answer = await client.get("/health/live", headers={"Origin": "https://app.example.com"})
    assert "x-request-id" in answer.headers["Access-Control-Expose-Headers"].lower()
