"""Management commands, Django-style: `python -m app <command>`.

migrate                       wait for the database, apply pending migrations
migrations status             exit 0 only when every migration is applied
createsuperuser --email [--password]
                              create a superuser, or promote (and reactivate) an account
purge-idempotency-keys        delete the Idempotency-Keys older than 24 hours
serve                         run the API with uvicorn on HOST:PORT
shell [-c CODE]               Python with top-level await, Tortoise set up, models imported
dbshell [-- ARGS]             psql or sqlite3 on DATABASE_URL, passed ARGS
check [--deploy]              list refused (and, --deploy, weak) settings; exit 1 if any

Failures are one `error: ...` line on stderr, not a traceback.
"""

import argparse
import asyncio
import contextlib
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from pydantic import TypeAdapter, ValidationError
from tortoise import Tortoise
from tortoise.exceptions import ConfigurationError, OperationalError

from app.commands import check, dbshell, missing_database, settings_error, shell
from app.commands import database_error as _database_error
from app.commands import error as _error
from app.core.config import Settings, get_settings
from app.db.errors import DATABASE_UNAVAILABLE
from app.db.sqlite_lock import DatabaseInUse, exclusive_database

# The settings are read on first use, not on import: `check` reports them when invalid.


async def _migrate(wait_seconds: float) -> int:
    from app.db import migrations
    from app.db.config import MIGRATIONS_TORTOISE_ORM

    try:
        with exclusive_database(MIGRATIONS_TORTOISE_ORM):  # SQLite: not while it is served
            applied = await migrations.upgrade(MIGRATIONS_TORTOISE_ORM, wait_seconds)
    except DatabaseInUse as exc:
        _error(str(exc))
        return 1
    except asyncpg.InvalidCatalogNameError as exc:
        _error(missing_database(exc) or str(exc))
        return 1
    except DATABASE_UNAVAILABLE as exc:
        print(f"error: database unreachable after {wait_seconds:g}s: {exc!r}", file=sys.stderr)
        return 1
    except migrations.MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(f"Applied {name}" for name in applied) or "Database is up to date")
    return 0


async def _migrations_status() -> int:
    """For deploys that wait for the schema: exit 0 only when every migration is applied."""
    from app.db import migrations
    from app.db.config import MIGRATIONS_TORTOISE_ORM

    try:
        applied, pending = await migrations.status(MIGRATIONS_TORTOISE_ORM)
    except DATABASE_UNAVAILABLE as exc:
        return _database_error(exc)
    for name in applied:
        print(f"[x] {name}")
    for name in pending:
        print(f"[ ] {name}")
    print("at head" if not pending else f"{len(pending)} pending")
    return 0 if not pending else 1


async def _create_superuser(email: str, password: str | None) -> int:
    """Create the account, or promote the existing one; the password only creates."""
    from app.db.config import TORTOISE_ORM
    from app.schemas.user import Email

    try:
        email = TypeAdapter(Email).validate_python(email)
    except ValidationError as exc:
        return _invalid(exc)
    try:
        await Tortoise.init(config=TORTOISE_ORM)
        return await _create_or_promote(email, password)
    except (*DATABASE_UNAVAILABLE, OperationalError) as exc:
        return _database_error(exc)
    finally:
        await Tortoise.close_connections()


async def _create_or_promote(email: str, password: str | None) -> int:
    """The password is checked and hashed only when there is no account to promote (and
    outside the transaction: hashing is slow)."""
    from app.core.security import hash_password
    from app.models import User
    from app.schemas.user import Password

    hashed_password = None
    if password is not None and not await User.exists(email=email):
        try:
            password = TypeAdapter(Password).validate_python(password)
        except ValidationError as exc:
            return _invalid(exc)
        hashed_password = await hash_password(password)
    _, done = await User.create_or_promote_superuser(email, hashed_password)
    unchanged = "password unchanged" + (
        "; --password is only used to create an account" if password is not None else ""
    )
    if done == "missing":
        _error(f"no account has the email {email}; --password is required to create one")
        return 2
    messages = {
        "created": f"Created superuser {email}",
        "unchanged": f"{email} is already an active superuser ({unchanged})",
        "promoted": f"Promoted {email} to superuser ({unchanged})",
        "reactivated": f"Promoted {email} to superuser and reactivated it ({unchanged})",
    }
    print(messages[done])
    return 0


async def _purge_idempotency_keys() -> int:
    """Django's clearsessions, for Idempotency-Keys: run it from cron (say hourly); keys
    past their 24 hours are never replayed, only their rows stay until then."""
    from app.db.config import TORTOISE_ORM
    from app.models import IdempotencyKey

    try:
        await Tortoise.init(config=TORTOISE_ORM)
        purged = await IdempotencyKey.purge_expired()
    except (*DATABASE_UNAVAILABLE, OperationalError) as exc:
        return _database_error(exc)
    finally:
        await Tortoise.close_connections()
    print(f"Deleted {purged} expired idempotency key{'' if purged == 1 else 's'}")
    return 0


def _invalid(exc: ValidationError) -> int:
    _error("; ".join(error["msg"] for error in exc.errors()))
    return 2


def _make_migration(name: str) -> int:
    from app.db.makemigration import MakeMigrationError, make_migration

    try:
        path = make_migration(name)
    except MakeMigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Wrote {path}; review it, then run the tests on both databases" if path else "No changes"
    )
    return 0


def _serve() -> int:
    import uvicorn

    from app.core.logging import configure_logging
    from app.db.config import TORTOISE_ORM, is_postgres

    settings = get_settings()
    if settings.web_concurrency > 1 and not is_postgres(TORTOISE_ORM):
        _error("WEB_CONCURRENCY > 1 needs PostgreSQL: a SQLite file has one process at a time")
        return 1
    if is_postgres(TORTOISE_ORM):
        from app.db.pooler import statement_cache_problem

        credentials = TORTOISE_ORM["connections"]["default"]["credentials"]
        if problem := asyncio.run(statement_cache_problem(credentials)):
            _error(problem)
            return 1
    configure_logging(settings)  # uvicorn's lines as the app's: LOG_FORMAT, request ids
    try:
        # SQLite: this process is the file's only user until it exits (one worker, in it).
        with exclusive_database(TORTOISE_ORM), _metrics_shared_by_workers(settings):
            uvicorn.run(
                "app.main:app",
                host=settings.host,
                port=settings.port,
                # Worker processes, each with its own pool (DB_POOL_MAX connections each);
                # they share login throttling and idempotency keys through the database.
                workers=settings.web_concurrency,
                proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                log_level=settings.log_level.lower(),
                log_config=None,  # configure_logging's one handler prints every line
                # On SIGTERM: stop accepting, let in-flight requests finish (up to this
                # long), then run the lifespan's shutdown, which closes the database pool.
                timeout_graceful_shutdown=settings.shutdown_grace_seconds,
            )
    except DatabaseInUse as exc:
        _error(str(exc))
        return 1
    return 0


@contextlib.contextmanager
def _metrics_shared_by_workers(settings: Settings) -> Iterator[None]:
    """With several workers, prometheus-client's multiprocess mode: a directory, empty at
    start, that the workers write their values to (PROMETHEUS_MULTIPROC_DIR, if set, is
    used and emptied; else a new one, removed at exit)."""
    from app.core.metrics import MULTIPROCESS_DIR_VARIABLE

    if settings.web_concurrency == 1:
        yield
        return
    given = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="app-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # values of an earlier run's processes
        stale.unlink()
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(folder)  # inherited by the workers
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="wait for the database, apply migrations")
    migrate.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the DB")
    status = commands.add_parser("migrations", help="show which migrations are applied")
    status.add_argument("action", choices=["status"])
    make = commands.add_parser("makemigration", help="write a migration for model changes")
    make.add_argument("name", help="what the migration does, e.g. add_item_color")
    create = commands.add_parser("createsuperuser", help="create or promote a superuser")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="needed to create an account; unused to promote")
    commands.add_parser("purge-idempotency-keys", help="delete expired Idempotency-Keys")
    commands.add_parser("serve", help="serve the API on HOST:PORT")
    console = commands.add_parser("shell", help="Python with Tortoise set up and the models")
    console.add_argument("-c", "--command", dest="code", help="run CODE (await allowed), exit")
    client = commands.add_parser("dbshell", help="the database's client: psql or sqlite3")
    client.add_argument("args", nargs="*", help="after --: passed to the client")
    checks = commands.add_parser("check", help="report refused (--deploy: also weak) settings")
    checks.add_argument("--deploy", action="store_true", help=check.DEPLOY_HELP)
    args = parser.parse_args(argv)

    if args.command == "check":
        return check.check(args.deploy)
    try:  # the settings, and the Tortoise config built from them
        importlib.import_module("app.db.config")
    except (ValidationError, ConfigurationError) as exc:
        return settings_error(exc)
    if args.command == "shell":
        return shell.shell(args.code)
    if args.command == "dbshell":
        return dbshell.dbshell(args.args)
    if args.command == "migrate":
        return asyncio.run(_migrate(args.wait))
    if args.command == "migrations":
        return asyncio.run(_migrations_status())
    if args.command == "makemigration":
        return _make_migration(args.name)
    if args.command == "createsuperuser":
        return asyncio.run(_create_superuser(args.email, args.password))
    if args.command == "purge-idempotency-keys":
        return asyncio.run(_purge_idempotency_keys())
    return _serve()


if __name__ == "__main__":
    sys.exit(main())
