"""Running as more than one process, and through a pooler: `WEB_CONCURRENCY`,
`MIGRATIONS_DATABASE_URL`, `DB_STATEMENT_CACHE_SIZE`."""

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.db.config import tortoise_config
from tests.support import is_postgres, manage, query, scratch_database, serving, worker_pids

needs_postgres = pytest.mark.skipif(
    not is_postgres(os.environ.get("TEST_DATABASE_URL", "")),
    reason="several worker processes need PostgreSQL",
)
MAX_FAILURES = 3


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def test_more_than_one_worker_on_sqlite_is_refused_with_the_reason(tmp_path):
    code, _, err = await manage(
        "serve", DATABASE_URL=f"sqlite://{tmp_path}/one.sqlite3", WEB_CONCURRENCY="2"
    )
    assert code == 1
    assert "error: WEB_CONCURRENCY > 1 needs PostgreSQL" in err


@needs_postgres
async def test_two_workers_share_login_throttling_and_idempotency_keys(client, alice):
    """Wrong passwords spread over two worker processes count as one client's: the
    throttle closes after LOGIN_MAX_FAILURES in all, not per process; one Idempotency-Key
    sent to both creates one item."""
    env = {"WEB_CONCURRENCY": "2", "LOGIN_MAX_FAILURES": str(MAX_FAILURES)}
    async with serving(**env) as server:
        await asyncio.sleep(1)  # both workers up (the first one answered already)
        workers = worker_pids(server.process.pid)
        assert len(workers) == 2
        before = {pid: _cpu_ticks(pid) for pid in workers}

        async def attempt() -> int:
            # A new connection each time: the kernel hands it to either worker.
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as fresh:
                form = {"username": "alice@example.com", "password": "wrong"}
                return (await fresh.post("/auth/token", data=form)).status_code

        statuses = await asyncio.gather(*(attempt() for _ in range(4 * MAX_FAILURES)))
        assert statuses.count(401) == MAX_FAILURES, statuses
        assert statuses.count(429) == 3 * MAX_FAILURES, statuses

        async def create() -> httpx.Response:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as fresh:
                headers = {**alice.headers, "Idempotency-Key": "two-workers-1"}
                return await fresh.post("/items/", json={"name": "once"}, headers=headers)

        created = await asyncio.gather(*(create() for _ in range(10)))
        assert {r.status_code for r in created} <= {201, 409}
        assert len({r.json()["id"] for r in created if r.status_code == 201}) == 1
        # Both processes did work (their CPU time grew): the requests were spread.
        assert all(_cpu_ticks(pid) > before[pid] for pid in workers), before
    listed = await client.get("/items/?q=once", headers=alice.headers)
    assert len(listed.json()) == 1


async def test_migrate_connects_to_migrations_database_url_when_it_is_set(tmp_path):
    """Behind a pooler DATABASE_URL names the pooler; migrations go to the primary."""
    async with scratch_database(tmp_path) as url:
        unused = "postgres://nobody@127.0.0.1:9/nowhere"  # nothing listens on port 9
        code, out, err = await manage("migrate", DATABASE_URL=unused, MIGRATIONS_DATABASE_URL=url)
        assert code == 0, out + err
        assert await query(url, "SELECT COUNT(*) FROM users") == [(0,)]


def test_the_statement_cache_size_reaches_the_pool_on_postgresql():
    settings = Settings(
        database_url="postgres://u@127.0.0.1:6432/app",
        db_statement_cache_size=0,
        environment="test",
        secret_key="x" * 8 + "abcdefghijklmnopqrstuvwxyz0123456789",
    )
    credentials = tortoise_config(settings)["connections"]["default"]["credentials"]
    assert credentials["statement_cache_size"] == 0


@needs_postgres
async def test_replicas_without_remote_apply_serve_no_reads_and_the_log_says_why(tmp_path):
    """A primary that acknowledges writes before a standby applies them cannot promise
    read-your-writes through it: every read stays on the primary."""
    primary = os.environ.get("MIGRATIONS_DATABASE_URL") or os.environ["DATABASE_URL"]
    if await query(primary, "SHOW synchronous_commit") == [("remote_apply",)]:
        pytest.skip("this primary commits with remote_apply (the cluster)")
    log = tmp_path / "server.log"
    async with (
        serving(DATABASE_REPLICA_URLS=primary, LOG_FILE=str(log)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        assert (await http.get("/health")).status_code == 200
    assert "every read stays on the primary" in log.read_text()
