"""Who may change what: every mutating endpoint against every kind of caller, from one table.

A refused request (4xx) must leave every row as it was.
"""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.core.config import get_settings
from app.models import Item, Session, User

ACTORS = ("owner", "other", "superuser", "anonymous", "deactivated", "expired")

# endpoint: (method, path template, body) and the status each actor gets, in ACTORS order.
MATRIX = {
    "patch user": (
        ("patch", "/users/{user_id}", {"username": "renamed"}),
        (200, 403, 200, 401, 401, 401),
    ),
    "patch user flags": (
        ("patch", "/users/{user_id}", {"is_active": False}),
        (403, 403, 200, 401, 401, 401),
    ),
    "delete user": (("delete", "/users/{user_id}", None), (204, 403, 204, 401, 401, 401)),
    "create item": (("post", "/items/", {"name": "new"}), (201, 201, 201, 401, 401, 401)),
    "patch item": (
        ("patch", "/items/{item_id}", {"name": "renamed"}),
        (200, 403, 200, 401, 401, 401),
    ),
    "delete item": (("delete", "/items/{item_id}", None), (204, 403, 204, 401, 401, 401)),
    "transfer": (
        ("post", "/items/transfer", {"item_ids": ["{item_id}"], "new_owner_id": "{other_id}"}),
        (200, 403, 200, 401, 401, 401),
    ),
    "refresh": (
        ("post", "/auth/refresh", {"refresh_token": "{refresh_token}"}),  # the owner's
        (200, 200, 200, 200, 200, 200),  # the refresh token is the credential
    ),
    "log out": (("post", "/auth/logout", None), (204, 204, 204, 401, 401, 401)),
    "end a session": (  # the owner's session: even a superuser cannot end another's
        ("delete", "/auth/sessions/{session_id}", None),
        (204, 404, 404, 401, 401, 401),
    ),
    "sign up": (
        ("post", "/users/", {"email": "new@example.com", "password": "long enough"}),
        (201, 201, 201, 201, 201, 201),
    ),
    "ask for a verification mail": (
        ("post", "/auth/verify/request", None),
        (202, 202, 202, 401, 401, 401),
    ),
    # Public: the mailed token is the credential, whoever sends it.
    "ask for a password reset": (
        ("post", "/auth/password-reset", {"email": "owner@example.com"}),
        (202, 202, 202, 202, 202, 202),
    ),
    "reset a password with a wrong token": (
        ("post", "/auth/password-reset/confirm", {"token": "nope", "password": "long enough"}),
        (400, 400, 400, 400, 400, 400),
    ),
    "verify with a wrong token": (
        ("post", "/auth/verify", {"token": "nope"}),
        (400, 400, 400, 400, 400, 400),
    ),
}
CASES = [
    pytest.param(endpoint, actor, expected[i], id=f"{endpoint}-{actor}")
    for endpoint, (_, expected) in MATRIX.items()
    for i, actor in enumerate(ACTORS)
]


def _expired_token(user_id: int) -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {
        "sub": str(user_id),
        "ver": 0,
        "sid": 1,
        "iat": past,
        "exp": past + timedelta(hours=1),
    }
    return jwt.encode(claims, get_settings().secret_key, algorithm="HS256")


@pytest.fixture
async def world(client, make_account):
    """The owner of one item, another user, a superuser, and a since-deactivated user."""
    owner = await make_account("owner@example.com")
    other = await make_account("other@example.com")
    superuser = await make_account("root@example.com", superuser=True)
    deactivated = await make_account("gone@example.com")
    await client.patch(
        f"/users/{deactivated.id}", json={"is_active": False}, headers=superuser.headers
    )
    item = (await client.post("/items/", json={"name": "thing"}, headers=owner.headers)).json()
    headers = {
        "owner": owner.headers,
        "other": other.headers,
        "superuser": superuser.headers,
        "anonymous": {},
        "deactivated": deactivated.headers,
        "expired": {"Authorization": f"Bearer {_expired_token(owner.id)}"},
    }
    (session,) = (await client.get("/auth/sessions", headers=owner.headers)).json()
    ids = {
        "user_id": owner.id,
        "other_id": other.id,
        "item_id": item["id"],
        "session_id": session["id"],
        "refresh_token": owner.refresh_token,
    }
    return headers, ids


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _snapshot():
    return (
        await User.all().order_by("id").values(),
        await Item.all().order_by("id").values(),
        await Session.all().order_by("id").values(),
    )


def test_the_matrix_covers_every_mutating_operation(app):
    mutating = {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method not in ("get", "head")
    } - {("post", "/auth/token")}

    assert mutating == {(method, path) for (method, path, _), _ in MATRIX.values()}


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES)
async def test_access(client, world, endpoint, actor, expected):
    headers, ids = world
    (method, path, body), _ = MATRIX[endpoint]
    before = await _snapshot()

    response = await client.request(
        method, _fill(path, ids), json=_fill(body, ids), headers=headers[actor]
    )

    assert response.status_code == expected, response.text
    if expected >= 400:
        assert await _snapshot() == before
        if expected == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"
