"""Everything a run is configured by: the BENCH_* environment, fixed constants, scenarios.

Read once at import. The variables (documented in bench/README.md): QUICK=1 (short rounds,
written to bench/RESULTS-quick.md), BENCH_DURATION, BENCH_WARMUP (seconds), BENCH_ROUNDS,
BENCH_CONNECTIONS, BENCH_THREADS, BENCH_LOGINS, BENCH_SCENARIOS (comma-separated keys,
default all; `none` only checks that the servers agree), BENCH_DB, BENCH_PG_URL
(postgres://postgres@127.0.0.1:5432), BENCH_OUT, BENCH_KEEP_DB, BENCH_USERS.
"""

import datetime as dt
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
LOGS = BENCH / "logs"
ANALYSIS = BENCH / "ANALYSIS.md"  # the hand-written "Where the time goes"
TEMPLATE = BENCH / "report_template.md"
PYTHON = sys.executable


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


QUICK = _env_flag("QUICK")
DURATION = _env_int("BENCH_DURATION", 2 if QUICK else 10)
WARMUP = _env_int("BENCH_WARMUP", 1 if QUICK else 3)
ROUNDS = _env_int("BENCH_ROUNDS", 3)
CONNECTIONS = _env_int("BENCH_CONNECTIONS", 32)
THREADS = _env_int("BENCH_THREADS", 1)
LOGINS = _env_int("BENCH_LOGINS", 2)
USERS = _env_int("BENCH_USERS", 10_000)
ITEMS_PER_USER = 5
DB_NAME = os.environ.get("BENCH_DB", "bench")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
KEEP_DB = _env_flag("BENCH_KEEP_DB")
ONLY = {s.strip() for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s.strip()}
# A check-only run (`none`) has no figures: its report goes to the logs, not over RESULTS.md.
_DEFAULT_OUT = "RESULTS-quick.md" if QUICK else "RESULTS.md"
OUT = Path(
    os.environ.get("BENCH_OUT")
    or (LOGS / "RESULTS-none.md" if sorted(ONLY) == ["none"] else BENCH / _DEFAULT_OUT)
)
INVOCATION = ("QUICK=1 " if QUICK else "") + "make bench"

PASSWORD = "bench-password"
LOGIN_USER = 1  # the account every server's benchmark token belongs to
READ_USER = 4242  # GET /users/{id}
SEED_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The service's settings, production defaults spelled out (never lowered), for all of them.
# SECRET_KEY is added per run: 48 random characters (production refuses a weak one).
SERVER_SETTINGS = {
    "ENVIRONMENT": "production",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",  # one line per request, as a deployment ships them
    "SQL_ECHO": "false",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
    "CORS_ORIGINS": "",
    "ARGON2_TIME_COST": "3",
    "ARGON2_MEMORY_COST": "65536",
    "ARGON2_PARALLELISM": "4",
    "PASSWORD_HASH_CONCURRENCY": "2",
    "DB_POOL_MIN": "1",
    "DB_POOL_MAX": "10",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "60",
    "LOGIN_MAX_FAILURES": "5",
    "LOGIN_FAILURE_WINDOW_SECONDS": "900",
}
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
# The DRF peer as a Django deployment runs: gunicorn's threaded sync worker, one process,
# a thread (and so a persistent database connection) per pooled connection of the others.
# No access log (gunicorn's default); no control socket (it would live in ~/.gunicorn).
GUNICORN_FLAGS = [
    *("--worker-class", "gthread", "--workers", "1"),
    *("--threads", SERVER_SETTINGS["DB_POOL_MAX"], "--no-control-socket"),
]

# (key, label, app, URL scheme its driver wants, how it is served: "uvicorn" for an ASGI
# app, "gunicorn" for a WSGI one)
SERVERS = [
    ("service", "service", "app.main:app", "postgres", "uvicorn"),
    ("baseline", "baseline", "bench.baseline:app", "postgresql", "uvicorn"),
    ("seed", "seed style", "bench.seed_style:app", "postgresql+psycopg2", "uvicorn"),
    ("drf", "DRF", "bench.drf_peer.wsgi:application", "postgresql", "gunicorn"),
]


class BenchError(Exception):
    """A precondition or a check failed: stop, clean up, say why."""


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    script: str = "get.lua"
    rows: int = 1  # top-level objects per response
    logins: bool = False  # a second wrk keeps LOGINS sign-ins in flight
    writes: bool = False  # rows it adds are deleted after each run


SCENARIOS = [
    Scenario("user", "GET /users/{id}", f"/users/{READ_USER}"),
    Scenario(
        "user_logins",
        f"GET /users/{{id}}, {LOGINS} sign-ins in flight",
        f"/users/{READ_USER}",
        logins=True,
    ),
    *[
        Scenario(
            f"users_items_{n}",
            f"GET /users/?limit={n}&include=items",
            f"/users/?limit={n}&include=items",
            rows=n,
        )
        for n in (10, 50, 100)
    ],
    *[
        Scenario(
            f"items_owner_{n}",
            f"GET /items/?limit={n}&include=owner",
            f"/items/?limit={n}&include=owner",
            rows=n,
        )
        for n in (10, 50, 100)
    ],
    Scenario("post_item", "POST /items/", "/items/", "post_item.lua", writes=True),
]

# service/baseline req/s targets, checked in the report
TARGETS = {"user": 0.9, "post_item": 0.9, "users_items_50": 0.6, "items_owner_50": 0.6}


def selected_scenarios() -> list[Scenario]:
    unknown = ONLY - {s.key for s in SCENARIOS} - {"none"}
    if unknown:
        raise BenchError(f"BENCH_SCENARIOS: unknown {', '.join(sorted(unknown))}")
    return [s for s in SCENARIOS if not ONLY or s.key in ONLY]


def pg_url(database: str, scheme: str = "postgres") -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(scheme=scheme, path=f"/{database}"))


def check_settings() -> None:
    host = urlsplit(PG_URL).hostname
    if host != "127.0.0.1":
        raise BenchError(f"BENCH_PG_URL must name 127.0.0.1, not {host!r}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", DB_NAME):
        raise BenchError(f"BENCH_DB must be a plain lower-case name, not {DB_NAME!r}")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
