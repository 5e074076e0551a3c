"""The report: figures from the rounds, as table rows, into bench/report_template.md.

`results[scenario key][server key]` is the list of a scenario's measured rounds (the dicts
of `load.run_round`). Every figure copes with rounds in which no request completed: they
count as 0 req/s, and latency or CPU per request is "n/a" when no round completed one.
The hand-written analysis comes from bench/ANALYSIS.md, included as it is.
"""

import json
import re
import shlex
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from string import Template
from typing import Any

from bench import config
from bench.config import (
    ANALYSIS,
    LOGS,
    SCENARIOS,
    SERVER_SETTINGS,
    TARGETS,
    TEMPLATE,
    Scenario,
)
from bench.servers import Server, make_servers

Runs = list[dict[str, Any]]
Results = dict[str, dict[str, Runs]]
NO_ANALYSIS = "_To be filled in by the lead: profiles of the service against the baseline._"


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def stat(runs: Runs, key: str) -> float | None:
    return median(r.get(key) for r in runs)


def per_request_us(runs: Runs, key: str) -> float | None:
    """A counter (CPU seconds) per completed request, in µs: rounds with requests only."""
    return median(r[key] / r["requests"] * 1e6 for r in runs if r["requests"])


def other_load(run: dict[str, Any], cpus: int) -> float | None:
    return run["other_cpu_s"] / (run["wall_s"] * cpus) if run["wall_s"] > 0 else None


def fmt(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def fmt_rps(runs: Runs) -> str:
    rps = [r["rps"] for r in runs]
    return f"{median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f})" if rps else "n/a"


def _met(value: float | None, bound: float, at_least: bool) -> str:
    if value is None:
        return "n/a"
    return "yes" if (value >= bound if at_least else value <= bound) else "**no**"


# The servers the service is compared with, a column of service/... ratios each.
COMPARED = ("baseline", "seed", "drf")


def ratio_rows(results: Results, by_key: dict[str, Server]) -> list[str]:
    """The service against each of COMPARED ("n/a" for one that has no rounds, as in
    an older run's results.json); the targets are against the baseline only."""
    titles = {s.key: s.title for s in SCENARIOS}
    rows = []
    for key, target in TARGETS.items():
        if key not in results:
            continue
        rps = {k: stat(results[key].get(k, []), "rps") for k in ("service", *COMPARED)}
        s, b = rps["service"], rps["baseline"]
        value = s / b if s is not None and b else None
        cells = " | ".join(ratio(s, rps[k]) for k in COMPARED)
        rows.append(f"| {titles[key]} req/s | {cells} | ≥ {target} | {_met(value, target, True)} |")
    if "user" in results and "user_logins" in results:
        with_ = stat(results["user_logins"]["service"], "p99_ms")
        without = stat(results["user"]["service"], "p99_ms")
        value = with_ / without if with_ is not None and without else None
        rows.append(
            f"| GET /users/{{id}} p99 with sign-ins ÷ without (service) | "
            f"{ratio(with_, without)} | | | ≤ 2 | {_met(value, 2, False)} |"
        )
    service, baseline = by_key["service"], by_key["baseline"]
    if service.memory and baseline.memory:
        rss = {k: by_key[k].memory.get("VmRSS", 0) if k in by_key else 0 for k in COMPARED}
        s_rss = service.memory["VmRSS"]
        cells = " | ".join(ratio(s_rss, rss[k]) for k in COMPARED)
        rows.append(
            f"| RSS after the run | {cells} | ≤ 1.5 | {_met(s_rss / rss['baseline'], 1.5, False)} |"
        )
    return rows


def endpoint_rows(results: Results, scenarios: list[Scenario], servers: list[Server], cpus: int):
    rows = []
    for scenario in scenarios:
        for server in servers:
            runs = results[scenario.key][server.key]
            rows.append(
                f"| {scenario.title} | {server.label} | {fmt_rps(runs)} | "
                f"{fmt(stat(runs, 'p50_ms'), '.2f')} | {fmt(stat(runs, 'p99_ms'), '.2f')} | "
                f"{fmt(per_request_us(runs, 'app_cpu_s'))} | "
                f"{fmt(stat(runs, 'db_connections'))} | "
                f"{fmt(median(other_load(r, cpus) for r in runs), '.0%')} |"
            )
    return rows


def signin_rows(results: Results, servers: list[Server]) -> list[str]:
    rows = []
    for server in servers:
        without, with_ = results["user"][server.key], results["user_logins"][server.key]
        p_without, p_with = stat(without, "p99_ms"), stat(with_, "p99_ms")
        rows.append(
            f"| {server.label} | {fmt(p_without, '.2f')} | {fmt(p_with, '.2f')} | "
            f"{ratio(p_with, p_without)} | {fmt(stat(without, 'rps'))} | "
            f"{fmt(stat(with_, 'rps'))} | {fmt(stat(with_, 'logins_per_s'), '.1f')} |"
        )
    return rows


def growth_rows(results: Results, growth: list[Scenario], servers: list[Server]) -> list[str]:
    rows = []
    for family in ("users_items_", "items_owner_"):
        family_scenarios = [s for s in growth if s.key.startswith(family)]
        for server in servers:
            per_req = {
                s.rows: per_request_us(results[s.key][server.key], "app_cpu_s")
                for s in family_scenarios
            }
            low, high = per_req.get(10), per_req.get(100)
            slope = fmt((high - low) / 90, ",.1f") if low is not None and high is not None else ""
            for s in family_scenarios:
                runs, app = results[s.key][server.key], per_req[s.rows]
                rows.append(
                    f"| {s.title} | {server.label} | {fmt(stat(runs, 'rps'))} | {fmt(app)} | "
                    f"{fmt(None if app is None else app / s.rows, ',.1f')} | "
                    f"{slope if s.rows == 100 else ''} | "
                    f"{fmt(per_request_us(runs, 'db_cpu_s'))} |"
                )
    return rows


def problem_lines(results: Results, scenarios: list[Scenario], servers: list[Server], warmups):
    lines = [f"- {line}" for line in warmups]
    for scenario in scenarios:
        for server in servers:
            for number, r in enumerate(results[scenario.key][server.key], 1):
                for key, what in (("problem", ""), ("login_problem", "sign-ins: ")):
                    if r.get(key):
                        lines.append(
                            f"- {scenario.title}, {server.label}, round {number}: {what}{r[key]}"
                        )
    return lines


def round_rows(results: Results, scenarios: list[Scenario], servers: list[Server]) -> list[str]:
    rows = []
    for scenario in scenarios:
        for server in servers:
            for number, r in enumerate(results[scenario.key][server.key], 1):
                problems = "; ".join(r[k] for k in ("problem", "login_problem") if r.get(k))
                rows.append(
                    f"| {scenario.title} | {server.label} | {number} | {r['rps']:,.0f} | "
                    f"{fmt(r['p50_ms'], '.2f')} | {fmt(r['p99_ms'], '.2f')} | "
                    f"{r['app_cpu_s']:.2f} | {r['db_cpu_s']:.2f} | {r['wrk_cpu_s']:.2f} | "
                    f"{r['other_cpu_s']:.2f} | {problems} |"
                )
    return rows


def command_lines(results: Results, scenarios: list[Scenario], servers: list[Server]):
    service = next(s for s in servers if s.key == "service")
    env_line = " ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())
    lines = [
        config.INVOCATION,
        f"# database {config.DB_NAME} recreated, then:",
        f"DATABASE_URL={config.pg_url(config.DB_NAME)} {config.PYTHON} -m app migrate",
        "# servers (cwd bench/logs, so no .env is read), with this environment:",
        f"#   {env_line} SECRET_KEY=<48 random characters>",
        *(f"DATABASE_URL={s.database_url} {shlex.join(s.command)}" for s in servers),
        "# each round, for example (TOKEN from the server's own POST /auth/token):",
    ]
    for scenario in scenarios:
        first = results[scenario.key][service.key][0]
        command = shlex.join(first["command"]).replace(
            f"'Authorization: Bearer {service.token}'", '"Authorization: Bearer $TOKEN"'
        )
        lines.append(f"BENCH_TOKEN=$TOKEN {command}" if scenario.script != "get.lua" else command)
        if scenario.logins:
            lines.append(
                f"#   alongside: BENCH_LOGIN=user{config.LOGIN_USER}@example.com "
                f"BENCH_PASSWORD={config.PASSWORD} {shlex.join(first['login_command'])}"
            )
    return lines


def analysis() -> str:
    """bench/ANALYSIS.md without its title."""
    if not ANALYSIS.exists():
        return NO_ANALYSIS
    text = re.sub(r"\A# [^\n]*\n", "", ANALYSIS.read_text()).strip()
    return text or NO_ANALYSIS


def render(template: str, flags: dict[str, bool], values: dict[str, Any]) -> str:
    """`<!-- if NAME -->` ... `<!-- end NAME -->` blocks kept when flags[NAME], then
    string.Template's ${name} substitution."""

    def block(match: re.Match) -> str:
        return match[2] if flags[match[1]] else ""

    text = re.sub(r"<!-- if (\w+) -->\n(.*?)<!-- end \1 -->\n", block, template, flags=re.S)
    return Template(text).substitute(values)


def build(
    results: Results,
    servers: list[Server],
    info: dict[str, Any],
    charts: list[str] = (),
    scale_section: str = "",
    observability_section: str = "",
) -> str:
    """The report's text. `info`: date, elapsed_min, machine, versions, verify, cpus,
    warmup_problems (lines about warm-ups that did not run cleanly); `charts`:
    the lines that show the pictures (`bench/charts.py`); `scale_section`: the table and
    picture of `bench/scale.py`, when it ran; `observability_section`: the on/off table of
    `bench/overhead.py`, when it ran."""
    by_key = {s.key: s for s in servers}
    scenarios = [s for s in SCENARIOS if s.key in results]
    growth = [s for s in scenarios if s.key.startswith(("users_items_", "items_owner_"))]
    cpus = info["cpus"]
    loads = [other_load(r, cpus) for per in results.values() for rs in per.values() for r in rs]
    load = median(loads)
    problems = problem_lines(results, scenarios, servers, info.get("warmup_problems", []))
    flags = {
        "noisy": load is not None and load > 0.1,
        "problems": bool(problems),
        "signins": "user" in results and "user_logins" in results,
        "growth": bool(growth),
        "scale": bool(scale_section),
        "observability": bool(observability_section),
    }
    verified = info["verify"]
    values = {
        "quick_note": "**QUICK smoke run: short rounds, not for conclusions.** "
        if config.QUICK
        else "",
        "date": info["date"],
        "elapsed_min": f"{info['elapsed_min']:.1f}",
        "duration": config.DURATION,
        "rounds": config.ROUNDS,
        "warmup": config.WARMUP,
        "threads": config.THREADS,
        "connections": config.CONNECTIONS,
        "logins": config.LOGINS,
        "other_load": fmt(load, ".0%"),
        "problem_lines": "\n".join(problems),
        "users": f"{config.USERS:,}",
        "items_per_user": config.ITEMS_PER_USER,
        "compared": verified["compared"],
        "identical_bytes": verified["identical_bytes"],
        "with_body": verified["with_body"],
        "ratio_rows": "\n".join(ratio_rows(results, by_key)),
        "charts": "\n\n".join(charts),
        "endpoint_rows": "\n".join(endpoint_rows(results, scenarios, servers, cpus)),
        "signin_rows": "\n".join(signin_rows(results, servers)) if flags["signins"] else "",
        "growth_rows": "\n".join(growth_rows(results, growth, servers)),
        "scale_rows": scale_section,
        "observability_rows": observability_section,
        "memory_rows": "\n".join(
            f"| {s.label} | {s.memory['VmRSS'] / 1024:.1f} | {s.memory['VmHWM'] / 1024:.1f} |"
            for s in servers
            if s.memory
        ),
        "analysis": analysis(),
        "machine_lines": "\n".join(f"- {k}: {v}" for k, v in info["machine"].items()),
        "versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        "commands": "\n".join(command_lines(results, scenarios, servers)),
        "round_rows": "\n".join(round_rows(results, scenarios, servers)),
    }
    return render(TEMPLATE.read_text(), flags, values)


def rebuild() -> int:
    """`python -m bench.report`: the report of the last run again, from
    bench/logs/results.json, after editing ANALYSIS.md or the template. Run it with the
    run's QUICK and BENCH_* settings: the report's text states them."""
    saved = json.loads((LOGS / "results.json").read_text())
    ran = {key for per_server in saved["results"].values() for key in per_server}
    servers = [s for s in make_servers({}) if s.key in ran or not ran]  # an older run: fewer
    for server in servers:
        server.memory = saved["memory"].get(server.key) or {}
    from bench import charts, overhead, scale

    out = Path(saved["info"].get("out", config.OUT))  # the report that run wrote
    pictures = charts.draw(saved["results"], servers, out)
    scaled = saved.get("scale") or []
    section = scale.section(scaled, scale.draw(scaled, out))
    observed = overhead.section(saved.get("observability") or {})
    out.write_text(build(saved["results"], servers, saved["info"], pictures, section, observed))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(rebuild())
