"""A real Prometheus (Debian's `prometheus`) scrapes a real server with
`deploy/prometheus.yml.in`; its HTTP API then answers for the service's counters. And
with several workers, every scrape counts every worker's requests."""

import asyncio
import contextlib
import os
import shutil
import signal

import httpx
import pytest

from tests.support import REPO, free_port, is_postgres, primary_url, serving, worker_pids
from tests.test_metrics import scrape, value

PROMETHEUS = shutil.which("prometheus")
PROMETHEUS_WAIT_SECONDS = 60


@contextlib.asynccontextmanager
async def prometheus_scraping(target: str, tmp_path):
    config = tmp_path / "prometheus.yml"
    template = (REPO / "deploy" / "prometheus.yml.in").read_text()
    config.write_text(template.replace("@TARGET@", target))
    port = free_port()
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=log,
            stderr=log,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def query_until(api: str, promql: str, wanted: float) -> float:
    """Ask Prometheus until the query's value reaches `wanted` (or time runs out)."""
    latest = 0.0
    async with httpx.AsyncClient(base_url=api, timeout=5) as http:
        for _ in range(PROMETHEUS_WAIT_SECONDS * 2):
            with contextlib.suppress(httpx.TransportError):
                answer = await http.get("/api/v1/query", params={"query": promql})
                # 503 and a plain-text body until Prometheus is ready
                results = answer.json()["data"]["result"] if answer.status_code == 200 else []
                latest = sum(float(result["value"][1]) for result in results)
                if latest >= wanted:
                    return latest
            await asyncio.sleep(0.5)
    return latest


@pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not installed: apt-get install prometheus"
)
async def test_prometheus_scrapes_the_service_and_answers_for_its_counters(tmp_path):
    async with serving(LOG_FILE=str(tmp_path / "server.log")) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for _ in range(7):
                assert (await http.get("/health/live")).status_code == 200
            assert (await http.get("/health")).status_code == 200  # a SELECT 1
        target = server.url.removeprefix("http://")
        async with prometheus_scraping(target, tmp_path) as api:
            up = await query_until(api, 'up{job="tortoise-service"}', 1)
            live = await query_until(
                api, 'http_requests_total{route="/health/live",status="200"}', 7
            )
            selects = await query_until(api, 'db_queries_total{operation="SELECT"}', 1)

    assert up == 1
    assert live == 7
    assert selects >= 1


@pytest.mark.skipif(
    not is_postgres(primary_url()), reason="several workers need PostgreSQL (SQLite: one)"
)
async def test_with_several_workers_each_scrape_counts_every_workers_requests(tmp_path):
    requests = 30
    async with serving(WEB_CONCURRENCY="2", LOG_FILE=str(tmp_path / "server.log")) as server:
        for _ in range(requests):  # a connection each: the kernel spreads them over workers
            async with httpx.AsyncClient(base_url=server.url) as fresh:
                assert (await fresh.get("/health/live")).status_code == 200
        totals = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=server.url) as fresh:
                samples = await scrape(fresh)
            labels = {"method": "GET", "route": "/health/live", "status": "200"}
            totals.append(value(samples, "http_requests_total", **labels))

    assert totals == [requests] * 6


@pytest.mark.skipif(
    not is_postgres(primary_url()), reason="several workers need PostgreSQL (SQLite: one)"
)
async def test_a_killed_workers_pool_gauges_leave_the_sums(tmp_path):
    """uvicorn replaces a worker killed with SIGKILL, which never said it ended: the next
    scrape drops its gauges (the files prometheus-client keeps per process)."""
    folder = tmp_path / "metrics"
    env = {"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    async with serving(**env, LOG_FILE=str(tmp_path / "log")) as server:
        workers = worker_pids(server.process.pid)

        def gauges_of(pid: int) -> list:
            return list(folder.glob(f"gauge_live*_{pid}.db"))

        for _ in range(100):  # until both opened their pool and sampled it
            async with httpx.AsyncClient(base_url=server.url) as fresh:
                await fresh.get("/health")
            if all(gauges_of(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert all(gauges_of(pid) for pid in workers)
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        for _ in range(100):  # uvicorn notices and starts another worker
            await asyncio.sleep(0.2)
            if len(worker_pids(server.process.pid)) == 2 and victim not in worker_pids(
                server.process.pid
            ):
                break
        async with httpx.AsyncClient(base_url=server.url) as fresh:
            await scrape(fresh)

        assert gauges_of(victim) == []
        assert gauges_of(workers[1])  # the live one's stay
