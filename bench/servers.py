"""The servers as processes (start, wait, sign in, stop) and what /proc says about them
and the machine: CPU time, resident memory, PostgreSQL's CPU.

A server is the process started and its children: the uvicorn servers are one process;
the DRF peer is gunicorn's master and the worker that serves, counted together (CPU time
and memory), as the deployment pays for both."""

import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.config import (
    DB_NAME,
    GUNICORN_FLAGS,
    LOGIN_USER,
    LOGS,
    PASSWORD,
    PYTHON,
    ROOT,
    SERVERS,
    UVICORN_FLAGS,
    BenchError,
    pg_url,
)

TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICK


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants alive now (/proc/<pid>/task/<tid>/children)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server: its process and its children (gunicorn's worker)."""
    total = 0.0
    for each in process_tree(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(each)
    return total


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a server, summed over its process and its children."""
    total = {"VmRSS": 0, "VmHWM": 0}
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:  # a child that exited meanwhile
            continue
        for key in total:
            total[key] += int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M)[1])
    return total


def busy_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all CPUs), from /proc/stat."""
    # user nice system idle iowait irq softirq (steal, guest: left out)
    ticks = [int(v) for v in Path("/proc/stat").read_text().split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


def db_backends_cpu() -> float:
    """CPU time of PostgreSQL for the bench (best effort: a local server whose processes
    we may read): the live backends connected to BENCH_DB, plus the postmaster's count of
    its exited children, which holds the backends that closed (a pool's overflow
    connections) but also those of any other database that closed meanwhile."""
    total = 0.0
    marker = f" {DB_NAME} "
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if title.startswith("postgres:") and marker in title:
                total += cpu_seconds(int(proc.name))
            elif title.split(" ", 1)[0].endswith("/postgres"):  # the postmaster
                fields = _stat_fields(proc.name)
                total += (int(fields[13]) + int(fields[14])) / TICK
        except (OSError, ValueError, IndexError):
            continue
    return total


def children_cpu() -> float:
    """CPU time of the child processes that ended (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sample(pid: int) -> dict[str, float]:
    """The CPU counters read around a round; a round's figures are the differences."""
    return {
        "app": tree_cpu_seconds(pid),
        "db": db_backends_cpu(),
        "wrk": children_cpu(),
        "busy": busy_cpu_seconds(),
    }


@dataclass
class Server:
    key: str
    label: str
    app: str
    database_url: str
    env: dict[str, str]
    runner: str = "uvicorn"  # or "gunicorn" (bench.config.SERVERS)
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen | None = None
    token: str = ""
    memory: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.label} not started"
        return self.proc.pid

    @property
    def command(self) -> list[str]:
        if self.runner == "gunicorn":
            return [
                *(PYTHON, "-m", "gunicorn", self.app, "--pythonpath", str(ROOT)),
                *("--bind", f"127.0.0.1:{self.port}", *GUNICORN_FLAGS),
            ]
        return [
            *(PYTHON, "-m", "uvicorn", self.app, "--app-dir", str(ROOT)),
            *("--host", "127.0.0.1", "--port", str(self.port), *UVICORN_FLAGS),
        ]

    def start(self) -> None:
        with (LOGS / f"{self.key}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=LOGS,  # no .env here: the settings are exactly the ones given
                env={**self.env, "DATABASE_URL": self.database_url},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

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

    def read_memory(self) -> None:
        self.memory = memory_kib(self.pid)

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


def make_servers(env: dict[str, str]) -> list[Server]:
    """service, baseline, seed style, DRF: the order of the rounds and of the report."""
    return [
        Server(key, label, app, pg_url(DB_NAME, scheme), env, runner)
        for key, label, app, scheme, runner in SERVERS
    ]
