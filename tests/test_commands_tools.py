"""`python -m app shell`, `dbshell` and `check`, run as real processes."""

import asyncio
import os
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

import app.models
from app.core.config import PUBLISHED_SECRET_KEYS
from tests.support import (
    COMMAND_TIMEOUT_SECONDS,
    REPO,
    command_env,
    is_postgres,
    manage,
    scratch_database,
)

UNREACHABLE = "postgres://postgres@127.0.0.1:1/nowhere"
PROMPT = ">>> "
TERMINAL_TIMEOUT_SECONDS = 30
ON_POSTGRES = is_postgres(os.environ["DATABASE_URL"])

# A production environment `check --deploy` finds nothing in (nothing is connected to).
DB_PASSWORD = "db-password-" + secrets.token_hex(4)
GOOD = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": secrets.token_urlsafe(48),
    "DATABASE_URL": f"postgres://app:{DB_PASSWORD}@db.internal:5432/app",
    "FORWARDED_ALLOW_IPS": "10.0.0.2",
    "ALLOWED_HOSTS": "api.example.com",
    "LOG_LEVEL": "INFO",
    "SQL_ECHO": "false",
    "CORS_ORIGINS": "https://app.example.com",
    "ARGON2_TIME_COST": "3",
    "ARGON2_MEMORY_COST": "65536",
    "ARGON2_PARALLELISM": "4",
}


async def _manage(*args: str, stdin: str = "", **env: str | None) -> tuple[int, str, str]:
    """`python -m app ...` with `stdin` piped in; a variable given as None is unset. The
    process is killed if it outlives the timeout."""
    full = {name: value for name, value in command_env(env).items() if value is not None}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "app", *args),
        cwd=REPO,
        env=full,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(stdin.encode()), timeout=COMMAND_TIMEOUT_SECONDS
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def lamp_owner(client, alice):
    """alice, who owns one item (made through the API): a user with a relation."""
    created = await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    assert created.status_code == 201, created.text
    return alice


# shell


async def test_shell_over_stdin_sees_a_user_and_their_items(lamp_owner):
    lines = [
        'users = await User.filter(email="alice@example.com").prefetch_related("items")',
        "[(user.email, [item.name for item in user.items]) for user in users]",
        "await Item.all().count()",
        "active = User.filter(is_active=True)",  # sync: needs Tortoise's context too
        "await active.count() + 10",
        "settings.environment",
    ]

    code, out, err = await _manage("shell", stdin="\n".join(lines) + "\n")

    assert code == 0, err
    assert f"{PROMPT}[('alice@example.com', ['lamp'])]" in out, out
    assert f"{PROMPT}1\n" in out and f"{PROMPT}11\n" in out and "'test'" in out, out
    imported = next(line for line in err.splitlines() if line.startswith("Imported: "))
    for name in [*app.models.__all__, "settings", "Tortoise", "in_transaction"]:
        assert name in imported.removeprefix("Imported: ").split(", "), imported
    assert "Traceback" not in err, err


async def test_shell_shows_an_error_and_goes_on(lamp_owner):
    lines = ["await User.get(email='nobody@example.com')", "await User.all().count()"]

    code, out, err = await _manage("shell", stdin="\n".join(lines) + "\n")

    assert code == 0 and "DoesNotExist" in err and f"{PROMPT}1\n" in out, (out, err)
    assert 'File "<console>", line 1' in err and "shell.py" not in err, err


async def test_shell_c_runs_the_code_with_await_and_exits(lamp_owner):
    command = (
        'user = await User.get(email="alice@example.com").prefetch_related("items")\n'
        "print(user.email, [item.name for item in user.items], await Item.all().count())"
    )

    code, out, err = await _manage("shell", "-c", command)

    assert (code, out) == (0, "alice@example.com ['lamp'] 1\n"), err
    assert not err  # no banner, no prompt


@pytest.mark.parametrize(
    ("command", "expected"),
    [("await User.get(id=-1)", "DoesNotExist"), ("if", "SyntaxError")],
    ids=["exception", "syntax-error"],
)
async def test_shell_c_fails_with_the_traceback_of_the_code(client, command, expected):
    code, out, err = await _manage("shell", "-c", command)

    assert code == 1 and not out and expected in err, err


async def test_shell_on_an_unmigrated_database_says_to_migrate(tmp_path):
    async with scratch_database(tmp_path) as url:
        code, _, err = await _manage("shell", "-c", "1", DATABASE_URL=url)

    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith("error: the database has no schema yet; run `python -m app migrate`")


async def test_shell_on_an_unreachable_database_says_so_in_one_line():
    code, out, err = await _manage("shell", stdin="await User.all()\n", DATABASE_URL=UNREACHABLE)

    assert code == 1 and not out and err.count("\n") == 1, err
    assert err.startswith("error: database unreachable: "), err


class Terminal:
    """`python -m app shell` on a pseudo-terminal, as a person would run it."""

    def __init__(self) -> None:
        self.master, replica = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "shell"],
            cwd=REPO,
            env=command_env({"TERM": "dumb"}),
            stdin=replica,
            stdout=replica,
            stderr=replica,
            start_new_session=True,
        )
        os.close(replica)
        self.output = ""

    def read_until(self, text: str, timeout: float = TERMINAL_TIMEOUT_SECONDS) -> str:
        """Everything read since the last call, up to and including `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
                raise AssertionError(f"no {text!r} within {timeout}s; read: {self.output!r}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the shell closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"the shell ended before {text!r}; read: {self.output!r}")
            self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        read, _, self.output = self.output.partition(text)
        return read + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int | None:
        """Ctrl-D, as a person leaves; killed if it does not end."""
        try:
            os.write(self.master, b"\x04")
            return self.process.wait(timeout=TERMINAL_TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            return None
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.master)


def _in_a_terminal() -> tuple[str, str, str, int | None]:
    terminal = Terminal()
    try:
        banner = terminal.read_until(PROMPT)
        query = '(await User.get(email="alice@example.com").prefetch_related("items"))'
        terminal.type(f"{query}.items[0].name.upper()")
        result = terminal.read_until(PROMPT)
        # Ctrl-C cancels the awaited statement, not the session.
        terminal.type("import asyncio; print(6 * 7); await asyncio.sleep(60)")
        terminal.read_until("42\n")
        terminal.process.send_signal(signal.SIGINT)
        interrupted = terminal.read_until(PROMPT)
        terminal.type("await User.all().count() * 1000")
        interrupted += terminal.read_until(PROMPT)
    finally:
        code = terminal.close()
    return banner, result, interrupted, code


async def test_shell_in_a_terminal_prompts_awaits_and_survives_ctrl_c(lamp_owner):
    banner, result, interrupted, code = await asyncio.to_thread(_in_a_terminal)

    assert "Imported: " in banner and "User" in banner and banner.endswith(PROMPT), banner
    assert "'LAMP'\n" in result, result
    assert "KeyboardInterrupt" in interrupted and "\n1000\n" in interrupted, interrupted
    assert code == 0


# dbshell


def _count_users_with_the_client(url: str) -> list[str]:
    """After `dbshell --`: the client's own way to run one statement and exit."""
    sql = "select count(*) from users"
    return ["-X", "-A", "-t", "-c", sql] if is_postgres(url) else [sql]


async def test_dbshell_runs_the_client_on_the_database(lamp_owner):
    url = os.environ["DATABASE_URL"]
    if not shutil.which("psql" if is_postgres(url) else "sqlite3"):
        pytest.skip("the database's client is not installed")

    code, out, err = await _manage("dbshell", "--", *_count_users_with_the_client(url))

    assert (code, out.strip()) == (0, "1"), err


async def test_dbshell_opens_sqlite3_on_a_sqlite_file(tmp_path):
    if not shutil.which("sqlite3"):
        pytest.skip("sqlite3 is not installed")
    url = f"sqlite://{tmp_path}/shell.sqlite3"
    sql = "create table t (x); insert into t values (7); select count(*), sum(x) from t"

    code, out, err = await _manage("dbshell", "--", sql, DATABASE_URL=url)

    assert (code, out.strip()) == (0, "1|7"), err


async def test_dbshell_gives_psql_the_password_in_its_environment_only(tmp_path):
    """A stand-in psql on PATH shows what the real one would be given."""
    fake = tmp_path / "psql"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\necho "PGPASSWORD=$PGPASSWORD"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    url = "postgres://reader:pa%24%24word@db.example:6543/shop"

    code, out, err = await _manage(
        "dbshell", "--", "-c", "select 1", DATABASE_URL=url, PATH=f"{tmp_path}:/usr/bin:/bin"
    )

    assert code == 0, err
    *argv, password = out.splitlines()
    connection = ["-h", "db.example", "-p", "6543", "-U", "reader", "-d", "shop"]
    assert argv == [*connection, "-c", "select 1"]
    assert password == "PGPASSWORD=pa$$word"


@pytest.mark.parametrize(
    ("url", "client_name"),
    [("postgres://u:pw@127.0.0.1:1/x", "psql"), ("sqlite://{tmp}/x.sqlite3", "sqlite3")],
    ids=["psql", "sqlite3"],
)
async def test_dbshell_without_the_client_says_which_is_missing(tmp_path, url, client_name):
    empty = tmp_path / "bin"
    empty.mkdir()

    code, _, err = await _manage("dbshell", DATABASE_URL=url.format(tmp=tmp_path), PATH=str(empty))

    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(f"error: {client_name} is not installed"), err


# check


def _assert_no_secret(*texts: str, secret: str = GOOD["SECRET_KEY"]) -> None:
    for text in texts:
        assert secret not in text and DB_PASSWORD not in text


async def test_check_deploy_finds_nothing_in_a_good_production_environment():
    code, out, err = await _manage("check", "--deploy", **GOOD)

    assert (code, out, err) == (0, "System check identified no issues.\n", "")


PUBLISHED_KEY = next(iter(PUBLISHED_SECRET_KEYS))
SQLITE_URL = "sqlite://{tmp}/app.sqlite3"  # in the test's own folder
WEAK = {
    "app.E001": {"DB_POOL_MAX": "0"},
    "app.E001/metrics": {"METRICS_ALLOW_IPS": "notanip"},  # refused by Settings._check
    "app.E002": {"SECRET_KEY": ""},
    "app.E003": {"SECRET_KEY": PUBLISHED_KEY},
    "app.E004": {"SECRET_KEY": "short-but-a-secret"},
    "app.E005": {"SECRET_KEY": "ab" * 24},
    "app.E006": {"DB_POOL_MIN": "11", "DB_POOL_MAX": "10"},
    "app.E007": {"DATABASE_URL": SQLITE_URL, "DATABASE_REPLICA_URLS": GOOD["DATABASE_URL"]},
    "app.E008": {"MIGRATIONS_DATABASE_URL": f"mysqlish://root:{DB_PASSWORD}@db/app"},
    "app.E009": {"DATABASE_URL": SQLITE_URL, "WEB_CONCURRENCY": "2"},
    "app.E010": {"EMAIL_BACKEND": "console"},
    "app.W001": {"ENVIRONMENT": "development"},
    "app.W002": {"ENVIRONMENT": "test", "SECRET_KEY": "", "DATABASE_URL": SQLITE_URL},
    "app.W003": {"DATABASE_URL": SQLITE_URL},
    "app.W004": {"LOG_LEVEL": "DEBUG"},
    "app.W005": {"SQL_ECHO": "true"},
    "app.W006": {"FORWARDED_ALLOW_IPS": "*"},
    "app.W006/network": {"FORWARDED_ALLOW_IPS": "10.0.0.2,0.0.0.0/0"},
    "app.W007": {"FORWARDED_ALLOW_IPS": None},
    "app.W008": {"CORS_ORIGINS": "https://app.example.com,*"},
    "app.W009": {"ARGON2_TIME_COST": "2"},
    "app.W009/memory": {"ARGON2_MEMORY_COST": "1024"},
    "app.W010": {"METRICS_ALLOW_IPS": "127.0.0.1,::/0"},
    "app.W011": {"ALLOWED_HOSTS": None},
    "app.W011/any": {"ALLOWED_HOSTS": "api.example.com,*"},
}


@pytest.mark.parametrize(("case", "weak"), WEAK.items(), ids=WEAK)
async def test_check_deploy_reports_each_weak_setting(tmp_path, case, weak):
    finding = case.split("/")[0]
    weak = {name: value and value.format(tmp=tmp_path) for name, value in weak.items()}

    code, out, err = await _manage("check", "--deploy", **{**GOOD, **weak})

    assert code == 1, out + err
    lines = out.splitlines()
    assert [line for line in lines if line.startswith(f"{finding} ")], out
    assert "; fix: " in lines[0] and lines[-1].startswith("System check identified "), out
    assert not err, err  # a finding, not a traceback
    _assert_no_secret(out, err)
    if weak.get("SECRET_KEY"):
        _assert_no_secret(out, err, secret=weak["SECRET_KEY"])
    assert "notanip" not in out  # a finding names the setting, never its value
    assert list(tmp_path.iterdir()) == []  # checking creates nothing: no database, no key


async def test_check_reports_every_refused_setting_at_once():
    """The settings raise on their first problem; the check lists them all."""
    refused = {"SECRET_KEY": "short-but-a-secret", "DB_POOL_MIN": "11", "DB_POOL_MAX": "10"}

    code, out, _ = await _manage("check", **{**GOOD, **refused})

    assert code == 1
    assert [line.split()[0] for line in out.splitlines()[:-1]] == ["app.E004", "app.E006"], out


async def test_check_without_deploy_validates_only_and_connects_nowhere():
    weak_but_accepted = {"LOG_LEVEL": "DEBUG", "ENVIRONMENT": "development"}
    weak_but_accepted["DATABASE_URL"] = UNREACHABLE

    accepted = await _manage("check", **{**GOOD, **weak_but_accepted})
    refused = await _manage("check", **{**GOOD, "SECRET_KEY": "short-but-a-secret"})

    assert accepted == (0, "System check identified no issues.\n", "")
    assert refused[0] == 1 and refused[1].startswith("app.E004 "), refused


async def test_a_command_with_refused_settings_says_why_in_one_line():
    settings = {**GOOD, "SECRET_KEY": "short-but-a-secret", "DATABASE_URL": UNREACHABLE}

    code, out, err = await manage("migrations", "status", **settings)

    assert code == 1 and not out and err.count("\n") == 1, err
    assert err.startswith("error: invalid settings: SECRET_KEY must be"), err
    assert "short-but-a-secret" not in err and "Traceback" not in err
