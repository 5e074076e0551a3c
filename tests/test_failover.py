"""Failover on the cluster of `make cluster`: the primary's node is killed hard under
write load, Patroni promotes the synchronous standby, and the service rides it out.

Run on its own after the cluster pass (it leaves the killed node running again as the
new standby):

    eval "$(deploy/cluster.sh test-env)"; CLUSTER_FAILOVER=1 .venv/bin/pytest tests/test_failover.py
"""

import asyncio
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.fixtures import PASSWORD
from tests.support import REPO, primary_url, serving

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not os.environ.get("CLUSTER_FAILOVER"), reason="kills a cluster node: CLUSTER_FAILOVER=1"
    ),
]
CLUSTER_DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/app-cluster"))
NODES = {"node1": 58008, "node2": 58009}  # Patroni's REST ports (deploy/cluster.sh)
WRITERS = 6
LOAD_BEFORE_SECONDS = 3.0
BACK_WITHIN_SECONDS = 15.0
PROMOTION_TIMEOUT_SECONDS = 60.0


def _role(node: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{NODES[node]}/patroni", timeout=1) as r:
            return json.load(r)["role"]
    except OSError:
        return None


def _kill_hard(node: str) -> None:
    """SIGKILL the node's Patroni and its PostgreSQL: a machine that died."""
    patroni = int((CLUSTER_DIR / f"{node}.pid").read_text())
    postmaster = int((CLUSTER_DIR / node / "data" / "postmaster.pid").read_text().split()[0])
    for pid in (patroni, postmaster):
        os.kill(pid, signal.SIGKILL)


async def _wait_for(predicate, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within}s")


async def test_a_failover_answers_503_meanwhile_and_loses_no_acknowledged_write(tmp_path):
    primary = next(node for node in NODES if _role(node) == "master")
    standby = next(node for node in NODES if node != primary)
    env = {"WEB_CONCURRENCY": "2", "DB_COMMAND_TIMEOUT": "5", "DB_CONNECT_TIMEOUT": "2"}
    async with (
        serving(LOG_FILE=str(tmp_path / "server.log"), **env) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        email = "failover@example.com"
        await http.post("/users/", json={"email": email, "password": PASSWORD})
        token = (
            await http.post("/auth/token", data={"username": email, "password": PASSWORD})
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        acknowledged: list[int] = []
        answers: list[tuple[float, int]] = []
        stop = asyncio.Event()

        async def write(writer: int) -> None:
            number = 0
            while not stop.is_set():
                number += 1
                body = {"name": f"w{writer}-{number}"}
                try:
                    response = await http.post("/items/", json=body, headers=headers)
                    status = response.status_code
                except httpx.TransportError:
                    status = 0  # no answer at all: counted, and must not happen
                answers.append((time.monotonic(), status))
                if status == 201:
                    acknowledged.append(response.json()["id"])
                elif status == 503:
                    await asyncio.sleep(0.05)

        writers = [asyncio.create_task(write(n)) for n in range(WRITERS)]
        await asyncio.sleep(LOAD_BEFORE_SECONDS)
        killed_at = time.monotonic()
        _kill_hard(primary)
        promoted_at = await _wait_for(lambda: _role(standby) == "master", PROMOTION_TIMEOUT_SECONDS)
        await asyncio.sleep(BACK_WITHIN_SECONDS + 2)
        stop.set()
        await asyncio.gather(*writers)

    statuses = {status for _, status in answers}
    assert statuses <= {201, 503}, sorted(statuses)
    before = [s for t, s in answers if t < killed_at]
    assert before and set(before) == {201}
    back = [t for t, s in answers if t > promoted_at and s == 201]
    assert back, "no write succeeded after the promotion"
    assert back[0] - promoted_at <= BACK_WITHIN_SECONDS
    assert [t for t, s in answers if t > back[0] + 3 and s != 201] == []  # and stays back
    # Every acknowledged write is on the new primary (synchronous replication).
    connection = await asyncpg.connect(primary_url())
    try:
        found = await connection.fetch("SELECT id FROM items WHERE id = ANY($1)", acknowledged)
    finally:
        await connection.close()
    assert len(found) == len(set(acknowledged))
    print(
        f"\nfailover: promotion {promoted_at - killed_at:.1f}s after the kill, first 201 "
        f"{back[0] - promoted_at:.1f}s after the promotion; {len(acknowledged)} writes "
        f"acknowledged, all found; {sum(1 for _, s in answers if s == 503)} answered 503"
    )
    # Put the killed node back, as the new standby, for whatever runs next.
    restart = await asyncio.create_subprocess_exec(
        str(REPO / "deploy" / "cluster.sh"), "start-node", primary
    )
    assert await restart.wait() == 0
    await _wait_for(lambda: _role(primary) == "replica", PROMOTION_TIMEOUT_SECONDS)
