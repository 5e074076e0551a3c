"""Settings from the environment and `.env`, validated once at start-up."""

import os
import secrets
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
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
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")


class Settings(BaseSettings):
    # An error names the setting, never its value: pydantic would otherwise print the
    # whole input (`input_value={...}`), SECRET_KEY and DATABASE_URL's password in it.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

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
    # Host names the service answers (Django's ALLOWED_HOSTS: `.example.com` for a domain
    # and its subdomains, `*` for any); others get 400. The next page's `Link` is built
    # from the request's Host. The default: the loopback names `make run` and tests use.
    allowed_hosts: Annotated[list[str], NoDecode] = list(DEFAULT_ALLOWED_HOSTS)
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
    # The speed-ups of app/db/tortoise_ext/ (fast row loop, compiled lookups, pooled
    # connections released without a reset query). Off: stock Tortoise 1.1.9 builds every
    # query and object, for telling a speed-up's bug from the service's.
    tortoise_speedups: bool = True
    # Tracing (the `otel` extra): the OTLP/HTTP collector's base URL, e.g.
    # http://localhost:4318. Unset, nothing is traced (app/core/tracing.py).
    otel_exporter_otlp_endpoint: str | None = None
    # Scale-out. `python -m app migrate` (and `aerich`) connect here when set: the primary
    # itself, when DATABASE_URL goes through a pooler (the migration lock is a session
    # advisory lock, which PgBouncer's transaction pooling cannot hold).
    migrations_database_url: str | None = None
    # asyncpg's prepared statements cached per connection; 0 behind PgBouncer in
    # transaction pooling (1.18 keeps no prepared statement from one transaction to the next).
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Streaming replicas (comma-separated PostgreSQL URLs) for plain reads; one that lags
    # more than DB_REPLICA_MAX_LAG_SECONDS, or does not answer, is skipped meanwhile.
    database_replica_urls: Annotated[list[str], NoDecode] = []
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

    # Accounts: password reset and email verification tokens, and how often one email
    # (or account) may ask for a mail: once per MAIL_REQUEST_INTERVAL_SECONDS.
    password_reset_minutes: int = Field(default=60, ge=1)
    email_verification_minutes: int = Field(default=2880, ge=1)
    require_verified_email: bool = False
    mail_request_interval_seconds: int = Field(default=60, ge=1)

    # Mail, Django-style: `console` prints each mail on standard output (development;
    # the default outside production, which refuses it), `smtp` sends it (the default in
    # production). Mails go through the outbox table (app/models/outbox.py).
    email_backend: Literal["console", "smtp"] | None = None
    email_from: str = "webmaster@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # The outbox sender: a failed delivery is retried after MAIL_RETRY_BASE_SECONDS, then
    # twice as long each time, at most MAIL_RETRY_MAX_SECONDS apart, until it goes out.
    mail_retry_base_seconds: float = Field(default=10.0, gt=0, le=60)
    mail_retry_max_seconds: float = Field(default=900.0, gt=0)
    # How often each worker looks for mails other workers left or that are due a retry.
    mail_poll_seconds: float = Field(default=5.0, gt=0)
    # Sent mails (their bodies cleared when sent) are deleted after this long.
    mail_keep_sent_hours: int = Field(default=24, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: dict) -> dict:
        """Accept the lists as comma-separated text, the way a shell sets them."""
        for name in ("allowed_hosts", "cors_origins", "database_replica_urls", "metrics_allow_ips"):
            value = data.get(name) if isinstance(data, dict) else None
            if isinstance(value, str):
                data[name] = [part.strip() for part in value.split(",") if part.strip()]
        for name in ("email_backend", "smtp_username", "smtp_password"):
            if isinstance(data, dict) and data.get(name) == "":
                data[name] = None  # `NAME=` in .env: unset
        return data

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        try:
            self.metrics_networks()
        except ValueError:  # its own text quotes the value: name the setting instead
            raise ValueError(
                "METRICS_ALLOW_IPS must list IP addresses or networks (comma-separated)"
            ) from None
        if self.access_token_expire_minutes > self.refresh_token_days * 24 * 60:
            # A session ends with its refresh token: no access token may outlive it.
            raise ValueError("ACCESS_TOKEN_EXPIRE_MINUTES must not exceed REFRESH_TOKEN_DAYS")
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        if self.database_replica_urls and not _is_postgres_url(self.database_url):
            raise ValueError("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
        if self.secret_key in PUBLISHED_SECRET_KEYS:
            raise ValueError("SECRET_KEY is a published example value; set a random one")
        if self.email_backend is None:
            self.email_backend = "smtp" if self.environment == "production" else "console"
        if self.email_backend == "console" and self.environment == "production":
            raise ValueError("EMAIL_BACKEND=console prints tokens: production needs smtp")
        if not self.secret_key and self.environment != "production":
            self.secret_key = installation_secret_key(self.installation_key_path())
        if not is_strong_secret(self.secret_key):
            raise ValueError(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} "
                f"characters (ENVIRONMENT={self.environment}); generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return self

    def __repr_args__(self) -> Any:
        """The database URLs with their passwords masked (SECRET_KEY is not shown at all):
        `print(get_settings())` in a shell or a log shows no secret."""
        for name, value in super().__repr_args__():
            if name in DATABASE_URL_SETTINGS:
                value = [masked_url(url) for url in value] if isinstance(value, list) else value
                value = masked_url(value) if isinstance(value, str) else value
            yield name, value

    def metrics_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(entry, strict=False) for entry in self.metrics_allow_ips]

    def installation_key_path(self) -> Path:
        """Beside the SQLite database file, or in ./data for any other database."""
        credentials = expand_db_url(self.database_url)["credentials"]
        database_file = credentials.get("file_path", ":memory:")
        folder = Path(database_file).parent if database_file != ":memory:" else Path("data")
        return folder / INSTALLATION_KEY_FILE


DATABASE_URL_SETTINGS = frozenset(
    {"database_url", "migrations_database_url", "database_replica_urls"}
)


def masked_url(url: str) -> str:
    """`url` with its password (if any) written as `***`."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "***"  # not a URL pydantic could show safely


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
