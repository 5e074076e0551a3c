"""wrk: the command, its result line, and one round against one server.

A round always gives a result: one in which no request completed, or wrk failed, is a
round with 0 requests (0 req/s, latency None) and a `problem` the report shows.
"""

import json
import os
import signal
import subprocess
import time
from typing import Any

from bench.config import (
    CONNECTIONS,
    LOGIN_USER,
    LOGINS,
    LUA,
    PASSWORD,
    THREADS,
    BenchError,
    Scenario,
)
from bench.seeding import db_sessions
from bench.servers import Server, sample

ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


def wrk_command(base: str, path: str, script: str, seconds: float, conns: int) -> list[str]:
    return [
        *("wrk", f"-t{min(THREADS, conns)}", f"-c{conns}", f"-d{seconds}s"),
        *("--timeout", "30s", "--latency", "-s", str(LUA / script), base + path),
    ]


def parse_wrk(output: str, returncode: int = 0, stderr: str = "") -> dict[str, Any]:
    """The BENCH_JSON line of lua/report.lua, completed: `rps`, `p50_ms` and `p99_ms`
    (None when no request completed), `errors` with every kind, and `problem` (None, or
    what went wrong: no result line, wrk's exit status, errors, no completed request)."""
    parsed: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            try:
                parsed = json.loads(line.removeprefix("BENCH_JSON "))
            except ValueError:
                parsed = None
    problems = []
    if returncode != 0:
        detail = (stderr or output).strip().splitlines()
        problems.append(f"wrk exited {returncode}" + (f": {detail[-1]}" if detail else ""))
    if parsed is None:
        problems.append("no result line from wrk")
        parsed = {}
    result = {
        "requests": int(parsed.get("requests") or 0),
        "duration_us": int(parsed.get("duration_us") or 0),
        "bytes": int(parsed.get("bytes") or 0),
        "errors": {kind: int((parsed.get("errors") or {}).get(kind) or 0) for kind in ERROR_KINDS},
        "latency_us": parsed.get("latency_us") or {},
    }
    errors = {k: v for k, v in result["errors"].items() if v}
    if errors:
        problems.append("errors " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    requests, seconds = result["requests"], result["duration_us"] / 1e6
    if not requests:
        problems.append("no request completed")
    latency = result["latency_us"]
    result.update(
        rps=requests / seconds if requests and seconds > 0 else 0.0,
        p50_ms=latency["p50"] / 1000 if requests and "p50" in latency else None,
        p99_ms=latency["p99"] / 1000 if requests and "p99" in latency else None,
        problem="; ".join(problems) or None,
    )
    return result


def _wrk_env(server: Server) -> dict[str, str]:
    return {
        **os.environ,
        "BENCH_TOKEN": server.token,
        "BENCH_LOGIN": f"user{LOGIN_USER}@example.com",
        "BENCH_PASSWORD": PASSWORD,
    }


def _run(command: list[str], env: dict[str, str], seconds: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return parse_wrk(str(exc.stdout or ""), -1, f"no answer {seconds + 60:g} s after start")
    return parse_wrk(done.stdout, done.returncode, done.stderr)


def _start_logins(server: Server, seconds: float) -> tuple[subprocess.Popen, list[str]]:
    command = wrk_command(server.base, "/auth/token", "login.lua", seconds + 60, LOGINS)
    proc = subprocess.Popen(
        command, env=_wrk_env(server), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    time.sleep(1.0)  # the sign-ins are under way before the measured run starts
    return proc, command


def _stop_logins(proc: subprocess.Popen) -> dict[str, Any]:
    proc.send_signal(signal.SIGINT)  # wrk stops and reports
    try:
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        proc.kill()
        output = proc.communicate()[0].decode(errors="replace")
    # Stopped by SIGINT, wrk exits 0 after its report; anything else is a failure.
    return parse_wrk(output, 0 if proc.returncode in (0, -signal.SIGINT) else proc.returncode)


def run_round(server: Server, scenario: Scenario, seconds: float) -> dict[str, Any]:
    """One closed-loop run; with `logins`, a second wrk keeps LOGINS sign-ins in flight."""
    command = wrk_command(server.base, scenario.path, scenario.script, seconds, CONNECTIONS)
    if scenario.script == "get.lua":
        command[-1:-1] = ["-H", f"Authorization: Bearer {server.token}"]
    login_proc, login_command = _start_logins(server, seconds) if scenario.logins else (None, [])
    try:
        sessions_before = db_sessions()
        before = sample(server.pid)
        started = time.monotonic()
        result = _run(command, _wrk_env(server), seconds)
        elapsed = time.monotonic() - started
        if server.proc is None or server.proc.poll() is not None:
            raise BenchError(f"{server.label} exited during a round:\n{server.log_tail()}")
        after = sample(server.pid)
        sessions_after = db_sessions()
    finally:
        logins = _stop_logins(login_proc) if login_proc is not None else None
    used = {key: after[key] - before[key] for key in before}
    result.update(
        app_cpu_s=used["app"],
        db_cpu_s=used["db"],
        wall_s=elapsed,
        wrk_cpu_s=used["wrk"],
        db_connections=sessions_after - sessions_before - 1,
        # Busy CPU time that was not the server, its database backends or wrk: other load
        # on the machine (the sign-in wrk is counted here too; its work is the server's).
        other_cpu_s=max(0.0, used["busy"] - used["app"] - used["db"] - used["wrk"]),
        command=command,
    )
    if logins is not None:
        result.update(
            logins_per_s=logins["rps"],
            login_p50_ms=logins["p50_ms"],
            login_problem=logins["problem"],
            login_command=login_command,
        )
    return result


def round_summary(result: dict[str, Any]) -> str:
    """One log line's worth: req/s, latencies, and what went wrong if anything did."""

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f} ms"

    text = f"{result['rps']:,.0f} req/s, p50 {ms(result['p50_ms'])}, p99 {ms(result['p99_ms'])}"
    for key in ("problem", "login_problem"):
        if result.get(key):
            text += f" [{'sign-ins: ' if key == 'login_problem' else ''}{result[key]}]"
    return text
