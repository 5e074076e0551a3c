"""The observability section of `make bench`: what request ids, one JSON log line per
request and the Prometheus metrics cost. The service as deployed (`app.main:app`,
LOG_FORMAT=json) against the same code with them taken out (`bench/unobserved.py`), on
GET /users/{id}, in alternating rounds on the seeded database. Target: on ≥ 90% of the
req/s of off.
"""

import math
from typing import Any

from bench import config
from bench.config import DB_NAME, READ_USER, Scenario, log, pg_url
from bench.load import round_summary, run_round
from bench.report import median, per_request_us
from bench.servers import Server

TARGET = 0.9
SCENARIO = Scenario("user", "GET /users/{id}", f"/users/{READ_USER}")
SIDES = [
    ("on", "request ids, JSON request lines, metrics", "app.main:app"),
    ("off", "all three taken out", "bench.unobserved:app"),
]


def measure(env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Both servers up at once; after a warm-up each, rounds on, off, on, off, ..."""
    servers = [
        Server(f"observability-{key}", key, app, pg_url(DB_NAME), {**env, "LOG_FORMAT": "json"})
        for key, _, app in SIDES
    ]
    runs: dict[str, list[dict[str, Any]]] = {server.label: [] for server in servers}
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
            server.sign_in()
            run_round(server, SCENARIO, config.WARMUP)
        for number in range(1, config.ROUNDS + 1):
            for server in servers:
                result = run_round(server, SCENARIO, config.DURATION)
                runs[server.label].append(result)
                log(f"observability {server.label} round {number}: {round_summary(result)}")
    finally:
        for server in servers:
            server.stop()
    return runs


def _figure(runs: dict[str, list[dict[str, Any]]], side: str, stat: str) -> float | None:
    return median(run.get(stat) for run in runs.get(side, []))


def section(runs: dict[str, list[dict[str, Any]]]) -> str:
    """The report's observability section (empty when it did not run)."""
    if not runs or not all(runs.values()):
        return ""
    lines = [
        f"{SCENARIO.title} on the service as deployed and on the same code without request "
        f"ids, request log lines and metrics (`bench/overhead.py`, `bench/unobserved.py`): "
        f"one uvicorn worker each, LOG_FORMAT=json, {config.ROUNDS} alternating rounds of "
        f"{config.DURATION} s after a {config.WARMUP} s warm-up; medians.",
        "",
        "| observability | what | req/s | p99 ms | app CPU µs/req |",
        "|---|---|---:|---:|---:|",
    ]
    for key, what, _ in SIDES:
        rps, p99 = _figure(runs, key, "rps"), _figure(runs, key, "p99_ms")
        cpu = per_request_us(runs[key], "app_cpu_s")
        lines.append(
            f"| {key} | {what} | {rps or 0:,.0f} | {p99 or math.nan:.2f} | {cpu or math.nan:,.0f} |"
        )
    on, off = _figure(runs, "on", "rps"), _figure(runs, "off", "rps")
    ratio = on / off if on and off else None
    verdict = "n/a" if ratio is None else f"{ratio:.1%} ({'met' if ratio >= TARGET else 'not met'})"
    lines += ["", f"On/off req/s: {verdict}; target ≥ {TARGET:.0%}."]
    return "\n".join(lines)
