"""Behind a real PgBouncer 1.18 in transaction pooling, on loopback (deploy/pgbouncer.ini.in,
the one `make cluster` runs, here in front of the suite's PostgreSQL): the URL's own
`?statement_cache_size=0` is honoured, and a statement cache left on is refused at start
in one line instead of a worker dying on `prepared statement ... already exists`."""

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.core.config import Settings
from app.db.config import tortoise_config
from tests.fixtures import PASSWORD
from tests.support import REPO, free_port, is_postgres, manage, primary_url, serving

TEMPLATE = REPO / "deploy" / "pgbouncer.ini.in"
RUN_AS = "postgres"  # PgBouncer refuses to run as root


def test_an_option_in_the_database_url_wins_over_the_settings():
    settings = Settings(db_statement_cache_size=100, db_pool_max=10, db_command_timeout=30)
    url = "postgres://app@db.internal:6432/app?statement_cache_size=0&command_timeout=7"

    credentials = tortoise_config(settings, url)["connections"]["default"]["credentials"]

    assert credentials["statement_cache_size"] == 0
    assert float(credentials["command_timeout"]) == 7
    assert credentials["maxsize"] == 10  # not in the URL: the setting


def _rendered(folder: Path, port: int, server_port: int) -> Path:
    text = TEMPLATE.read_text()
    for name, value in {"PRIMARY_PORT": server_port, "PGBOUNCER_PORT": port, "DIR": folder}.items():
        text = text.replace(f"@{name}@", str(value))
    config = folder / "pgbouncer.ini"
    config.write_text(text)
    (folder / "pgbouncer-users.txt").write_text('"postgres" ""\n')
    return config


@pytest.fixture
def pgbouncer() -> Iterator[str]:
    """The suite's database through PgBouncer (transaction pooling): its URL."""
    if not is_postgres(url := os.environ.get("DATABASE_URL", "")) or not shutil.which("pgbouncer"):
        pytest.skip("needs PostgreSQL and pgbouncer (apt-get install pgbouncer)")
    server = urlsplit(primary_url())
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    shutil.chown(folder, RUN_AS)
    port = free_port()
    config = _rendered(folder, port, server.port or 5432)
    runner = [] if os.geteuid() else ["runuser", "-u", RUN_AS, "--"]
    process = subprocess.Popen([*runner, "pgbouncer", str(config)])
    try:
        pooled = urlunsplit(server._replace(netloc=f"{server.username}@127.0.0.1:{port}"))
        yield pooled.split("?")[0]
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    del url


async def _ready(url: str) -> None:
    import asyncpg

    for _ in range(50):
        try:
            connection = await asyncpg.connect(url, statement_cache_size=0)
            await connection.close()
            return
        except OSError:
            await asyncio.sleep(0.1)


@pytest.fixture
async def pooled_url(pgbouncer: str) -> AsyncIterator[str]:
    await _ready(pgbouncer)
    yield pgbouncer


async def test_the_service_runs_behind_pgbouncer_with_the_urls_own_option(pooled_url):
    url = f"{pooled_url}?statement_cache_size=0"  # DB_STATEMENT_CACHE_SIZE stays 100
    env = {"DATABASE_URL": url, "WEB_CONCURRENCY": "2", "DB_STATEMENT_CACHE_SIZE": "100"}
    async with serving(**env) as server, httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        email = f"bouncer-{os.getpid()}@example.com"
        answers = [await http.post("/users/", json={"email": email, "password": PASSWORD})]
        for _ in range(20):
            answers.append(
                await http.post("/auth/token", data={"username": email, "password": "x"})
            )
            answers.append(await http.get("/health"))

    assert answers[0].status_code == 201
    assert {answer.status_code for answer in answers[1:]} <= {200, 401, 429}


async def test_a_statement_cache_behind_pgbouncer_is_refused_at_start_in_one_line(pooled_url):
    code, out, err = await manage(
        "serve", DATABASE_URL=pooled_url, DB_STATEMENT_CACHE_SIZE="100", PORT=str(free_port())
    )

    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and "DB_STATEMENT_CACHE_SIZE=0" in line, err
    assert "Traceback" not in out + err
