"""The one Tortoise configuration, shared by the app, Aerich and the tests."""

from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from app.core.config import Settings, get_settings

MODELS_MODULES = ["app.models", "aerich.models"]
POSTGRES_ENGINE = "app.db.backend"  # Tortoise's asyncpg client with a read retry


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Build the Tortoise config for `settings.database_url`, with pool settings on PostgreSQL."""
    connection = expand_db_url(settings.database_url)
    credentials = connection["credentials"]
    if connection["engine"] == "tortoise.backends.sqlite":
        # SQLite creates the file, not its folder: make `./data/` exist for the default URL.
        database_file = credentials["file_path"]
        if database_file != ":memory:":
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)
    else:
        connection["engine"] = POSTGRES_ENGINE
        credentials.update(
            minsize=settings.db_pool_min,
            maxsize=settings.db_pool_max,
            max_inactive_connection_lifetime=settings.db_max_inactive_connection_lifetime,
            timeout=settings.db_connect_timeout,
            command_timeout=settings.db_command_timeout,
        )
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODELS_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(config: dict[str, Any]) -> bool:
    return config["connections"]["default"]["engine"] == POSTGRES_ENGINE


TORTOISE_ORM = tortoise_config(get_settings())
