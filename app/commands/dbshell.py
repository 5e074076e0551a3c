"""`python -m app dbshell [-- ARGS]`: Django's dbshell, the database's own client (`psql`,
`sqlite3`) opened on DATABASE_URL, with ARGS passed to it.

The URL is read as the service reads it (tortoise's `expand_db_url`), so the client opens
the same database. The password goes to psql in PGPASSWORD, not on its command line,
where any user of the machine could read it (`ps`).
"""

import os
import shutil
import sys
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from app.commands import error
from app.core.config import SQLITE_URL_ENGINE, get_settings

PACKAGES = {"psql": "postgresql-client", "sqlite3": "sqlite3"}


def client(url: str, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The client's command line and what it needs in its environment."""
    connection = expand_db_url(url)
    credentials: dict[str, Any] = connection["credentials"]
    if connection["engine"] == SQLITE_URL_ENGINE:
        return ["sqlite3", credentials["file_path"], *args], {}
    command = ["psql"]
    for option, name in (("-h", "host"), ("-p", "port"), ("-U", "user"), ("-d", "database")):
        if credentials.get(name):
            command += [option, str(credentials[name])]
    env = {"PGPASSWORD": str(credentials["password"])} if credentials.get("password") else {}
    if ssl_mode := credentials.get("sslmode") or ("require" if credentials.get("ssl") else ""):
        env["PGSSLMODE"] = str(ssl_mode)
    return [*command, *args], env


def dbshell(args: list[str]) -> int:
    """Replace this process with the client: its exit code, its handling of Ctrl-C."""
    command, env = client(get_settings().database_url, args)
    if command[0] == "sqlite3" and command[1] == ":memory:":
        error("DATABASE_URL is an in-memory SQLite database: there is nothing to open")
        return 1
    executable = shutil.which(command[0])
    if executable is None:
        error(f"{command[0]} is not installed (not on PATH); install {PACKAGES[command[0]]}")
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(executable, command, {**os.environ, **env})
