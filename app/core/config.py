"""Settings from the environment and `.env`, validated once at start-up."""

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-in-production-this-is-not-a-secret"
MIN_PRODUCTION_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Proxies whose X-Forwarded-For / -Proto are believed (comma-separated, or "*").
    # The client address decides login throttling, so never trust every caller.
    forwarded_allow_ips: str = "127.0.0.1"
    # Seconds in-flight requests get to finish after SIGTERM before they are cut off.
    shutdown_grace_seconds: int = Field(default=25, ge=1)
    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    database_url: str = "sqlite://data/app.sqlite3"
    # asyncpg pool: the counterparts of SQLAlchemy's pool_size / max_overflow / pool_recycle.
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    db_max_inactive_connection_lifetime: float = Field(default=300.0, ge=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=30.0, gt=0)
    sql_echo: bool = False

    secret_key: str = DEFAULT_SECRET_KEY
    access_token_expire_minutes: int = Field(default=60, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = []

    # Argon2 cost. Production keeps the library's strong defaults; tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Password hashes computed at once, in worker threads (the rest wait their turn).
    password_hash_concurrency: int = Field(default=2, ge=1)

    # Login throttling: after this many failures for one account from one client
    # within the window, further attempts get 429 until the window has passed.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _split_cors_origins(cls, data: dict) -> dict:
        """Accept `CORS_ORIGINS` as a comma-separated list, the way a shell sets it."""
        origins = data.get("cors_origins") if isinstance(data, dict) else None
        if isinstance(origins, str):
            data["cors_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @model_validator(mode="after")
    def _refuse_weak_secret_in_production(self) -> "Settings":
        if self.environment == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY
            or len(self.secret_key) < MIN_PRODUCTION_SECRET_LENGTH
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters when ENVIRONMENT=production"
            )
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
