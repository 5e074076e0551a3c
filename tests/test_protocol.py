"""HTTP details a careful client relies on: every path with and without the slash, HEAD,
405 for a known path and the wrong method, and the headers of a 500."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
        ("GET", "/stats"),
        ("POST", "/auth/token"),
        ("GET", "/users/me"),
    ],
)
async def test_every_path_answers_with_and_without_the_trailing_slash(client, alice, method, path):
    data = {"username": "alice", "password": alice.password} if method == "POST" else None
    for variant in (path, f"{path}/"):
        response = await client.request(method, variant, headers=alice.headers, data=data)

        assert response.status_code == 200, (variant, response.text)


@pytest.mark.parametrize("path", ["/health", "/users/me", "/users/", "/items/", "/stats"])
async def test_head_answers_like_get_without_a_body(client, alice, path):
    get = await client.get(path, headers=alice.headers)
    head = await client.head(path, headers=alice.headers)

    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/items/transfer", "POST"),
        ("PATCH", "/users/me", "GET"),
        ("PUT", "/items/1", "GET"),
    ],
)
async def test_a_known_path_with_the_wrong_method_is_405(client, alice, method, path, allowed):
    response = await client.request(method, path, headers=alice.headers, json={})

    assert response.status_code == 405, response.text
    assert allowed in response.headers["allow"].split(", ")


async def test_a_500_carries_the_security_headers_the_request_id_and_no_internals():
    application = create_app()

    async def broken() -> None:
        raise RuntimeError("secret internals: SELECT * FROM users")

    application.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with (
        LifespanManager(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        response = await http.get("/broken", headers={"X-Request-ID": "broken-1"})
        anonymous = await http.get("/broken")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert response.headers["X-Request-ID"] == "broken-1"  # the contract: every response
    assert len(anonymous.headers["X-Request-ID"]) == 32
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"
