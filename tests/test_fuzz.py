"""Schema-driven fuzzing: schemathesis over every operation of the OpenAPI schema, signed in.

Every operation the schema documents is fuzzed signed in as a regular user, and the
operations whose outcome depends on who owns what (PATCH and DELETE of users and items,
transfers) once more as a superuser, so that their 2xx paths are reached too. Requests go
to the real server (`python -m app serve` in a subprocess, on the suite's database and
settings), and every response must pass: no 5xx, a documented status code, the documented
content type and headers, and a body that conforms to the documented schema.

Why a server in a subprocess rather than schemathesis's in-process ASGI transport
(`from_asgi`): that transport runs the app on an event loop of its own, in a thread, and
starts the app's lifespan there for the rest of the process (`from_asgi` even starts it
while the module is collected). Tortoise allows one global context at a time and an asyncpg
pool belongs to the loop that opened it, so that lifespan collides with the suite's `app`
fixture on pytest-asyncio's session loop. The server shares nothing with the test process
but the database, and it is what production runs: uvicorn, the real lifespan, real HTTP.

Every operation starts from the same database (the `app` fixture empties it; the accounts
and items are made through the API) and sends the same requests (a fixed seed,
derandomized Hypothesis, no example database), so a failure reproduces from run to run.
Deeper local runs: `FUZZ_MAX_EXAMPLES=500 FUZZ_SEED=7 pytest tests/test_fuzz.py`.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from tests.fixtures import PASSWORD, MakeAccount
from tests.support import primary_url, query

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Where a superuser reaches answers a regular user cannot (other people's accounts and items).
OWNERSHIP_OPERATIONS = [
    "PATCH /users/{user_id}",
    "DELETE /users/{user_id}",
    "PATCH /items/{item_id}",
    "DELETE /items/{item_id}",
    "POST /items/transfer",
]

# Bounded for CI: the examples, coverage (boundary and invalid values, unexpected methods)
# and fuzzing phases, a fixed seed, derandomized, nothing remembered between runs.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("FUZZ_SEED", "20260101")),
        "cache": {"enabled": False},
        "generation": {
            "max-examples": int(os.environ.get("FUZZ_MAX_EXAMPLES", "30")),
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
# The document the server answers at /openapi.json, read from the app object, so that the
# operations are known when the tests are collected (one test per operation), unstarted.
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)

SERVER_START_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 10


@dataclass
class Server:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(
    migrated_database: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`python -m app serve` on a free port, with the suite's environment (database, secret
    key, cheap hashing), from the suite's working directory (the same `.env`)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert process.poll() is None, f"the server exited:\n{log.read_text()}"
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or too busy to answer
                pass
            assert time.monotonic() < deadline, f"the server did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield Server(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server_log(live_server: Server) -> Iterator[None]:
    """What the server logged during a test (the traceback behind a 500), shown on failure."""
    start = live_server.log.stat().st_size
    yield
    with live_server.log.open(errors="replace") as log:
        log.seek(start)
        if logged := log.read():
            print(f"server log:\n{logged}")


def _promote(user_id: int) -> None:
    """Make a user a superuser in the database, as `make_account(superuser=True)` does."""
    sql = f"UPDATE users SET is_superuser = TRUE WHERE id = {int(user_id)}"
    # A thread and loop of its own: the test body runs outside the suite's event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, query(primary_url(), sql)).result()


class Actor:
    """Who the requests are signed in as: a bearer token of a real account made through the
    API. A fuzzed request may delete, deactivate or demote that very account, or revoke its
    token (a password change, a logout); the next account then takes over, so that the rest of the
    run stays signed in with the role it is meant to have."""

    def __init__(self, server: Server, superuser: bool, user: dict[str, Any], token: str):
        self.server = server
        self.superuser = superuser
        self.user = user
        self.headers = {"Authorization": f"Bearer {token}"}
        self.replaced = 0

    def may_have_changed(self, case: schemathesis.Case, status_code: int) -> bool:
        """Whether the request may have signed the actor out: a change to its account, a
        logout, or the end of one of its sessions (perhaps the current one)."""
        if status_code >= 300:
            return False
        method = case.method.upper()
        if case.path == "/users/{user_id}":
            own = (case.path_parameters or {}).get("user_id") == self.user["id"]
            return own and method in {"PATCH", "DELETE"}
        return (method, case.path) in {
            ("POST", "/auth/logout"),
            ("DELETE", "/auth/sessions/{session_id}"),
        }

    def ensure_signed_in(self) -> None:
        me = self._request("GET", "/users/me", headers=self.headers)
        if me.status_code == 200 and me.json()["is_superuser"] == self.superuser:
            return
        for _ in range(10):  # the next free address: fuzzed requests take addresses too
            self.replaced += 1
            email = f"{'superuser' if self.superuser else 'user'}-{self.replaced}@example.com"
            created = self._request("POST", "/users/", json={"email": email, "password": PASSWORD})
            if created.status_code != 400:
                break
        assert created.status_code == 201, created.text
        self.user = created.json()
        if self.superuser:
            _promote(self.user["id"])
        token = self._request("POST", "/auth/token", data={"username": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.server.url}{path}", timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
        )


async def _seed(make_account: MakeAccount, server: Server, superuser: bool) -> Actor:
    """The actor and two other users, with items, all made through the API. The actor
    comes first: the small ids the fuzzer tries most then name its own account and items
    as well as other people's."""
    role = "superuser" if superuser else "user"
    account = await make_account(
        f"{role}@example.com",
        superuser=superuser,
        items=[{"name": "notes"}, {"name": "loom", "description": "Jacquard"}],
    )
    await make_account("alice@example.com", username="alice", items=[{"name": "lamp"}])
    await make_account("bob@example.com", username="bob")
    token = account.headers["Authorization"].removeprefix("Bearer ")
    return Actor(server, superuser, account.user, token)


@pytest.fixture
async def actor(
    request: pytest.FixtureRequest, make_account: MakeAccount, live_server: Server
) -> Actor:
    """Signed in as `request.param`: "user" or "superuser"."""
    return await _seed(make_account, live_server, superuser=request.param == "superuser")


def _fuzz(case: schemathesis.Case, actor: Actor) -> None:
    response = case.call_and_validate(
        base_url=actor.server.url,
        headers=actor.headers,
        checks=CHECKS,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if actor.may_have_changed(case, response.status_code):
        actor.ensure_signed_in()


# The actor is per operation on purpose: the examples of one operation share its database.
# Slow CI machines are no finding either.
FIXTURES_PER_OPERATION = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


# The role parameter also names each test: with pytest 9, schemathesis 4.32 gives the tests
# of an unparametrized function one node id, without the operation in it.
@pytest.mark.parametrize("actor", ["user"], indirect=True)
@schema.parametrize()
@FIXTURES_PER_OPERATION
def test_every_operation(case: schemathesis.Case, actor: Actor, server_log: None) -> None:
    _fuzz(case, actor)


@pytest.mark.parametrize("actor", ["superuser"], indirect=True)
@schema.include(name=OWNERSHIP_OPERATIONS).parametrize()
@FIXTURES_PER_OPERATION
def test_ownership_operations(case: schemathesis.Case, actor: Actor, server_log: None) -> None:
    _fuzz(case, actor)


def test_the_superuser_run_finds_every_operation_it_names() -> None:
    """A renamed path would otherwise drop out of the superuser run without a word."""
    for name in OWNERSHIP_OPERATIONS:
        method, path = name.split(" ", 1)
        assert schema[path][method], name
