"""Helpers for tests that run commands and read databases directly, outside the app."""

import asyncio
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


COMMAND_TIMEOUT_SECONDS = 120
SERVER_START_SECONDS = 60


# Settings that name other databases beside DATABASE_URL (the suite's cluster pass sets
# them): a command given its own DATABASE_URL gets none of them unless it is given them.
BESIDE_DATABASE_URL = ("MIGRATIONS_DATABASE_URL", "DATABASE_REPLICA_URLS")


def command_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a command the tests start: the suite's, with `env` over it."""
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if "DATABASE_URL" in env:
        full.update(dict.fromkeys(BESIDE_DATABASE_URL, ""))
    return {**full, **env}


async def run(*argv: str, cwd: Path = REPO, **env: str) -> tuple[int, str, str]:
    """Run a command (from the repository root by default); returns (code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=command_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=COMMAND_TIMEOUT_SECONDS)
    return process.returncode, out.decode(), err.decode()


async def manage(*args: str, cwd: Path = REPO, **env: str) -> tuple[int, str, str]:
    """`python -m app ...`"""
    return await run(sys.executable, "-m", "app", *args, cwd=cwd, **env)


# `python -c` script: apply the migrations in the folder given as argv[1], as a deploy would.
UPGRADE_FROM = """
import asyncio, sys
from pathlib import Path
from app.db import migrations
from app.db.config import TORTOISE_ORM
try:
    applied = asyncio.run(migrations.upgrade(TORTOISE_ORM, 30, Path(sys.argv[1])))
except migrations.MigrationError as exc:
    sys.exit(f"error: {exc}")
print("applied", *applied)
"""


def primary_url() -> str:
    """The run's database on the server itself: behind the cluster pass's pooler
    (DATABASE_URL), the primary directly, for raw connections (locks, prepared statements)."""
    return os.environ.get("MIGRATIONS_DATABASE_URL") or os.environ["DATABASE_URL"]


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "asyncpg://"))


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run one statement with the bare driver; rows as tuples."""
    if is_postgres(url):
        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()
    with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as connection:
        rows = connection.execute(sql).fetchall()
        connection.commit()
        return rows


@asynccontextmanager
async def scratch_database(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the suite's kind, dropped afterwards; yields its URL."""
    # On the server itself (the cluster pass's primary, not its pooler): these databases
    # are for migrations, which connect directly.
    server = os.environ.get("TEST_MIGRATIONS_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite://{tmp_path}/scratch-{uuid.uuid4().hex[:8]}.sqlite3"
        return
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: asyncio.subprocess.Process


@asynccontextmanager
async def serving(**env: str) -> AsyncIterator[Server]:
    """`python -m app serve` as a real process on a free port. Ended with SIGTERM (then
    SIGKILL) however the test goes."""
    import signal

    import httpx

    port = free_port()
    log = Path(env.pop("LOG_FILE", os.devnull))
    with log.open("ab") as output:  # noqa: ASYNC230 (opening a log file is instant)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "serve",
            cwd=REPO,
            env=command_env({"HOST": "127.0.0.1", "PORT": str(port), **env}),
            stdout=output,
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS  # a busy machine starts slowly
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            while True:
                try:
                    if (await client.get("/openapi.json")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log}")
                await asyncio.sleep(0.1)
        yield Server(base, process)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


def worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]
