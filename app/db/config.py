"""The one Tortoise configuration, shared by the app, Aerich and the tests."""

from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from app.core.config import SQLITE_URL_ENGINE, Settings, get_settings
from app.db.replicas import PRIMARY, replica_names
from app.db.tortoise_ext import POSTGRES_ENGINE, SQLITE_ENGINE

APP_MODELS = ["app.models"]
AERICH_MODELS = "aerich.models"  # Aerich's own table, for Aerich's commands


def tortoise_config(
    settings: Settings,
    database_url: str | None = None,
    replicas: bool = True,
    aerich: bool = True,
) -> dict[str, Any]:
    """Build the Tortoise config for `database_url` (default `settings.database_url`),
    with pool settings on PostgreSQL; with `replicas` and `DATABASE_REPLICA_URLS`, a
    connection per replica and the router that sends plain reads there; with `aerich`,
    Aerich's model (its commands need it; the serving app does not load Aerich at all)."""
    models = [*APP_MODELS, AERICH_MODELS] if aerich else APP_MODELS
    config = {
        "connections": {PRIMARY: _connection(settings, database_url or settings.database_url)},
        "apps": {"models": {"models": models, "default_connection": PRIMARY}},
        "use_tz": True,
        "timezone": "UTC",
    }
    if replicas and settings.database_replica_urls:
        names = replica_names(len(settings.database_replica_urls))
        for name, url in zip(names, settings.database_replica_urls, strict=True):
            config["connections"][name] = _connection(settings, url)
        config["routers"] = ["app.db.replicas.ReplicaRouter"]
    return config


def _connection(settings: Settings, url: str) -> dict[str, Any]:
    connection = expand_db_url(url)
    credentials = connection["credentials"]
    if connection["engine"] == SQLITE_URL_ENGINE:
        # SQLite creates the file, not its folder: make `./data/` exist for the default URL.
        database_file = credentials["file_path"]
        if database_file != ":memory:":
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)
        connection["engine"] = SQLITE_ENGINE
    else:
        connection["engine"] = POSTGRES_ENGINE
        # The settings are defaults: an option in the URL itself wins (asyncpg's and
        # Tortoise's PgBouncer advice is `?statement_cache_size=0` in the URL).
        defaults = {
            "minsize": settings.db_pool_min,
            "maxsize": settings.db_pool_max,
            "max_inactive_connection_lifetime": settings.db_max_inactive_connection_lifetime,
            "timeout": settings.db_connect_timeout,
            "command_timeout": settings.db_command_timeout,
            "statement_cache_size": settings.db_statement_cache_size,
        }
        for name, value in defaults.items():
            credentials.setdefault(name, value)
    return connection


def is_postgres(config: dict[str, Any]) -> bool:
    return config["connections"][PRIMARY]["engine"] == POSTGRES_ENGINE


TORTOISE_ORM = tortoise_config(get_settings())
# What `python -m app migrate` and `aerich` connect to: MIGRATIONS_DATABASE_URL when set
# (the primary itself, when DATABASE_URL goes through PgBouncer), else the same database.
MIGRATIONS_TORTOISE_ORM = tortoise_config(
    get_settings(), get_settings().migrations_database_url, replicas=False
)
