"""Management commands, Django-style: `python -m app <command>`.

migrate                       wait for the database, apply pending migrations
createsuperuser --email --password
                              create a superuser, or promote an existing account
serve                         run the API with uvicorn on HOST:PORT
"""

import argparse
import asyncio
import sys

from pydantic import TypeAdapter, ValidationError
from tortoise import Tortoise

from app.core.config import get_settings
from app.db import migrations
from app.db.config import TORTOISE_ORM
from app.db.errors import DATABASE_UNAVAILABLE


async def _migrate(wait_seconds: float) -> int:
    try:
        applied = await migrations.upgrade(TORTOISE_ORM, wait_seconds)
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
    applied, pending = await migrations.status(TORTOISE_ORM)
    for name in applied:
        print(f"[x] {name}")
    for name in pending:
        print(f"[ ] {name}")
    print("at head" if not pending else f"{len(pending)} pending")
    return 0 if not pending else 1


async def _create_superuser(email: str, password: str) -> int:
    from app.core.security import hash_password
    from app.models import User
    from app.schemas.user import Email, Password

    try:
        email = TypeAdapter(Email).validate_python(email)
        password = TypeAdapter(Password).validate_python(password)
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    await Tortoise.init(config=TORTOISE_ORM)
    try:
        user = await User.get_or_none(email=email)
        if user is not None:
            user.is_superuser = True
            await user.save(update_fields=["is_superuser", "updated_at"])
            print(f"Promoted {email} to superuser (password unchanged)")
            return 0
        await User.create(
            email=email, hashed_password=await hash_password(password), is_superuser=True
        )
        print(f"Created superuser {email}")
        return 0
    finally:
        await Tortoise.close_connections()


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

    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level.lower(),
        # On SIGTERM: stop accepting, let in-flight requests finish (up to this long),
        # then run the lifespan's shutdown, which closes the database pool.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return 0


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
    create.add_argument("--password", required=True)
    commands.add_parser("serve", help="serve the API on HOST:PORT")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        return asyncio.run(_migrate(args.wait))
    if args.command == "migrations":
        return asyncio.run(_migrations_status())
    if args.command == "makemigration":
        return _make_migration(args.name)
    if args.command == "createsuperuser":
        return asyncio.run(_create_superuser(args.email, args.password))
    return _serve()


if __name__ == "__main__":
    sys.exit(main())
