"""`make bench`: the service against its ceiling and against the seed's style, side by side.

Creates the database BENCH_DB (dropped first if it exists) on PostgreSQL at 127.0.0.1,
builds it with `python -m app migrate`, loads 10,000 users with 5 items each by COPY
(one password hash for all), and serves it three ways, each as one uvicorn worker with
uvloop, httptools and no access log:

    service    the service as in production (ENVIRONMENT=production, app.main:app)
    baseline   bench/baseline.py: FastAPI, hand-written SQL on an asyncpg pool
    seed       bench/seed_style.py: sync SQLAlchemy sessions in `def` endpoints

It checks that the three answer the same JSON to the same requests, then drives each
endpoint with wrk on loopback (closed loop, a warm-up, then interleaved rounds), reads
each server's CPU time and memory from /proc, and writes bench/RESULTS.md. Every process
it starts is stopped at the end, and the database dropped (BENCH_KEEP_DB=1 keeps it).

Environment: QUICK=1 (short rounds for a smoke run, written to bench/RESULTS-quick.md),
BENCH_DURATION, BENCH_WARMUP (seconds), BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_THREADS,
BENCH_LOGINS, BENCH_SCENARIOS (comma-separated keys, default all), BENCH_DB,
BENCH_PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_OUT, BENCH_KEEP_DB.
"""

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
LOGS = BENCH / "logs"
PYTHON = sys.executable


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


QUICK = os.environ.get("QUICK", "") not in ("", "0")
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
OUT = Path(os.environ.get("BENCH_OUT") or BENCH / ("RESULTS-quick.md" if QUICK else "RESULTS.md"))
KEEP_DB = os.environ.get("BENCH_KEEP_DB", "") not in ("", "0")
ONLY = {s.strip() for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s.strip()}

PASSWORD = "bench-password"
LOGIN_USER = 1  # the account every server's benchmark token belongs to
READ_USER = 4242  # GET /users/{id}
SEED_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The service's settings, production defaults spelled out (never lowered), for all three.
SERVER_SETTINGS = {
    "ENVIRONMENT": "production",
    "LOG_LEVEL": "INFO",
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


class BenchError(Exception):
    """A precondition or a check failed: stop, clean up, say why."""


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_url(database: str, scheme: str = "postgres") -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(scheme=scheme, path=f"/{database}"))


def _check_loopback() -> None:
    host = urlsplit(PG_URL).hostname
    if host != "127.0.0.1":
        raise BenchError(f"BENCH_PG_URL must name 127.0.0.1, not {host!r}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", DB_NAME):
        raise BenchError(f"BENCH_DB must be a plain lower-case name, not {DB_NAME!r}")


def sql(database: str, *statements: str) -> list[Any]:
    """Run statements on `database`, one connection; the last one's rows are returned."""

    async def run() -> list[Any]:
        connection = await asyncpg.connect(_pg_url(database), timeout=10)
        try:
            rows: list[Any] = []
            for statement in statements:
                rows = await connection.fetch(statement)
            return rows
        finally:
            await connection.close()

    return asyncio.run(run())


def create_database() -> None:
    sql(
        "postgres",
        f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)',
        f'CREATE DATABASE "{DB_NAME}"',
    )


def drop_database() -> None:
    sql("postgres", f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _stamp(n: int) -> dt.datetime:
    # Every tenth row has no microseconds: isoformat() then leaves them out, and all
    # three servers must agree on that too.
    micro = 0 if n % 10 == 0 else (n * 7919) % 1_000_000
    return SEED_EPOCH + dt.timedelta(seconds=n, microseconds=micro)


def _item_name(j: int) -> str:
    if j % 11 == 0:
        return f"café {j} ☕"
    if j % 13 == 0:
        return f'item "{j}" \\ with quotes'
    return f"item {j}"


def seed(hashed_password: str) -> tuple[int, int]:
    """USERS users with ITEMS_PER_USER items each, by COPY. Returns (users, items)."""
    users = []
    for i in range(1, USERS + 1):
        username = None if i % 7 == 0 else f"user{i}"
        created = _stamp(i)
        users.append(
            (
                i,
                f"user{i}@example.com",
                username,
                username.lower() if username else None,
                hashed_password,
                i % 97 != 0,  # a few inactive accounts
                i % 1000 == 0,  # and a few superusers
                created,
                created + dt.timedelta(minutes=i % 3),
            )
        )
    items = []
    for j in range(1, USERS * ITEMS_PER_USER + 1):
        created = _stamp(USERS + j)
        items.append(
            (
                j,
                _item_name(j),
                None if j % 3 == 0 else f"description of item {j}",
                (j - 1) // ITEMS_PER_USER + 1,
                created,
                created + dt.timedelta(seconds=j % 5),
            )
        )

    async def load() -> None:
        connection = await asyncpg.connect(_pg_url(DB_NAME), timeout=10)
        try:
            await connection.copy_records_to_table(
                "users",
                records=users,
                columns=[
                    "id",
                    "email",
                    "username",
                    "username_lower",
                    "hashed_password",
                    "is_active",
                    "is_superuser",
                    "created_at",
                    "updated_at",
                ],
            )
            await connection.copy_records_to_table(
                "items",
                records=items,
                columns=["id", "name", "description", "owner_id", "created_at", "updated_at"],
            )
            for table in ("users", "items"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await connection.execute("VACUUM ANALYZE users")
            await connection.execute("VACUUM ANALYZE items")
        finally:
            await connection.close()

    asyncio.run(load())
    return len(users), len(items)


def reset_items(max_item_id: int) -> None:
    """Remove what POST /items/ added, so every round sees the same tables."""
    sql(DB_NAME, f"DELETE FROM items WHERE id > {max_item_id}", "VACUUM ANALYZE items")


# --- processes --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M)[1]) for key in ("VmRSS", "VmHWM")
    }


def busy_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all CPUs), from /proc/stat."""
    # user nice system idle iowait irq softirq (steal, guest: left out)
    ticks = [int(v) for v in Path("/proc/stat").read_text().split()[1:8]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def db_backends_cpu() -> float:
    """CPU time of PostgreSQL for the bench (best effort: a local server whose processes
    we may read): the live backends connected to BENCH_DB, plus the postmaster's count of
    its exited children, which holds the backends that closed (a pool's overflow
    connections) but also those of any other database that closed meanwhile."""
    total = 0.0
    marker = f" {DB_NAME} "
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if title.startswith("postgres:") and marker in title:
                total += cpu_seconds(int(proc.name))
            elif title.split(" ", 1)[0].endswith("/postgres"):  # the postmaster
                fields = _stat_fields(proc.name)
                total += (int(fields[13]) + int(fields[14])) / tick
        except (OSError, ValueError, IndexError):
            continue
    return total


def db_sessions() -> int:
    """Connections opened to BENCH_DB so far (this query's own included)."""
    rows = sql(DB_NAME, f"SELECT sessions FROM pg_stat_database WHERE datname = '{DB_NAME}'")
    return int(rows[0][0])


@dataclass
class Server:
    key: str
    label: str
    app: str
    database_url: str
    env: dict[str, str]
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen | None = None
    token: str = ""
    memory: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            PYTHON,
            "-m",
            "uvicorn",
            self.app,
            "--app-dir",
            str(ROOT),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *UVICORN_FLAGS,
        ]

    def start(self) -> None:
        log = (LOGS / f"{self.key}.log").open("wb")
        self.proc = subprocess.Popen(
            self.command,
            cwd=LOGS,  # no .env here: the settings are exactly the ones given
            env={**self.env, "DATABASE_URL": self.database_url},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise BenchError(f"{self.label} exited at start-up:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise BenchError(f"{self.label} not ready after {timeout:g}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        path = LOGS / f"{self.key}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def sign_in(self) -> None:
        response = httpx.post(
            f"{self.base}/auth/token",
            data={"username": f"user{LOGIN_USER}@example.com", "password": PASSWORD},
            timeout=30,
        )
        if response.status_code != 200:
            raise BenchError(f"{self.label}: sign-in gave {response.status_code} {response.text}")
        self.token = response.json()["access_token"]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


# --- the same data from all three -------------------------------------------------------

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")

# (method, path, body, auth) with auth one of "token", "none", "bad"; the JSON and the
# X-Total-Count header must be the same everywhere (for 422 only the status).
CHECKS: list[tuple[str, str, Any, str]] = [
    ("GET", f"/users/{READ_USER}", None, "token"),
    ("GET", "/users/7", None, "token"),  # no username
    ("GET", "/users/97", None, "token"),  # inactive
    ("GET", "/users/42?include=items", None, "token"),
    ("GET", "/users/?limit=10&include=items", None, "token"),
    ("GET", "/users/?limit=50&include=items", None, "token"),
    ("GET", "/users/?limit=100&include=items", None, "token"),
    ("GET", f"/users/?skip={USERS - 5}&limit=10&include=items", None, "token"),
    ("GET", "/users/?limit=50", None, "token"),
    ("GET", "/items/?limit=10&include=owner", None, "token"),
    ("GET", "/items/?limit=50&include=owner", None, "token"),
    ("GET", "/items/?limit=100&include=owner", None, "token"),
    ("GET", f"/items/?skip={USERS * ITEMS_PER_USER - 5}&limit=10&include=owner", None, "token"),
    ("GET", "/items/?limit=50", None, "token"),
    ("GET", "/users/999999", None, "token"),
    ("GET", "/users/0", None, "token"),
    ("GET", "/users/abc", None, "token"),
    ("GET", "/users/?limit=0", None, "token"),
    ("GET", "/users/?limit=101", None, "token"),
    ("GET", "/users/?skip=-1", None, "token"),
    ("GET", "/users/?include=owner", None, "token"),
    ("GET", "/items/?include=items", None, "token"),
    ("GET", "/items/?limit=101&include=owner", None, "token"),
    ("GET", f"/users/{READ_USER}", None, "none"),
    ("GET", f"/users/{READ_USER}", None, "bad"),
    ("GET", "/items/?limit=10", None, "bad"),
    ("POST", "/items/", {"name": ""}, "token"),
    ("POST", "/items/", {"name": 5}, "token"),
    ("POST", "/items/", {"description": "no name"}, "token"),
    ("POST", "/items/", {"name": "x" * 256}, "token"),
    ("POST", "/items/", {"name": "ok"}, "none"),
]
CREATE = {"name": "verification item", "description": "made by bench/run.py"}


def _first_difference(a: Any, b: Any, path: str = "$") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            if a[key] != b[key] or json.dumps(a[key]) != json.dumps(b[key]):
                return _first_difference(a[key], b[key], f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if json.dumps(x) != json.dumps(y):
                return _first_difference(x, y, f"{path}[{index}]")
    return f"{path}: {a!r} != {b!r}"


def verify(servers: list[Server], max_item_id: int) -> dict[str, Any]:
    """Same requests to every server; the answers must match the service's."""
    problems: list[str] = []
    compared = identical_bytes = with_body = 0
    byte_differences: list[str] = []
    with httpx.Client(timeout=30) as client:

        def call(server: Server, method: str, path: str, body: Any, auth: str) -> httpx.Response:
            headers = {}
            if auth == "token":
                headers["Authorization"] = f"Bearer {server.token}"
            elif auth == "bad":
                headers["Authorization"] = f"Bearer {server.token[:-4]}AAAA"
            return client.request(method, server.base + path, json=body, headers=headers)

        for method, path, body, auth in CHECKS:
            answers = [call(s, method, path, body, auth) for s in servers]
            reference = answers[0]
            for server, answer in zip(servers[1:], answers[1:], strict=True):
                what = f"{method} {path} ({auth}) on {server.label}"
                compared += 1
                if answer.status_code != reference.status_code:
                    problems.append(f"{what}: {answer.status_code} != {reference.status_code}")
                    continue
                if reference.status_code == 422:
                    continue
                with_body += 1
                if answer.content == reference.content:
                    identical_bytes += 1
                else:
                    byte_differences.append(
                        f"{what}\n  {reference.content[:300]!r}\n  {answer.content[:300]!r}"
                    )
                a, b = reference.json(), answer.json()
                if a != b or json.dumps(a) != json.dumps(b):
                    problems.append(f"{what}: {_first_difference(a, b)}")
                for header in ("x-total-count", "www-authenticate"):
                    if reference.headers.get(header) != answer.headers.get(header):
                        problems.append(
                            f"{what}: {header} {answer.headers.get(header)!r} "
                            f"!= {reference.headers.get(header)!r}"
                        )
                etag = reference.headers.get("etag")
                if etag and server.key == "baseline" and answer.headers.get("etag") != etag:
                    problems.append(f"{what}: ETag {answer.headers.get('etag')!r} != {etag!r}")

        # POST /items/: the same item but for its id and timestamps.
        created = [call(s, "POST", "/items/", CREATE, "token") for s in servers]
        for server, answer in zip(servers, created, strict=True):
            what = f"POST /items/ on {server.label}"
            if answer.status_code != 201:
                problems.append(f"{what}: {answer.status_code} {answer.text[:200]}")
                continue
            item = answer.json()
            expected = {**CREATE, "owner_id": LOGIN_USER}
            keys = ["id", "name", "description", "owner_id", "created_at", "updated_at"]
            if list(item) != keys:
                problems.append(f"{what}: keys {list(item)} != {keys}")
            elif {k: item[k] for k in expected} != expected or not isinstance(item["id"], int):
                problems.append(f"{what}: {item}")
            elif not all(TIMESTAMP.fullmatch(item[k]) for k in ("created_at", "updated_at")):
                problems.append(f"{what}: timestamps {item['created_at']} {item['updated_at']}")

        # Sign-in failures: same status and message (a different account from the token's).
        for form in (
            {"username": "user2@example.com", "password": "wrong-password"},
            {"username": "nobody@example.com", "password": PASSWORD},
        ):
            answers = [client.post(f"{s.base}/auth/token", data=form) for s in servers]
            for server, answer in zip(servers[1:], answers[1:], strict=True):
                compared += 1
                if (answer.status_code, answer.json()) != (
                    answers[0].status_code,
                    answers[0].json(),
                ):
                    problems.append(
                        f"POST /auth/token {form['username']} on {server.label}: "
                        f"{answer.status_code} {answer.text} != "
                        f"{answers[0].status_code} {answers[0].text}"
                    )
    reset_items(max_item_id)
    if problems:
        raise BenchError("the servers disagree:\n  " + "\n  ".join(problems))
    (LOGS / "verify-bytes.log").write_text("\n".join(byte_differences) + "\n")
    return {"compared": compared, "identical_bytes": identical_bytes, "with_body": with_body}


# --- wrk --------------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    title: str
    path: str
    script: str = "get.lua"
    rows: int = 1  # top-level objects per response
    logins: bool = False
    writes: bool = False


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


def wrk_command(base: str, path: str, script: str, seconds: float, conns: int) -> list[str]:
    return [
        "wrk",
        f"-t{min(THREADS, conns)}",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA / script),
        base + path,
    ]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _parse_wrk(output: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise BenchError(f"no result line in wrk's output:\n{output}")


def _wrk_env(server: Server) -> dict[str, str]:
    return {
        **os.environ,
        "BENCH_TOKEN": server.token,
        "BENCH_LOGIN": f"user{LOGIN_USER}@example.com",
        "BENCH_PASSWORD": PASSWORD,
    }


def run_wrk(server: Server, scenario: Scenario, seconds: float) -> dict[str, Any]:
    """One closed-loop run; with `logins`, a second wrk keeps LOGINS sign-ins in flight."""
    command = wrk_command(server.base, scenario.path, scenario.script, seconds, CONNECTIONS)
    if scenario.script == "get.lua":
        command[-1:-1] = ["-H", f"Authorization: Bearer {server.token}"]
    login_proc = None
    if scenario.logins:
        login_command = wrk_command(server.base, "/auth/token", "login.lua", seconds + 60, LOGINS)
        login_proc = subprocess.Popen(
            login_command, env=_wrk_env(server), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        time.sleep(1.0)  # the sign-ins are under way before the measured run starts
    try:
        sessions_before = db_sessions()
        cpu_before, db_before = cpu_seconds(server.proc.pid), db_backends_cpu()
        wrk_before, busy_before = _children_cpu(), busy_cpu_seconds()
        started = time.monotonic()
        done = subprocess.run(
            command,
            env=_wrk_env(server),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        elapsed = time.monotonic() - started
        cpu_after, db_after = cpu_seconds(server.proc.pid), db_backends_cpu()
        wrk_after, busy_after = _children_cpu(), busy_cpu_seconds()
        sessions_after = db_sessions()
    finally:
        login_output = ""
        if login_proc is not None:
            login_proc.send_signal(signal.SIGINT)  # wrk stops and reports
            try:
                login_output = login_proc.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                login_proc.kill()
                login_proc.communicate()
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = _parse_wrk(done.stdout)
    errors = {k: v for k, v in result["errors"].items() if v}
    if errors or not result["requests"]:
        raise BenchError(
            f"{server.label} {scenario.title}: errors {errors}\n{done.stdout}\n{server.log_tail()}"
        )
    seconds_run = result["duration_us"] / 1e6
    result.update(
        rps=result["requests"] / seconds_run,
        p50_ms=result["latency_us"]["p50"] / 1000,
        p99_ms=result["latency_us"]["p99"] / 1000,
        app_cpu_s=cpu_after - cpu_before,
        db_cpu_s=db_after - db_before,
        wall_s=elapsed,
        wrk_cpu_s=wrk_after - wrk_before,
        db_connections=sessions_after - sessions_before - 1,
        # Busy CPU time that was not the server, its database backends or wrk: other load
        # on the machine (the sign-in wrk is counted here too; its work is the server's).
        other_cpu_s=max(
            0.0,
            (busy_after - busy_before)
            - (cpu_after - cpu_before)
            - (db_after - db_before)
            - (wrk_after - wrk_before),
        ),
        command=command,
    )
    if login_proc is not None:
        logins = _parse_wrk(login_output)
        login_errors = {k: v for k, v in logins["errors"].items() if v}
        if login_errors or not logins["requests"]:
            raise BenchError(f"{server.label}: sign-ins failed {login_errors}\n{login_output}")
        result["logins_per_s"] = logins["requests"] / (logins["duration_us"] / 1e6)
        result["login_p50_ms"] = logins["latency_us"]["p50"] / 1000
        result["login_command"] = login_command
    return result


# --- report -----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model[1].strip() if model else "unknown",
        "ram": f"{int(mem[1]) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "kernel": platform.release(),
        "loadavg at start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def code_version() -> str:
    """The service's code as the servers load it: read at start, before they start."""
    git = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    changed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "app", "migrations"],
        capture_output=True,
        text=True,
        check=False,
    )
    if git.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = " with uncommitted changes in app/ or migrations/" if changed.stdout else ""
    return f"git {git.stdout.strip()}{dirty}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in (
        "fastapi",
        "starlette",
        "pydantic",
        "tortoise-orm",
        "asyncpg",
        "sqlalchemy",
        "psycopg2-binary",
        "uvicorn",
        "uvloop",
        "httptools",
        "orjson",
        "libpass",
        "argon2-cffi",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["postgres"] = sql(DB_NAME, "SHOW server_version")[0][0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout + wrk.stderr).split("[")[0].replace("wrk ", "").strip()
    return found


def _fmt_rps(runs: list[dict]) -> str:
    rps = [r["rps"] for r in runs]
    return f"{_median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f})"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _stat(runs: list[dict], key: str) -> float:
    return _median([r[key] for r in runs])


def _other_load(run: dict) -> float:
    return run["other_cpu_s"] / (run["wall_s"] * len(os.sched_getaffinity(0)))


def _keep_section(title: str, default: str) -> str:
    """The lead's text under `title` in the previous RESULTS.md survives a new run."""
    if OUT.exists():
        previous = OUT.read_text()
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", previous, re.M | re.S)
        if match and match[1].strip():
            return match[1].strip()
    return default


def write_results(
    results: dict[str, dict[str, list[dict]]],
    servers: list[Server],
    info: dict[str, Any],
) -> None:
    by_key = {s.key: s for s in servers}
    service, baseline, seed_srv = by_key["service"], by_key["baseline"], by_key["seed"]
    scenarios = [s for s in SCENARIOS if s.key in results]
    lines: list[str] = []
    add = lines.append

    add("# Benchmark: the service, its ceiling, and the seed's style")
    add("")
    add(
        f"{'**QUICK smoke run: short rounds, not for conclusions.** ' if QUICK else ''}"
        f"Written by `make bench` (`bench/run.py`) on {info['date']}; the whole run took "
        f"{info['elapsed_min']:.1f} min. Rounds of {DURATION} s, {ROUNDS} rounds interleaved "
        f"service → baseline → seed style after a {WARMUP} s warm-up of each, wrk with "
        f"{THREADS} thread and {CONNECTIONS} connections (closed loop) on 127.0.0.1. "
        "req/s is the median over rounds (min-max); p50 and p99 are the medians of the "
        "rounds' wrk `--latency` percentiles."
    )
    add("")
    loads = [_other_load(r) for per in results.values() for runs in per.values() for r in runs]
    if loads and _median(loads) > 0.1:
        add(
            f"**Other programs used {_median(loads):.0%} of the CPUs during the median round**: "
            "the numbers are noisier and lower than on a quiet machine (see *other load*)."
        )
        add("")
    add("- **service**: the service as in production: `app.main:app`, `ENVIRONMENT=production`.")
    add("- **baseline**: `bench/baseline.py`, FastAPI with hand-written SQL on an asyncpg pool, ")
    add("  orjson out: the practical ceiling of this stack doing the same work per request.")
    add("- **seed style**: `bench/seed_style.py`, the seed's sync SQLAlchemy sessions in `def` ")
    add("  endpoints (pool_size=10, max_overflow=20, pool_pre_ping, pool_recycle=3600).")
    add("")
    add(
        f"All three read the same database ({USERS:,} users x {ITEMS_PER_USER} items, loaded by "
        "COPY, one argon2 hash for all) and answered the same JSON to "
        f"{info['verify']['compared']} compared requests before the run "
        f"(byte for byte: {info['verify']['identical_bytes']} of the "
        f"{info['verify']['with_body']} answers other than 422; for 422 only the status is "
        "compared)."
    )
    add("")

    # Targets.
    def med(server: Server, key: str, stat: str = "rps") -> float:
        return _stat(results.get(key, {}).get(server.key, []), stat) if key in results else 0.0

    add("## Ratios and targets")
    add("")
    add("| measure | service/baseline | service/seed style | target (service/baseline) | met |")
    add("|---|---:|---:|---:|:-:|")
    for key, target in (
        ("user", 0.8),
        ("post_item", 0.8),
        ("users_items_50", 0.6),
        ("items_owner_50", 0.6),
    ):
        if key not in results:
            continue
        title = next(s.title for s in SCENARIOS if s.key == key)
        s, b, c = med(service, key), med(baseline, key), med(seed_srv, key)
        met = "yes" if b and s / b >= target else "**no**"
        add(f"| {title} req/s | {_ratio(s, b)} | {_ratio(s, c)} | ≥ {target} | {met} |")
    if "user" in results and "user_logins" in results:
        with_, without = med(service, "user_logins", "p99_ms"), med(service, "user", "p99_ms")
        met = "yes" if without and with_ / without <= 2 else "**no**"
        add(
            f"| GET /users/{{id}} p99 with sign-ins ÷ without (service) | "
            f"{_ratio(with_, without)} | | ≤ 2 | {met} |"
        )
    if service.memory and baseline.memory:
        s_rss, b_rss = service.memory["VmRSS"], baseline.memory["VmRSS"]
        met = "yes" if s_rss / b_rss <= 1.5 else "**no**"
        c_rss = seed_srv.memory.get("VmRSS", 0)
        ratios = f"{_ratio(s_rss, b_rss)} | {_ratio(s_rss, c_rss)}"
        add(f"| RSS after the run | {ratios} | ≤ 1.5 | {met} |")
    add("")

    add("## Per endpoint")
    add("")
    add(
        "App CPU is the server process's CPU time per request. DB connections opened counts "
        "the new PostgreSQL sessions during a round (`pg_stat_database.sessions`): a pool "
        "that opens and closes connections under load pays for it on both sides. Other load "
        "is the share of the machine's CPUs busy with something else than the server, its "
        "PostgreSQL backends and wrk during the round (another program running makes the "
        "numbers noisy)."
    )
    add("")
    add(
        "| endpoint | server | req/s median (min-max) | p50 ms | p99 ms | app CPU µs/req "
        "| DB connections opened | other load |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|")
    for scenario in scenarios:
        for server in servers:
            runs = results[scenario.key][server.key]
            cpu = _median([r["app_cpu_s"] / r["requests"] * 1e6 for r in runs])
            add(
                f"| {scenario.title} | {server.label} | {_fmt_rps(runs)} | "
                f"{_stat(runs, 'p50_ms'):.2f} | {_stat(runs, 'p99_ms'):.2f} | {cpu:,.0f} | "
                f"{_stat(runs, 'db_connections'):,.0f} | "
                f"{_median([_other_load(r) for r in runs]):.0%} |"
            )
    add("")

    if "user" in results and "user_logins" in results:
        add("## GET /users/{id} while sign-ins run")
        add("")
        add(
            f"A second wrk keeps {LOGINS} `POST /auth/token` in flight (argon2 at the production "
            "cost) from a second before the measured run to its end."
        )
        add("")
        add(
            "| server | p99 without ms | p99 with ms | with ÷ without | req/s without | "
            "req/s with | sign-ins/s |"
        )
        add("|---|---:|---:|---:|---:|---:|---:|")
        for server in servers:
            without, with_ = results["user"][server.key], results["user_logins"][server.key]
            p_without, p_with = _stat(without, "p99_ms"), _stat(with_, "p99_ms")
            add(
                f"| {server.label} | {p_without:.2f} | {p_with:.2f} | {_ratio(p_with, p_without)} "
                f"| {_stat(without, 'rps'):,.0f} | {_stat(with_, 'rps'):,.0f} | "
                f"{_stat(with_, 'logins_per_s'):.1f} |"
            )
        add("")

    growth = [s for s in scenarios if s.key.startswith(("users_items_", "items_owner_"))]
    if growth:
        add("## How cost grows with the page size")
        add("")
        add(
            "App CPU is the server process's user+system time (`/proc/<pid>/stat`, all its "
            "threads) over a round divided by the requests served; a row is one top-level "
            "object (a user with its 5 items, or an item with its owner); µs/extra row is "
            "the slope between limit=10 and limit=100. DB CPU is PostgreSQL's: the backends "
            "connected to the bench database, plus every backend that exited during the "
            "round (those of another database too: noisy when something else uses the server)."
        )
        add("")
        add(
            "| list | server | req/s | app CPU µs/req | app CPU µs/row | µs/extra row | "
            "DB CPU µs/req |"
        )
        add("|---|---|---:|---:|---:|---:|---:|")
        for family in ("users_items_", "items_owner_"):
            for server in servers:
                per_req: dict[int, float] = {}
                for scenario in (s for s in growth if s.key.startswith(family)):
                    runs = results[scenario.key][server.key]
                    per_req[scenario.rows] = _median(
                        [r["app_cpu_s"] / r["requests"] * 1e6 for r in runs]
                    )
                slope = (
                    f"{(per_req[100] - per_req[10]) / 90:,.1f}"
                    if 10 in per_req and 100 in per_req
                    else ""
                )
                for scenario in (s for s in growth if s.key.startswith(family)):
                    runs = results[scenario.key][server.key]
                    db = _median([r["db_cpu_s"] / r["requests"] * 1e6 for r in runs])
                    add(
                        f"| {scenario.title} | {server.label} | {_stat(runs, 'rps'):,.0f} | "
                        f"{per_req[scenario.rows]:,.0f} | "
                        f"{per_req[scenario.rows] / scenario.rows:,.1f} | "
                        f"{slope if scenario.rows == 100 else ''} | {db:,.0f} |"
                    )
        add("")

    add("## Memory")
    add("")
    add("Resident memory of each server process after the run (`/proc/<pid>/status`).")
    add("")
    add("| server | VmRSS MiB | VmHWM (peak) MiB |")
    add("|---|---:|---:|")
    for server in servers:
        if server.memory:
            add(
                f"| {server.label} | {server.memory['VmRSS'] / 1024:.1f} | "
                f"{server.memory['VmHWM'] / 1024:.1f} |"
            )
    add("")

    add("## Where the time goes")
    add("")
    add(
        _keep_section(
            "Where the time goes",
            "_To be filled in by the lead: profiles of the service against the baseline._",
        )
    )
    add("")

    add("## Machine")
    add("")
    for key, value in info["machine"].items():
        add(f"- {key}: {value}")
    add(
        "- everything on this one machine: PostgreSQL, the server under test (the other two "
        "idle) and wrk share the CPUs"
    )
    add("")
    add("## Versions")
    add("")
    add(", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    add("")

    add("## Commands")
    add("")
    add("```sh")
    add(f"{info['invocation']}")
    add(f"# database {DB_NAME} recreated, then:")
    add(f"DATABASE_URL={_pg_url(DB_NAME)} {PYTHON} -m app migrate")
    add("# servers (cwd bench/logs, so no .env is read), with this environment:")
    env_line = " ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())
    add(f"#   {env_line} SECRET_KEY=<48 random characters>")
    for server in servers:
        add(f"DATABASE_URL={server.database_url} {shlex.join(server.command)}")
    add("# each round, for example (TOKEN from the server's own POST /auth/token):")
    for scenario in scenarios:
        runs = results[scenario.key][service.key]
        command = shlex.join(runs[0]["command"]).replace(
            f"'Authorization: Bearer {service.token}'", '"Authorization: Bearer $TOKEN"'
        )
        add(f"BENCH_TOKEN=$TOKEN {command}" if scenario.script == "post_item.lua" else command)
        if scenario.logins:
            login = shlex.join(runs[0]["login_command"])
            add(
                f"#   alongside: BENCH_LOGIN=user{LOGIN_USER}@example.com "
                f"BENCH_PASSWORD={PASSWORD} {login}"
            )
    add("```")
    add("")

    add("<details><summary>Every round</summary>")
    add("")
    add(
        "| endpoint | server | round | req/s | p50 ms | p99 ms | app CPU s | DB CPU s "
        "| wrk CPU s | other CPU s |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario in scenarios:
        for server in servers:
            for number, r in enumerate(results[scenario.key][server.key], 1):
                add(
                    f"| {scenario.title} | {server.label} | {number} | {r['rps']:,.0f} | "
                    f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['app_cpu_s']:.2f} | "
                    f"{r['db_cpu_s']:.2f} | {r['wrk_cpu_s']:.2f} | {r['other_cpu_s']:.2f} |"
                )
    add("")
    add("</details>")
    add("")
    OUT.write_text("\n".join(lines))


# --- main -------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed. Install it with: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    LOGS.mkdir(exist_ok=True)
    settings = {**SERVER_SETTINGS, "SECRET_KEY": secrets.token_urlsafe(48)}
    env = {**os.environ, **settings}
    servers = [
        Server("service", "service", "app.main:app", _pg_url(DB_NAME), env),
        Server("baseline", "baseline", "bench.baseline:app", _pg_url(DB_NAME, "postgresql"), env),
        Server(
            "seed",
            "seed style",
            "bench.seed_style:app",
            _pg_url(DB_NAME, "postgresql+psycopg2"),
            env,
        ),
    ]
    scenarios = [s for s in SCENARIOS if not ONLY or s.key in ONLY]
    service_code = code_version()
    load = float(Path("/proc/loadavg").read_text().split()[0])
    if load > len(os.sched_getaffinity(0)) / 2:
        log(f"warning: load average {load:.1f} before starting: the numbers will be noisy")
    created_db = False
    try:
        _check_loopback()
        log(f"database {DB_NAME}: recreating on {urlsplit(PG_URL).netloc}")
        create_database()
        created_db = True
        migrate = subprocess.run(
            [PYTHON, "-m", "app", "migrate"],
            cwd=LOGS,
            env={**env, "DATABASE_URL": _pg_url(DB_NAME)},
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode != 0:
            raise BenchError(f"python -m app migrate failed:\n{migrate.stdout}{migrate.stderr}")
        # One hash, from the service's own passlib context at the production cost, so no
        # login ever finds it outdated.
        os.environ.update(settings)
        from app.core.security import password_context

        hashed = password_context().hash(PASSWORD)
        n_users, n_items = seed(hashed)
        log(f"seeded {n_users:,} users and {n_items:,} items")

        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
            server.sign_in()
            log(f"{server.label}: pid {server.proc.pid} on {server.base}")
        checked = verify(servers, n_items)
        log(f"verified: {checked['compared']} comparisons, the same JSON from all three")

        results: dict[str, dict[str, list[dict]]] = {}
        for scenario in scenarios:
            log(f"{scenario.title}: warm-up")
            for server in servers:
                run_wrk(server, scenario, WARMUP)
                if scenario.writes:
                    reset_items(n_items)
            results[scenario.key] = {s.key: [] for s in servers}
            for number in range(1, ROUNDS + 1):
                for server in servers:
                    result = run_wrk(server, scenario, DURATION)
                    results[scenario.key][server.key].append(result)
                    if scenario.writes:
                        reset_items(n_items)
                    log(
                        f"{scenario.title} round {number} {server.label}: "
                        f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
                        f"p99 {result['p99_ms']:.2f} ms"
                    )
        for server in servers:
            server.memory = memory_kib(server.proc.pid)
        info = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "versions": {**versions(), "service code": service_code},
            "verify": checked,
            "invocation": ("QUICK=1 " if QUICK else "") + "make bench",
            "elapsed_min": (time.monotonic() - started) / 60,
        }
        write_results(results, servers, info)
        memory = {server.key: server.memory for server in servers}
        (LOGS / "results.json").write_text(
            json.dumps({"info": info, "memory": memory, "results": results}, indent=1)
        )
        log(f"wrote {OUT} in {(time.monotonic() - started) / 60:.1f} min")
        return 0
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        if created_db and not KEEP_DB:
            with contextlib.suppress(Exception):
                drop_database()


if __name__ == "__main__":
    sys.exit(main())
