"""The commands of `python -m app` that live outside app/__main__.py (which is long enough),
and what every command shares: failures as one `error: ...` line on stderr.

Nothing here reads the settings when imported, so that `check` can report settings that
do not load instead of failing on them.
"""

import re
import sys

import asyncpg
from pydantic import ValidationError
from tortoise.exceptions import ConfigurationError

from app.db.errors import DATABASE_UNAVAILABLE

NO_SCHEMA = "the database has no schema yet; run `python -m app migrate` first"
# A setting's name as the messages write it (SECRET_KEY, DB_POOL_MIN): its variable.
SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bENVIRONMENT\b")


def error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def missing_database(exc: BaseException) -> str | None:
    """The one line for a PostgreSQL server that answers but has no such database."""
    for cause in (exc, exc.__cause__, exc.__context__):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            found = re.search(r'database "(.+)" does not exist', str(cause))
            name = found.group(1) if found else "NAME"
            return (
                f'database "{name}" does not exist on the server DATABASE_URL names; create '
                f"it (createdb {name}), then run `python -m app migrate`"
            )
    return None


def database_error(exc: Exception) -> int:
    """One line for a database that cannot answer: missing, unreachable, or not migrated."""
    if problem := missing_database(exc):
        error(problem)
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        error(f"database unreachable: {exc!r}")
    elif isinstance(exc.__cause__, asyncpg.UndefinedTableError) or "no such table" in str(exc):
        error(f"{NO_SCHEMA} ({exc})")
    else:
        error(str(exc))
    return 1


def settings_problems(exc: ValidationError | ConfigurationError) -> list[tuple[set[str], str]]:
    """(the settings concerned, the message) of each problem, and never the values: the
    pydantic error's own text would print them all, SECRET_KEY and passwords included."""
    if isinstance(exc, ConfigurationError):  # a database URL tortoise cannot parse
        return [({"DATABASE_URL"}, f"a database URL does not parse: {exc}")]
    problems = []
    for problem in exc.errors(include_input=False, include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:  # a field's own constraint: name it
            name = str(problem["loc"][0]).upper()
            problems.append(({name}, f"{name}: {message}"))
        else:  # the model's checks name their settings in the message
            problems.append((set(SETTING_NAME.findall(message)), message))
    return problems


def settings_error(exc: ValidationError | ConfigurationError) -> int:
    """For the commands that need the settings: why they do not load, in one line."""
    messages = "; ".join(message for _, message in settings_problems(exc))
    error(f"invalid settings: {messages} (`python -m app check` lists every problem)")
    return 1
