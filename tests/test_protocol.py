"""HTTP details a careful client relies on: every path with and without the slash, HEAD,
405 for a known path and the wrong method, and the headers of a 500."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import get_settings
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


async def test_a_host_not_allowed_is_400_and_never_reaches_a_link(client, alice):
    """The next page's absolute URL is built from the request's Host: only an allowed
    one (ALLOWED_HOSTS; by default the loopback names) is answered."""
    for name in ("a", "b"):
        await client.post("/items/", json={"name": name}, headers=alice.headers)

    forged = await client.get("/items/?limit=1", headers={**alice.headers, "Host": "evil.example"})
    own = await client.get("/items/?limit=1", headers=alice.headers)
    local = await client.get("/items/?limit=1", headers={**alice.headers, "Host": "localhost:8000"})

    assert (forged.status_code, forged.json()) == (400, {"detail": "Invalid host header"})
    assert "evil" not in forged.headers.get("Link", "")
    assert own.links["next"]["url"].startswith("http://testserver/items/?")
    assert local.links["next"]["url"].startswith("http://localhost:8000/items/?")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("api.example.com", 200),
        ("API.Example.COM:443", 200),
        ("eu.api.example.com", 200),
        ("example.com", 400),
        ("evil.example", 400),
        ("api.example.com.evil.example", 400),
        ("", 400),
    ],
)
async def test_allowed_hosts_match_names_and_dotted_domains(host, status):
    settings = get_settings().model_copy(update={"allowed_hosts": [".api.example.com"]})
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        answer = await http.get("/health/live", headers={"Host": host})
        probe = await http.get("/openapi.json", headers={"Host": host})

    assert probe.status_code == status
    assert answer.status_code == 200  # a liveness probe names no host of the service's
