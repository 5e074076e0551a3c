"""Settings from the environment and `.env`, validated once at start-up."""

import os
import secrets
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from tortoise.backends.base.config_generator import expand_db_url

MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 10
# Keys that were ever written in this project's code or docs: public, so never accepted.
PUBLISHED_SECRET_KEYS = frozenset({"change-me-in-production-this-is-not-a-secret"})
# In development and tests, a key generated once per installation, beside the SQLite data.
INSTALLATION_KEY_FILE = "secret_key"
# The engine `expand_db_url` names for a sqlite:// URL (the app then runs its own).
SQLITE_URL_ENGINE = "tortoise.backends.sqlite"


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
    # `json`: one JSON object per line, for log shippers; `console`: readable lines.
    log_format: Literal["json", "console"] = "console"
    # Who may read GET /metrics (addresses or networks, comma-separated); others get 404.
    metrics_allow_ips: Annotated[list[str], NoDecode] = ["127.0.0.1"]

    database_url: str = "sqlite://data/app.sqlite3"
    # asyncpg pool: the counterparts of SQLAlchemy's pool_size / max_overflow / pool_recycle.
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    db_max_inactive_connection_lifetime: float = Field(default=300.0, ge=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=30.0, gt=0)
    # A migration's DDL gives up after waiting this long for a lock (PostgreSQL's
    # lock_timeout), instead of queueing every request behind it; run it again later.
    migration_lock_timeout: float = Field(default=5.0, gt=0)
    sql_echo: bool = False
    # Tracing (the `otel` extra): the OTLP/HTTP collector's base URL, e.g.
    # http://localhost:4318. Unset, nothing is traced (app/core/tracing.py).
    otel_exporter_otlp_endpoint: str | None = None
    # Scale-out. `python -m app migrate` (and `aerich`) connect here when set: the primary
    # itself, when DATABASE_URL goes through a pooler (the migration lock is a session
    # advisory lock, which PgBouncer's transaction pooling cannot hold).
    migrations_database_url: str | None = Field(default=None, repr=False)
    # asyncpg's prepared statements cached per connection; 0 behind PgBouncer in
    # transaction pooling (1.18 keeps no prepared statement from one transaction to the next).
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Streaming replicas (comma-separated PostgreSQL URLs) for plain reads; one that lags
    # more than DB_REPLICA_MAX_LAG_SECONDS, or does not answer, is skipped meanwhile.
    database_replica_urls: Annotated[list[str], NoDecode] = Field(default=[], repr=False)
    db_replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    # Worker processes of `python -m app serve` (PostgreSQL only: SQLite has one writer).
    web_concurrency: int = Field(default=1, ge=1)

    # Signs the access and refresh tokens. Production needs a strong random value;
    # development and tests generate one per installation when it is empty.
    secret_key: str = Field(default="", repr=False)
    access_token_expire_minutes: int = Field(default=60, ge=1)
    # A session's refresh token works this long after it was issued (each refresh issues
    # a new one); a session unused for longer has ended.
    refresh_token_days: int = Field(default=30, ge=1)
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
    def _split_lists(cls, data: dict) -> dict:
        """Accept the lists as comma-separated text, the way a shell sets them."""
        for name in ("cors_origins", "database_replica_urls", "metrics_allow_ips"):
            value = data.get(name) if isinstance(data, dict) else None
            if isinstance(value, str):
                data[name] = [part.strip() for part in value.split(",") if part.strip()]
        return data

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        self.metrics_networks()  # ValueError for what is not an address or a network
        if self.access_token_expire_minutes > self.refresh_token_days * 24 * 60:
            # A session ends with its refresh token: no access token may outlive it.
            raise ValueError("ACCESS_TOKEN_EXPIRE_MINUTES must not exceed REFRESH_TOKEN_DAYS")
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        if self.database_replica_urls and not _is_postgres_url(self.database_url):
            raise ValueError("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
        if self.secret_key in PUBLISHED_SECRET_KEYS:
            raise ValueError("SECRET_KEY is a published example value; set a random one")
        if not self.secret_key and self.environment != "production":
            self.secret_key = installation_secret_key(self.installation_key_path())
        if not is_strong_secret(self.secret_key):
            raise ValueError(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} "
                f"characters (ENVIRONMENT={self.environment}); generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return self

    def metrics_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(entry, strict=False) for entry in self.metrics_allow_ips]

    def installation_key_path(self) -> Path:
        """Beside the SQLite database file, or in ./data for any other database."""
        credentials = expand_db_url(self.database_url)["credentials"]
        database_file = credentials.get("file_path", ":memory:")
        folder = Path(database_file).parent if database_file != ":memory:" else Path("data")
        return folder / INSTALLATION_KEY_FILE


def _is_postgres_url(url: str) -> bool:
    return expand_db_url(url)["engine"] != SQLITE_URL_ENGINE


def is_strong_secret(key: str) -> bool:
    """Long and not a repeated pattern: what `secrets.token_urlsafe(48)` gives."""
    return len(key) >= MIN_SECRET_LENGTH and len(set(key)) >= MIN_SECRET_DISTINCT_CHARACTERS


def installation_secret_key(path: Path) -> str:
    """The key in `path`, created there (mode 0600) by the first process that needs it.

    It is written to a temporary file and linked into place, so processes that start
    together all read the one key that won.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process linked its key first: use that one
        finally:
            scratch.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
