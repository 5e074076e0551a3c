"""What a run ran on: the machine, the versions of everything, the service's code."""

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from bench.config import ROOT
from bench.seeding import server_version

PACKAGES = (
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
    "django",
    "djangorestframework",
    "gunicorn",
    "libpass",
    "argon2-cffi",
)


def cpus() -> int:
    return len(os.sched_getaffinity(0))


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return {
        "nproc": str(cpus()),
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
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["postgres"] = server_version()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout + wrk.stderr).split("[")[0].replace("wrk ", "").strip()
    return found
