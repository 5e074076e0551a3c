"""One process at a time on a SQLite file: Tortoise serialises SQLite transactions with a
lock inside the process only, so a second server (or a migration under a running server)
on the same file would break the service's guarantees. Real processes, real files."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.support import REPO, command_env, free_port, manage, serving

QUICK_SECONDS = 20  # a refused start takes about a second; a server never ends by itself


def _in_use(database: Path) -> str:
    return (
        f"error: {database} is in use by another process; SQLite serves one process at a "
        "time (use PostgreSQL to run several)\n"
    )


async def _run_briefly(*args: str, **env: str) -> tuple[int | None, str]:
    """`python -m app ...` on a free port; (exit code, stderr), or (None, "") if it was
    still running after QUICK_SECONDS (and so was killed)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=REPO,
        env=command_env({"HOST": "127.0.0.1", "PORT": str(free_port()), **env}),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), QUICK_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None, ""
    return process.returncode, err.decode()


async def test_a_second_process_on_a_served_sqlite_file_is_refused(tmp_path):
    database = tmp_path / "x.sqlite3"
    url = f"sqlite://{database}"
    assert (await manage("migrate", DATABASE_URL=url))[0] == 0

    async with serving(DATABASE_URL=url):
        second_server = await _run_briefly("serve", DATABASE_URL=url)
        migrate = await _run_briefly("migrate", DATABASE_URL=url)

    assert second_server == (1, _in_use(database))
    assert migrate == (1, _in_use(database))
    # Once the server has stopped, the file is free again: migrate, then serve (`make run`).
    code, out, err = await manage("migrate", DATABASE_URL=url)
    assert code == 0 and "up to date" in out, err
    async with serving(DATABASE_URL=url) as server:
        assert server.process.returncode is None


async def test_migrate_holds_the_lock_only_while_it_migrates(tmp_path):
    url = f"sqlite://{tmp_path}/y.sqlite3"

    results = [await manage("migrate", DATABASE_URL=url) for _ in range(2)]

    assert [code for code, _, _ in results] == [0, 0], results
    assert (tmp_path / "y.sqlite3.lock").exists()  # kept: removing it would race


async def test_in_memory_sqlite_takes_no_lock():
    url = "sqlite://:memory:"
    async with serving(DATABASE_URL=url) as first, serving(DATABASE_URL=url) as second:
        assert first.process.returncode is None and second.process.returncode is None


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
async def test_postgres_serves_from_several_processes():
    url = os.environ["DATABASE_URL"]
    async with serving(DATABASE_URL=url) as first, serving(DATABASE_URL=url) as second:
        assert first.process.returncode is None and second.process.returncode is None
