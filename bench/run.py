"""`make bench` (`python -m bench.run`): the service against its ceiling and against the
seed's style, side by side. bench/README.md says what each step does and which module
does it; the BENCH_* variables are read in bench/config.py.

Every process this starts is stopped at the end, and the database dropped
(BENCH_KEEP_DB=1 keeps it), also on Ctrl-C, SIGTERM or an error.
"""

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from bench import charts, config, machine, overhead, report, scale, seeding
from bench.config import LOGS, BenchError, Scenario, log
from bench.load import round_summary, run_round
from bench.servers import Server, make_servers
from bench.verify import verify


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def measure(
    scenarios: list[Scenario], servers: list[Server], n_items: int
) -> tuple[report.Results, list[str]]:
    """Per scenario a warm-up of each server, then rounds A B C A B C ...; the rounds'
    results, and a line for each warm-up that did not run cleanly."""
    results: report.Results = {}
    warmup_problems: list[str] = []
    for scenario in scenarios:
        log(f"{scenario.title}: warm-up")
        for server in servers:
            warm = run_round(server, scenario, config.WARMUP)
            if scenario.writes:
                seeding.reset_items(n_items)
            for key in ("problem", "login_problem"):
                if warm.get(key):
                    warmup_problems.append(
                        f"{scenario.title}, {server.label}, warm-up: {warm[key]}"
                    )
                    log(f"{scenario.title} warm-up {server.label}: {round_summary(warm)}")
        results[scenario.key] = {s.key: [] for s in servers}
        for number in range(1, config.ROUNDS + 1):
            for server in servers:
                result = run_round(server, scenario, config.DURATION)
                results[scenario.key][server.key].append(result)
                if scenario.writes:
                    seeding.reset_items(n_items)
                log(f"{scenario.title} round {number} {server.label}: {round_summary(result)}")
    return results, warmup_problems


def prepare(env: dict[str, str], hashed_password: str) -> int:
    """The database, built and seeded; returns the number of items."""
    log(f"database {config.DB_NAME}: recreating on {urlsplit(config.PG_URL).netloc}")
    seeding.create_database()
    seeding.migrate(env)
    n_users, n_items = seeding.seed(hashed_password)
    log(f"seeded {n_users:,} users and {n_items:,} items")
    return n_items


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed. Install it with: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    LOGS.mkdir(exist_ok=True)
    settings = {**config.SERVER_SETTINGS, "SECRET_KEY": secrets.token_urlsafe(48)}
    env = {**os.environ, **settings}
    servers = make_servers(env)
    service_code = machine.code_version()
    if machine.load_average() > machine.cpus() / 2:
        log(f"warning: load average {machine.load_average():.1f} before starting: noisy numbers")
    created_db = False
    try:
        scenarios = config.selected_scenarios()
        scale_sizes = scale.sizes()
        config.check_settings()
        os.environ.update(settings)  # the service's password context reads them
        hashed_password = seeding.password_hash()
        created_db = True  # from here on, whatever happens, the database is dropped
        n_items = prepare(env, hashed_password)
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
            server.sign_in()
            log(f"{server.label}: pid {server.pid} on {server.base}")
        checked = verify(servers, n_items)
        log(f"verified: {checked['compared']} comparisons, the same JSON from all {len(servers)}")

        results, warmup_problems = measure(scenarios, servers, n_items)
        for server in servers:
            server.read_memory()
            server.stop()
        observed = overhead.measure(env) if "user" in {s.key for s in scenarios} else {}
        scaled = scale.measure(env, hashed_password) if scale_sizes else []
        info: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine.machine(),
            "versions": {**machine.versions(), "service code": service_code},
            "verify": checked,
            "cpus": machine.cpus(),
            "warmup_problems": warmup_problems,
            "invocation": config.INVOCATION,
            "elapsed_min": (time.monotonic() - started) / 60,
            "out": str(config.OUT),
        }
        pictures = charts.draw(results, servers, config.OUT)
        section = scale.section(scaled, scale.draw(scaled, config.OUT))
        observed_section = overhead.section(observed)
        config.OUT.write_text(
            report.build(results, servers, info, pictures, section, observed_section)
        )
        memory = {server.key: server.memory for server in servers}
        saved = {"info": info, "memory": memory, "results": results, "scale": scaled}
        saved["observability"] = observed
        (LOGS / "results.json").write_text(json.dumps(saved, indent=1))
        log(f"wrote {config.OUT} in {(time.monotonic() - started) / 60:.1f} min")
        return 0
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        if created_db and not config.KEEP_DB:
            with contextlib.suppress(Exception):
                seeding.drop_database()


if __name__ == "__main__":
    sys.exit(main())
