"""`/stats`, the health probes, and what every route answers when the database is
unreachable."""

import shutil
import sys

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import get_settings
from app.core.security import create_access_token
from app.db.applied import MIGRATIONS_DIR, migration_files
from app.main import create_app
from app.models import User
from tests.support import UPGRADE_FROM, run, scratch_database


async def test_stats_counts_in_the_database(client, make_account):
    accounts = [await make_account() for _ in range(7)]
    await User.filter(id=accounts[6].id).update(is_active=False)
    # items per account: 0:3, 1:1, 2:3, 3:2, 4:1, 5:1, 6:0 -> ties broken by user_id
    for account, count in zip(accounts, [3, 1, 3, 2, 1, 1], strict=False):
        for n in range(count):
            await client.post("/items/", json={"name": f"i{n}"}, headers=account.headers)

    response = await client.get("/stats", headers=accounts[0].headers)

    assert response.status_code == 200
    ids = [a.id for a in accounts]
    assert response.json() == {
        "users": 7,
        "active_users": 6,
        "items": 11,
        "top_owners": [
            {"user_id": ids[0], "items": 3},
            {"user_id": ids[2], "items": 3},
            {"user_id": ids[3], "items": 2},
            {"user_id": ids[1], "items": 1},
            {"user_id": ids[4], "items": 1},
        ],
    }


async def test_stats_on_an_empty_catalogue(client, alice):
    response = await client.get("/stats", headers=alice.headers)

    assert response.json() == {"users": 1, "active_users": 1, "items": 0, "top_owners": []}


async def test_stats_requires_a_token(client):
    assert (await client.get("/stats")).status_code == 401


async def test_health_ok(client):
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.fixture
async def unreachable_client():
    """The app configured against a PostgreSQL port where nothing listens."""
    settings = get_settings().model_copy(
        update={"database_url": "postgres://postgres@127.0.0.1:1/nowhere", "db_connect_timeout": 2}
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        yield client


async def test_health_is_503_when_the_database_is_unreachable(unreachable_client):
    response = await unreachable_client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_live_and_ready_when_all_is_well(client):
    live, ready = await client.get("/health/live"), await client.get("/health/ready")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "ok"}


async def test_without_the_database_the_process_is_live_but_not_ready(unreachable_client):
    """A database outage must not get every container restarted: liveness holds."""
    live, ready = (
        await unreachable_client.get("/health/live"),
        await unreachable_client.get("/health/ready"),
    )

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


async def test_not_ready_while_a_migration_is_pending(tmp_path):
    """A new version started before `migrate` ran: out of rotation until it has."""
    async with scratch_database(tmp_path) as url:
        code, out, err = await run(
            sys.executable, "-c", UPGRADE_FROM, str(_first_two(tmp_path)), DATABASE_URL=url
        )
        assert code == 0, out + err
        app = create_app(get_settings().model_copy(update={"database_url": url}))
        async with (
            LifespanManager(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as http,
        ):
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json() == {
                "status": "unavailable",
                "database": "ok",
                "migrations": "pending",
            }
            assert (await http.get("/health")).status_code == 200


def _first_two(tmp_path):
    """A copy of migrations/ with only its first two files: an older deploy's."""
    folder = tmp_path / "older"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for path in migration_files(folder)[2:]:
        (folder / "models" / path).unlink()
    return folder


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/users/me", {}),
        ("get", "/items/", {}),
        ("post", "/users/", {"json": {"email": "a@example.com", "password": "long enough"}}),
        ("post", "/auth/token", {"data": {"username": "a@example.com", "password": "x"}}),
    ],
)
async def test_requests_needing_the_database_get_503_with_retry_after(
    unreachable_client, method, path, kwargs
):
    headers = {"Authorization": f"Bearer {create_access_token(1, 0, 1)}"}

    response = await getattr(unreachable_client, method)(path, headers=headers, **kwargs)

    assert response.status_code == 503
    assert response.json() == {"detail": "Database unavailable"}
    assert int(response.headers["Retry-After"]) > 0


SERVE_WITHOUT_AERICH = """
import asyncio, sys
import httpx
from asgi_lifespan import LifespanManager
from app.main import create_app

async def main():
    async with LifespanManager(create_app()) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get("/health/ready")
    print(response.status_code, sorted(m for m in sys.modules if m.split(".")[0] == "aerich"))

asyncio.run(main())
"""


async def test_the_serving_app_answers_readiness_without_loading_aerich():
    # Aerich, with numpy through its planner, was about 11 MB of every worker's memory.
    code, out, err = await run(sys.executable, "-c", SERVE_WITHOUT_AERICH)

    assert code == 0, err
    assert out.split("\n")[0] == "200 []"
