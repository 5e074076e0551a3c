"""The scale section of `make bench`: the service alone, on a small and on a big table
(BENCH_SCALE_USERS, default 10,000 and 1,000,000 users with 5 items each, COPY-loaded
into a database built by the migrations), the same requests at both sizes. What a page
costs should not grow with the table, except a deep page by `skip`, reported as it is:
that is the cost a client escapes by following the cursor in `Link` instead.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import config, seeding
from bench.config import DB_NAME, ITEMS_PER_USER, BenchError, Scenario, log, pg_url
from bench.load import round_summary, run_round
from bench.report import median
from bench.servers import Server

DEPTH = 0.9  # how deep the deep pages and the looked-up user are, as a share of the table


@dataclass(frozen=True)
class Probe:
    key: str
    title: str
    target: float | None  # most the big table's cost may be, as a multiple of the small's


PROBES = [
    Probe("items_first", "GET /items/?limit=50 (first page, exact count)", 3.0),
    Probe("users_first", "GET /users/?limit=50 (first page, exact count)", 3.0),
    Probe("owned_first", "GET /users/{id}/items?limit=50 (first page, exact count)", 3.0),
    Probe("items_cursor", f"GET /items/?limit=50&cursor=... at {DEPTH:.0%} depth", 1.5),
    Probe("items_search", f"GET /items/?limit=50&q={seeding.NEEDLE}", 3.0),
    Probe("user", "GET /users/{id}", 1.5),
    # Last: its slow requests still running when wrk stops would slow the next probe.
    Probe("items_skip", f"GET /items/?limit=50&skip=... at {DEPTH:.0%} depth", None),
]


def sizes() -> list[int]:
    """BENCH_SCALE_USERS: comma-separated user counts, smallest first; `0` skips (the
    default of a check-only run, BENCH_SCENARIOS=none)."""
    default = "10000,100000" if config.QUICK else "10000,1000000"
    if sorted(config.ONLY) == ["none"]:
        default = "0"
    raw = os.environ.get("BENCH_SCALE_USERS", default).strip()
    if raw in ("", "0", "none"):
        return []
    try:
        counts = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise BenchError(f"BENCH_SCALE_USERS: not a list of numbers: {raw!r}") from None
    if len(counts) < 2 or counts[0] < 100:
        raise BenchError("BENCH_SCALE_USERS: two sizes at least, each of 100 users or more")
    return counts


def _paths(server: Server, n_users: int) -> dict[str, str]:
    """Each probe's path at this size; the deep cursor is the `Link` of the page before."""
    n_items, deep_user = n_users * ITEMS_PER_USER, int(n_users * DEPTH)
    skip = int(n_items * DEPTH)
    before = httpx.get(
        f"{server.base}/items/?limit=50&skip={skip - 50}",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    next_link = before.links.get("next", {}).get("url")
    if before.status_code != 200 or not next_link:
        raise BenchError(f"no cursor after /items/?skip={skip - 50}: {before.status_code}")
    return {
        "items_first": "/items/?limit=50",
        "users_first": "/users/?limit=50",
        "owned_first": f"/users/{deep_user}/items?limit=50",
        "items_cursor": next_link.removeprefix(server.base),
        "items_skip": f"/items/?limit=50&skip={skip}",
        "items_search": f"/items/?limit=50&q={seeding.NEEDLE}",
        "user": f"/users/{deep_user}",
    }


def _measure_size(n_users: int, env: dict[str, str], hashed_password: str) -> dict[str, Any]:
    log(f"scale: {n_users:,} users, {n_users * ITEMS_PER_USER:,} items: loading")
    seeding.create_database()
    seeding.migrate(env)
    seeding.seed(hashed_password, n_users)
    server = Server("service-scale", "service", "app.main:app", pg_url(DB_NAME), env)
    server.start()
    try:
        server.wait_ready()
        server.sign_in()
        paths = _paths(server, n_users)
        runs: dict[str, list[dict[str, Any]]] = {}
        for probe in PROBES:
            scenario = Scenario(probe.key, probe.title, paths[probe.key])
            run_round(server, scenario, config.WARMUP)
            runs[probe.key] = []
            for number in range(1, config.ROUNDS + 1):
                result = run_round(server, scenario, config.DURATION)
                runs[probe.key].append(result)
                log(f"scale {n_users:,} {probe.key} round {number}: {round_summary(result)}")
        return {"users": n_users, "paths": paths, "runs": runs}
    finally:
        server.stop()


def measure(env: dict[str, str], hashed_password: str) -> list[dict[str, Any]]:
    """Each size in turn, in BENCH_DB (recreated for each): the probes' rounds."""
    return [_measure_size(n, env, hashed_password) for n in sizes()]


def _figure(size: dict[str, Any], key: str, stat: str) -> float | None:
    return median(run.get(stat) for run in size["runs"][key])


def rows(scale: list[dict[str, Any]]) -> list[str]:
    """The scale table: req/s and p99 at the smallest and the biggest size, and the cost
    ratio big/small (time per request: small req/s over big req/s) against its target."""
    small, big = scale[0], scale[-1]
    lines = []
    for probe in PROBES:
        s_rps, b_rps = _figure(small, probe.key, "rps"), _figure(big, probe.key, "rps")
        s_p99, b_p99 = _figure(small, probe.key, "p99_ms"), _figure(big, probe.key, "p99_ms")
        ratio = s_rps / b_rps if s_rps and b_rps else None
        if probe.target is None:
            verdict = "reported"
        elif ratio is None:
            verdict = "n/a"
        else:
            verdict = f"≤ {probe.target:g}: " + ("met" if ratio <= probe.target else "**not met**")
        lines.append(
            f"| {probe.title} | {s_rps or 0:,.0f} | {s_p99 or math.nan:.1f} | {b_rps or 0:,.0f} "
            f"| {b_p99 or math.nan:.1f} | {'n/a' if ratio is None else f'{ratio:.2f}'} "
            f"| {verdict} |"
        )
    return lines


def section(scale: list[dict[str, Any]], picture: Path | None) -> str:
    """The report's scale section (empty when it did not run)."""
    if not scale:
        return ""
    small, big = scale[0]["users"], scale[-1]["users"]
    sizes_text = " and ".join(f"{size['users']:,}" for size in scale)
    intro = (
        f"The service alone (one uvicorn worker, the same settings) on {sizes_text} users "
        f"with {ITEMS_PER_USER} items each, each size COPY-loaded into a database built by "
        f"`python -m app migrate`, then {config.ROUNDS} rounds of {config.DURATION} s per "
        f"request after a {config.WARMUP} s warm-up (`bench/scale.py`). *Cost big/small* "
        "is the time per request at the biggest size over that at the smallest (small "
        "req/s ÷ big req/s); a target is the most it may be. The deep pages start at "
        f"{DEPTH:.0%} of the items, by a cursor (the `Link` of the page before) and by "
        f"`skip`; `GET /users/{{id}}` reads the user at that depth; `q={seeding.NEEDLE}` "
        f"matches the same {seeding.NEEDLES} items at every size (a search whose answer "
        "does not grow with the table). First pages carry their exact `X-Total-Count`."
    )
    header = (
        f"| request | {small:,} users: req/s | p99 ms | {big:,} users: req/s | p99 ms "
        "| cost big/small | target |\n|---|---|---|---|---|---|---|"
    )
    image = f"\n\n![cost against table size]({picture.name})" if picture else ""
    return intro + "\n\n" + header + "\n" + "\n".join(rows(scale)) + image


def draw(scale: list[dict[str, Any]], out: Path) -> Path | None:
    """Time per request against table size, one line per probe, beside the report."""
    if not scale:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    users = [size["users"] for size in scale]
    for probe in PROBES:
        costs = [
            1e6 / rps if (rps := _figure(size, probe.key, "rps")) else math.nan for size in scale
        ]
        axes.plot(users, costs, marker="o", label=probe.title)
    axes.set(xscale="log", yscale="log", xlabel="users (5 items each)", ylabel="µs per request")
    axes.set_title("The service's cost per request against table size (wrk, 32 connections)")
    axes.legend(fontsize=6, loc="upper left")
    axes.grid(True, which="both", alpha=0.3)
    path = out.with_name(f"{out.stem}-scale.png")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
