"""The database goes away under load and comes back: 503s meanwhile, then recovery.

The test runs its own throwaway PostgreSQL cluster (initdb on a temporary directory, a
free port) so that it can stop and start it, and a real server process against it.
"""

import asyncio
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, manage, query, serving

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:]), None)
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or PG_BIN is None,
    reason="runs with the PostgreSQL pass (needs PostgreSQL's server binaries)",
)

OUTAGE_SECONDS = 3.0
RECOVERY_BOUND_SECONDS = 2.0
REQUEST_BOUND_SECONDS = 10.0
WORKERS = 6


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the postgres OS user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *argv: str) -> None:
        command = [f"{PG_BIN}/{argv[0]}", *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        data, log = str(self.directory / "data"), str(self.directory / "server.log")
        self._pg("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop")


@pytest.fixture
def cluster():
    # Not under pytest's tmp_path: the postgres user must be able to reach it.
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="outage-pg-")))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(cluster.directory, ignore_errors=True)


@dataclass
class Result:
    started: float
    finished: float
    kind: str
    status: int | None  # None: the connection failed or timed out
    detail: str
    item_id: int | None = None


async def _worker(client: httpx.AsyncClient, n: int, headers, results, stop: asyncio.Event):
    count = 0
    while not stop.is_set():
        count += 1
        kind = ("read", "list", "write")[count % 3]
        started = time.monotonic()
        try:
            if kind == "read":
                response = await client.get("/users/me", headers=headers)
            elif kind == "list":
                response = await client.get("/items/", params={"limit": 5}, headers=headers)
            else:
                response = await client.post(
                    "/items/", json={"name": f"w{n}-{count}"}, headers=headers
                )
        except httpx.HTTPError as exc:
            results.append(Result(started, time.monotonic(), kind, None, repr(exc)))
            continue
        item_id = response.json()["id"] if response.status_code == 201 else None
        results.append(
            Result(started, time.monotonic(), kind, response.status_code, response.text, item_id)
        )
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) > 0
            assert response.json() == {"detail": "Database unavailable"}


async def test_outage_gives_503s_then_recovers_and_keeps_every_acknowledged_write(
    cluster, tmp_path
):
    env = {
        "DATABASE_URL": cluster.url,
        "DB_CONNECT_TIMEOUT": "1",
        "DB_COMMAND_TIMEOUT": "5",
        "DB_POOL_MAX": "4",
        "LOG_FILE": str(tmp_path / "server.log"),
    }
    assert (await manage("migrate", DATABASE_URL=cluster.url))[0] == 0
    async with (
        serving(**env) as server,
        httpx.AsyncClient(base_url=server.url, timeout=REQUEST_BOUND_SECONDS + 5) as client,
    ):
        await client.post("/users/", json={"email": "load@example.com", "password": "long enough"})
        token = await client.post(
            "/auth/token", data={"username": "load@example.com", "password": "long enough"}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        results: list[Result] = []
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(_worker(client, n, headers, results, stop)) for n in range(WORKERS)
        ]
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.stop)
        down_at = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)
        health_down = await client.get("/health")
        restart_at = time.monotonic()
        await asyncio.to_thread(cluster.start)
        up_at = time.monotonic()
        await asyncio.sleep(RECOVERY_BOUND_SECONDS + 2.0)
        stop.set()
        await asyncio.gather(*workers)
        health_up = await client.get("/health")

    during = [r for r in results if down_at <= r.started and r.finished <= restart_at]
    after = [r for r in results if r.started >= up_at + RECOVERY_BOUND_SECONDS]
    acknowledged = [r.item_id for r in results if r.item_id is not None]
    figures = {
        "by status": Counter(r.status for r in results),
        "during outage": Counter(r.status for r in during),
        "after recovery bound": Counter(r.status for r in after),
        "first 2xx after restart (s)": min(
            (r.finished - up_at for r in results if r.started >= up_at and r.status in (200, 201)),
            default=None,
        ),
        "slowest request (s)": max(r.finished - r.started for r in results),
        "writes acknowledged": len(acknowledged),
    }
    print("outage figures:", figures)

    assert not [r for r in results if r.status is None or (r.status >= 500 and r.status != 503)]
    assert during and {r.status for r in during} == {503}
    assert after and {r.status for r in after} <= {200, 201}
    assert figures["slowest request (s)"] < REQUEST_BOUND_SECONDS
    assert health_down.status_code == 503 and health_up.status_code == 200
    stored = {row[0] for row in await query(cluster.url, "SELECT id FROM items")}
    print(
        "writes acknowledged and found:", len(set(acknowledged) & stored), "of", len(acknowledged)
    )
    assert set(acknowledged) <= stored
