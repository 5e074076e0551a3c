"""The service's Prometheus metrics (prometheus-client), and their exposition.

Every label has a bounded set of values: route templates (`/users/{user_id}`), never raw
paths; the HTTP methods the API knows; status codes; Tortoise connection names; a
statement's first keyword.

With several worker processes (`WEB_CONCURRENCY > 1`), `python -m app serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh directory before the workers start:
prometheus-client then keeps each process's values in files there, and a scrape of any
worker reads them all (its multiprocess mode). The environment variable must be set
before prometheus-client is imported, which is why `serve` sets it, not the app.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from app.db.tortoise_ext.instrumentation import QUERY_OBSERVERS, Statement, pool_usage

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format: what every Prometheus version scrapes.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"  # no route answered the path (404), whatever it was

disable_created_metrics()  # no `_created` series beside every counter and histogram

REQUESTS = Counter("http_requests", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to its answer's end",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_SIZE = Gauge(
    "db_pool_size", "Database connections open", ["database"], multiprocess_mode="livesum"
)
POOL_IN_USE = Gauge(
    "db_pool_in_use",
    "Database connections serving a statement or transaction",
    ["database"],
    multiprocess_mode="livesum",
)
QUERIES = Counter("db_queries", "SQL statements sent", ["database", "operation", "outcome"])
QUERY_SECONDS = Histogram(
    "db_query_duration_seconds",
    "Time a SQL statement took, from asking for a connection (the pool's, or SQLite's "
    "lock) to its last row",
    ["database", "operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
LOGINS = Counter(
    "logins",
    "Attempts at POST /auth/token, by outcome: ok, failed (bad credentials), inactive "
    "(right password, deactivated account), unverified (REQUIRE_VERIFIED_EMAIL), "
    "throttled (429)",
    ["outcome"],
)
MAILS = Counter(
    "mails",
    "Delivery attempts of the outbox's mails, by outcome: sent, failed (retried later), "
    "unreadable (sealed under another SECRET_KEY: dropped)",
    ["outcome"],
)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


# Each label set's series, looked up once (`labels()` takes a lock and builds a key every
# call); the keys are the bounded label values themselves.
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_statement_series: dict[tuple[str, str, bool], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "OTHER"
    series = _request_series.get((method, route, status))
    if series is None:
        series = _request_series[method, route, status] = (
            REQUESTS.labels(method, route, str(status)),
            REQUEST_SECONDS.labels(method, route),
        )
    series[0].inc()
    series[1].observe(seconds)


def observe_statement(statement: Statement) -> None:
    """A `QUERY_OBSERVERS` entry (app/db/tortoise_ext/instrumentation.py)."""
    key = (statement.connection, statement.operation, statement.error is None)
    series = _statement_series.get(key)
    if series is None:
        database, operation, ok = key
        series = _statement_series[key] = (
            QUERIES.labels(database, operation, "ok" if ok else "error"),
            QUERY_SECONDS.labels(database, operation),
        )
    series[0].inc()
    series[1].observe(statement.seconds)


def sample_pools() -> None:
    """This process's pool gauges, as the clients hold them now."""
    for database, (size, in_use) in pool_usage().items():
        POOL_SIZE.labels(database).set(size)
        POOL_IN_USE.labels(database).set(in_use)


def exposition() -> bytes:
    """The text a scrape gets: this process's metrics, or with several workers, all of
    theirs (each refreshes its pool gauges every second; this one's are read now)."""
    sample_pools()
    if not is_multiprocess():
        return generate_latest(REGISTRY)
    _forget_dead_workers(Path(os.environ[MULTIPROCESS_DIR_VARIABLE]))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def _forget_dead_workers(folder: Path) -> None:
    """A worker that was killed (uvicorn starts another) never said it ended: its pool
    gauges would stay in the sums. Its counters stay, as they should (what it served)."""
    for path in folder.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, str(folder))
        except PermissionError:
            pass  # alive, someone else's


def observe_queries() -> None:
    """Count and time every SQL statement from now on (idempotent)."""
    if observe_statement not in QUERY_OBSERVERS:
        QUERY_OBSERVERS.append(observe_statement)


@contextlib.asynccontextmanager
async def pool_gauges_kept_fresh() -> AsyncIterator[None]:
    """For the app's lifespan. With several workers, each samples its pools every second
    (a scrape reaches one of them); at shutdown, its gauges leave the sums."""
    if not is_multiprocess():
        yield
        return
    task = asyncio.create_task(_sample_pools_every_second(), name="pool gauges")
    try:
        yield
    finally:
        task.cancel()
        multiprocess.mark_process_dead(os.getpid())


async def _sample_pools_every_second() -> None:
    while True:
        sample_pools()
        await asyncio.sleep(1)
