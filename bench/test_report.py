"""Rounds in which no request completed, or wrk failed, are figures, not crashes.

    .venv/bin/pytest bench/test_report.py

No database, no servers, no wrk: wrk's output is made up, and the processes are stubs.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import load, report, run
from bench.config import SCENARIOS, SERVERS
from bench.servers import Server

LATENCY = {"mean": 1500.0, "max": 9000, "p50": 1200, "p90": 2500, "p99": 4000, "p999": 8000}
NO_ERRORS = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}


def wrk_line(requests: int, **errors: int) -> str:
    latency = LATENCY if requests else dict.fromkeys(LATENCY, 0)
    summary = {
        "requests": requests,
        "duration_us": 2_000_000,
        "bytes": requests * 200,
        "errors": {**NO_ERRORS, **errors},
        "latency_us": latency,
    }
    return "Running 2s test @ http://127.0.0.1:1/\n...\nBENCH_JSON " + json.dumps(summary) + "\n"


def test_parse_a_clean_run() -> None:
    result = load.parse_wrk(wrk_line(2000))
    assert result["rps"] == 1000
    assert (result["p50_ms"], result["p99_ms"]) == (1.2, 4.0)
    assert result["problem"] is None


def test_parse_a_run_with_no_completed_request() -> None:
    result = load.parse_wrk(wrk_line(0, timeout=32))
    assert result["requests"] == 0
    assert result["rps"] == 0.0
    assert result["p50_ms"] is None and result["p99_ms"] is None
    assert result["problem"] == "errors timeout 32; no request completed"


def test_parse_when_wrk_fails() -> None:
    result = load.parse_wrk("", 1, "unable to connect to 127.0.0.1:1 Connection refused\n")
    assert result["requests"] == 0 and result["rps"] == 0.0 and result["p99_ms"] is None
    assert result["problem"].startswith("wrk exited 1: unable to connect")
    assert "no result line" in result["problem"]
    assert load.parse_wrk("BENCH_JSON {not json")["problem"] == (
        "no result line from wrk; no request completed"
    )


def test_non_2xx_answers_are_noted() -> None:
    result = load.parse_wrk(wrk_line(500, status=500))
    assert result["rps"] == 250 and result["problem"] == "errors status 500"


def fake_servers() -> list[Server]:
    servers = [
        Server(key, label, app, f"{scheme}://db/bench", {}, runner)
        for key, label, app, scheme, runner in SERVERS
    ]
    for number, server in enumerate(servers, 1):
        server.token = f"token-{server.key}"
        server.memory = {"VmRSS": 70_000 * number, "VmHWM": 130_000 * number}
    return servers


class Alive:
    """A server process that is still running."""

    pid = 1

    def poll(self) -> None:
        return None


@pytest.fixture
def stub_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_round without a database or a server: counters that do not move."""
    monkeypatch.setattr(load, "db_sessions", lambda: 7)
    monkeypatch.setattr(
        load, "sample", lambda pid: dict.fromkeys(("app", "db", "wrk", "busy"), 1.0)
    )


def running(server: Server) -> Server:
    server.proc = Alive()  # type: ignore[assignment]
    return server


def fake_wrk(monkeypatch: pytest.MonkeyPatch, output: str, status: int = 0) -> None:
    script = f"import sys; sys.stdout.write({output!r}); sys.exit({status})"
    monkeypatch.setattr(load, "wrk_command", lambda *args: [sys.executable, "-c", script, "url"])


@pytest.mark.usefixtures("stub_processes")
def test_a_round_with_no_completed_request_is_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_wrk(monkeypatch, wrk_line(0, timeout=32))
    scenario = next(s for s in SCENARIOS if s.key == "users_items_100")
    result = load.run_round(running(fake_servers()[2]), scenario, 1)
    assert result["rps"] == 0.0 and result["p50_ms"] is None
    assert result["problem"] == "errors timeout 32; no request completed"
    assert "n/a" in load.round_summary(result)


@pytest.mark.usefixtures("stub_processes")
def test_a_round_where_wrk_fails_is_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_wrk(monkeypatch, "", status=1)
    scenario = next(s for s in SCENARIOS if s.key == "user_logins")
    result = load.run_round(running(fake_servers()[0]), scenario, 1)
    assert result["requests"] == 0 and result["problem"].startswith("wrk exited 1")
    assert result["logins_per_s"] == 0.0 and result["login_problem"]


def round_result(requests: int, **extra: Any) -> dict[str, Any]:
    result = load.parse_wrk(wrk_line(requests, **extra))
    result.update(
        app_cpu_s=2.0,
        db_cpu_s=1.0,
        wall_s=2.0,
        wrk_cpu_s=0.1,
        db_connections=0,
        other_cpu_s=0.2,
        command=["wrk", "-H", "Authorization: Bearer token-service", "http://x/"],
    )
    return result


def test_measure_goes_on_after_an_empty_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The QUICK=1 failure: the seed style's limit=100 warm-up completed no request."""
    servers = fake_servers()
    scenario = next(s for s in SCENARIOS if s.key == "users_items_100")
    empty = {"seed": 0}
    monkeypatch.setattr(run, "run_round", lambda s, sc, t: round_result(empty.pop(s.key, 10)))
    results, warmups = run.measure([scenario], servers, 50_000)
    assert warmups == [f"{scenario.title}, seed style, warm-up: no request completed"]
    assert all(r["requests"] == 10 for runs in results[scenario.key].values() for r in runs)


def info() -> dict[str, Any]:
    return {
        "date": "2026-01-01 00:00 UTC",
        "elapsed_min": 1.0,
        "machine": {"nproc": "2"},
        "versions": {"python": "3.11"},
        "verify": {"compared": 66, "identical_bytes": 40, "with_body": 40},
        "cpus": 2,
        "warmup_problems": ["GET /users/?limit=100&include=items, seed style, warm-up: x"],
    }


def test_report_with_empty_rounds() -> None:
    """Every scenario; the seed style completes nothing in the lists at limit=100, and
    one of its rounds of GET /users/{id} fails."""
    servers = fake_servers()
    results: report.Results = {}
    for scenario in SCENARIOS:
        results[scenario.key] = {}
        for server in servers:
            runs = [round_result(1000), round_result(900), round_result(1100)]
            if server.key == "seed" and scenario.rows == 100:
                runs = [round_result(0, timeout=32) for _ in range(3)]
            if server.key == "seed" and scenario.key == "user":
                runs[1] = round_result(0, connect=32)
            if scenario.logins:
                for r in runs:
                    r.update(logins_per_s=5.0, login_p50_ms=400.0, login_problem=None)
                    r["login_command"] = ["wrk", "login"]
            results[scenario.key][server.key] = runs
    text = report.build(results, servers, info())

    assert "$" not in text.replace("$TOKEN", "")  # every placeholder filled
    assert "<!--" not in text
    assert (
        "| GET /users/?limit=100&include=items | seed style | 0 (0-0) | n/a | n/a | n/a |" in text
    )
    assert "| GET /users/{id} | seed style | 500 (0-550) | 1.20 | 4.00 | 1,909 |" in text
    assert "- GET /users/{id}, seed style, round 2: errors connect 32; no request completed" in text
    assert "seed style, warm-up: x" in text
    assert "| GET /users/?limit=100&include=items req/s |" not in text  # no target there
    assert "## GET /users/{id} while sign-ins run" in text
    assert "## How cost grows with the page size" in text
    assert '"Authorization: Bearer $TOKEN"' in text
    assert "## Where the time goes" in text and "Query building" in text  # bench/ANALYSIS.md
    # The DRF peer: its rows, the service/DRF ratios, its memory and its gunicorn command.
    assert "| GET /users/{id} | DRF | 500 (450-550) | 1.20 | 4.00 | 2,000 |" in text
    assert "| GET /users/{id} req/s | 1.00 | 1.00 | 1.00 | ≥ 0.9 | yes |" in text
    assert "| RSS after the run | 0.50 | 0.33 | 0.25 | ≤ 1.5 | yes |" in text
    assert "| DRF | 273.4 | 507.8 |" in text
    assert "-m gunicorn bench.drf_peer.wsgi:application" in text
    assert "--worker-class gthread --workers 1 --threads 10" in text


def test_report_of_one_scenario_where_the_baseline_served_nothing() -> None:
    servers = fake_servers()
    results = {
        "user": {
            "service": [round_result(1000)],
            "baseline": [round_result(0, timeout=1)],
            "seed": [round_result(300)],
            "drf": [round_result(500)],
        }
    }
    text = report.build(results, servers, info())
    assert "| GET /users/{id} req/s | n/a | 3.33 | 2.00 | ≥ 0.9 | n/a |" in text
    assert "sign-ins run" not in text and "How cost grows" not in text
    assert "**Rounds that did not run cleanly.**" in text


def test_charts_are_drawn_beside_the_report_and_shown_in_it(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the charts need the bench extra")
    from bench import charts

    servers = fake_servers()
    results = {
        key: {server.key: [round_result(1000 * n)] for n, server in enumerate(servers, 1)}
        for key in ("user", "post_item", "users_items_50")
    }
    results["user"]["baseline"] = [round_result(0, timeout=1)]  # a ratio of n/a
    lines = charts.draw(results, servers, tmp_path / "RESULTS.md")
    text = report.build(results, servers, info(), lines)

    assert (tmp_path / "RESULTS-ratios.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "RESULTS-throughput.png").stat().st_size > 1000
    assert "](RESULTS-ratios.png)" in text and "](RESULTS-throughput.png)" in text


def test_report_of_an_older_run_without_the_drf_peer() -> None:
    """`python -m bench.report` on a results.json of three servers: DRF's ratios n/a."""
    servers = [s for s in fake_servers() if s.key != "drf"]
    results = {"user": {s.key: [round_result(1000)] for s in servers}}
    text = report.build(results, servers, info())
    assert "| GET /users/{id} req/s | 1.00 | 1.00 | n/a | ≥ 0.9 | yes |" in text
    assert "| RSS after the run | 0.50 | 0.33 | n/a | ≤ 1.5 | yes |" in text


def test_each_server_is_started_by_its_runner() -> None:
    by_key = {s.key: s for s in fake_servers()}
    assert by_key["service"].command[1:3] == ["-m", "uvicorn"]
    drf = by_key["drf"].command
    assert drf[1:4] == ["-m", "gunicorn", "bench.drf_peer.wsgi:application"]
    assert drf[drf.index("--bind") + 1] == f"127.0.0.1:{by_key['drf'].port}"


def test_template_blocks() -> None:
    template = "a\n<!-- if x -->\nX $v\n<!-- end x -->\n<!-- if y -->\nY\n<!-- end y -->\nb $v\n"
    assert report.render(template, {"x": True, "y": False}, {"v": 1}) == "a\nX 1\nb 1\n"


def test_the_scale_table_gives_each_request_its_cost_ratio_and_verdict(tmp_path) -> None:
    from bench import scale

    def size(users: int, rps: float, deep_skip_rps: float) -> dict[str, Any]:
        runs = {
            probe.key: [{"rps": deep_skip_rps if probe.key == "items_skip" else rps, "p99_ms": 9.0}]
            for probe in scale.PROBES
        }
        return {"users": users, "paths": {}, "runs": runs}

    scaled = [size(10_000, 400.0, 300.0), size(1_000_000, 100.0, 3.0)]
    text = scale.section(scaled, tmp_path / "RESULTS-scale.png")
    assert "| 10,000 users: req/s |" in text and "| 1,000,000 users: req/s |" in text
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()}
    first = rows["GET /items/?limit=50 (first page, exact count)"]
    assert "| 4.00 | ≤ 3: **not met** |" in first  # 400 req/s at 10k, 100 at 1M
    assert "| 100.00 | reported |" in rows["GET /items/?limit=50&skip=... at 90% depth"]
    assert "![cost against table size](RESULTS-scale.png)" in text
    assert scale.section([], None) == ""
    pytest.importorskip("matplotlib", reason="the chart needs the bench extra")
    assert scale.draw(scaled, tmp_path / "RESULTS.md").stat().st_size > 0


def test_the_observability_section_sets_on_beside_off() -> None:
    from bench import overhead

    runs = {
        "on": [round_result(950), round_result(900), round_result(1000)],
        "off": [round_result(1000), round_result(1100), round_result(1000)],
    }
    section = overhead.section(runs)
    text = report.build({}, fake_servers(), info(), observability_section=section)

    assert "## What observability costs" in text
    assert "| on | request ids, JSON request lines, metrics | 475 |" in text
    assert "| off | all three taken out | 500 |" in text
    assert "On/off req/s: 95.0% (met); target ≥ 90%." in text
    assert overhead.section({}) == ""
