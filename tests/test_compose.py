"""compose.yaml: its structure, and its commands run for real without Docker.

No Docker engine runs here or in CI, so the file is parsed and checked (services, the
start order, settings the app knows, no secret written in it), then what the stack runs
is run on this machine: the api service's entrypoint and command (the Dockerfile's
ENTRYPOINT, scripts/start.sh) against a fresh database on the suite's PostgreSQL, the
database's healthcheck (`pg_isready`) against that server and the api's healthcheck
against the started service.
"""

import asyncio
import json
import os
import re
import secrets
import signal
import sys
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from app.core.config import Settings
from tests.support import REPO, command_env, free_port, scratch_database

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
IMAGE_WORKDIR = "/app"  # the Dockerfile's WORKDIR: the repository root, in the image
READY_ATTEMPTS = 300  # polls of /health/ready, 0.1 s apart, before the start counts as failed
# `${NAME}`, `${NAME:?message}` (required) and `$$` (a literal $), as compose reads them.
INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::\?(?P<message>[^}]*))?\}")


def interpolate(value: str, environment: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name")
        if match.group("message") is not None and not environment.get(name):
            raise KeyError(f"{name}: {match.group('message')}")
        return environment.get(name, "")

    return INTERPOLATION.sub(substitute, value)


def _dockerfile(instruction: str) -> str:
    """The arguments of the last `instruction` in the Dockerfile (the runtime stage's)."""
    lines = (REPO / "Dockerfile").read_text().splitlines()
    found = [line.split(maxsplit=1)[1] for line in lines if line.startswith(f"{instruction} ")]
    return found[-1]


def _image_env() -> dict[str, str]:
    """The runtime stage's ENV (HOST, PORT, ENVIRONMENT, LOG_FORMAT, ...)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    env_lines = [line for line in text.splitlines() if line.startswith("ENV ")]
    pairs = re.findall(r'(\w+)=("[^"]*"|\S+)', env_lines[-1])
    # PATH is the image's own (its virtualenv); this machine's is kept.
    return {name: value.strip('"') for name, value in pairs if name != "PATH"}


# --- structure ----------------------------------------------------------------------------


def test_the_stack_is_postgresql_15_and_the_service_built_from_the_dockerfile():
    assert set(SERVICES) == {"db", "api"}
    assert SERVICES["db"]["image"] == "postgres:15"
    assert SERVICES["api"]["build"] == "."
    assert (REPO / "Dockerfile").exists()
    assert "db-data" in COMPOSE["volumes"]
    assert "db-data:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]


def test_the_service_starts_after_the_database_is_healthy():
    assert SERVICES["api"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert SERVICES["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "/health/ready" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def test_the_service_is_given_only_settings_the_app_knows():
    known = {name.upper() for name in Settings.model_fields}
    environment = SERVICES["api"]["environment"]

    assert set(environment) <= known, set(environment) - known
    assert {"DATABASE_URL", "SECRET_KEY"} <= set(environment)


def test_the_database_url_names_the_db_service_and_its_database():
    given = _secrets()
    url = urlsplit(interpolate(SERVICES["api"]["environment"]["DATABASE_URL"], given))
    db_env = SERVICES["db"]["environment"]

    assert url.scheme == "postgres"
    assert (url.hostname, url.port) == ("db", 5432)
    assert url.username == db_env["POSTGRES_USER"]
    assert url.path == f"/{db_env['POSTGRES_DB']}"
    assert url.password == given["POSTGRES_PASSWORD"]


def test_no_secret_is_written_in_the_file_and_each_is_required():
    text = (REPO / "compose.yaml").read_text()
    assert "${SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
    for service in SERVICES.values():
        for name, value in service.get("environment", {}).items():
            if "SECRET" in name or "PASSWORD" in name:
                assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value), (name, value)
    database_url = SERVICES["api"]["environment"]["DATABASE_URL"]
    assert re.match(r"postgres://app:\$\{POSTGRES_PASSWORD:\?[^}]+\}@", database_url)

    for missing in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        environment = {**_secrets(), missing: ""}
        with pytest.raises(KeyError, match=missing):
            for value in SERVICES["api"]["environment"].values():
                interpolate(value, environment)


def test_the_published_port_is_the_port_the_image_serves_on():
    image_port = _image_env()["PORT"]

    assert SERVICES["api"]["ports"] == [f"127.0.0.1:{image_port}:{image_port}"]
    assert "ports" not in SERVICES["db"], "the database is reached on the compose network only"


def test_the_service_runs_the_image_entrypoint_that_migrates_then_serves():
    assert "entrypoint" not in SERVICES["api"], "the image's own entrypoint runs"
    assert json.loads(_dockerfile("ENTRYPOINT")) == [f"{IMAGE_WORKDIR}/scripts/start.sh"]
    assert SERVICES["api"]["command"] == ["python", "-m", "app", "serve"]


# --- the commands, run without Docker -----------------------------------------------------


def _secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": "k" + secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": "p" + secrets.token_urlsafe(24),
    }


def _on_this_machine(argv: list[str]) -> list[str]:
    """An image path (/app/...) as the same file in the repository."""
    return [
        str(REPO / arg.removeprefix(f"{IMAGE_WORKDIR}/"))
        if arg.startswith(f"{IMAGE_WORKDIR}/")
        else arg
        for arg in argv
    ]


def _healthcheck_argv(service: str) -> list[str]:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return [sys.executable if arg == "python" else arg for arg in test[1:]]


async def _exit_code(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=REPO,
        env=command_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="the stack's database is PostgreSQL: run with TEST_DATABASE_URL=postgres://...",
)
async def test_the_stack_migrates_serves_and_is_ready_on_a_fresh_database(tmp_path: Path):
    server = urlsplit(os.environ.get("TEST_MIGRATIONS_URL") or os.environ["TEST_DATABASE_URL"])
    db_check = await _exit_code(
        _healthcheck_argv("db"),
        {"PGHOST": server.hostname or "127.0.0.1", "PGPORT": str(server.port or 5432)},
    )
    assert db_check[0] == 0, db_check[1]

    given = _secrets()
    compose_env = {n: interpolate(v, given) for n, v in SERVICES["api"]["environment"].items()}
    compose_url = urlsplit(compose_env["DATABASE_URL"])
    async with scratch_database(tmp_path) as fresh:
        # The compose URL with the db service's address and database swapped for the fresh one.
        local = urlsplit(fresh)
        database_url = compose_url._replace(netloc=local.netloc, path=local.path).geturl()
        port = free_port()
        env = {
            **_image_env(),
            **compose_env,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",  # not 0.0.0.0 outside a container
            "PORT": str(port),
        }
        log = tmp_path / "api.log"
        argv = ["sh", *_on_this_machine([json.loads(_dockerfile("ENTRYPOINT"))[0]])]
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                *argv,
                *SERVICES["api"]["command"],
                cwd=REPO,
                env=command_env(env),
                stdout=output,
                stderr=output,
                start_new_session=True,  # its own group, so `finally` ends it all
            )
        try:
            ready = await _wait_until_ready(process, f"http://127.0.0.1:{port}/health/ready")
            assert ready.status_code == 200, log.read_text()
            assert ready.json() == {"status": "ok", "database": "ok", "migrations": "ok"}
            api_check = await _exit_code(_healthcheck_argv("api"), {"PORT": str(port)})
            assert api_check[0] == 0, api_check[1]
            assert "Applied 0_" in log.read_text()
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def _wait_until_ready(process: asyncio.subprocess.Process, url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=2) as client:
        last: httpx.Response | None = None
        for _ in range(READY_ATTEMPTS):
            if process.returncode is not None:
                pytest.fail(f"the entrypoint exited with {process.returncode} before serving")
            try:
                last = await client.get(url)
                if last.status_code == 200:
                    return last
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"{url} never answered 200 (last: {last and last.status_code})")
