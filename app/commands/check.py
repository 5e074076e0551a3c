"""`python -m app check [--deploy]`: Django's system check, for this service's settings.

The settings refuse what would break the service (a weak SECRET_KEY, an impossible pool)
by raising at start-up, one problem at a time and with every value in the traceback. This
lists all of them at once, one line each with an id and a fix, and never a value; with
`--deploy`, also what the service accepts but a production deploy should not (debug logs
full of SQL values, trusting every proxy, cheap password hashes). Nothing is connected to.
"""

import ipaddress
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from pydantic import ValidationError, model_validator
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError

from app.commands import settings_problems
from app.core.config import (
    MIN_SECRET_DISTINCT_CHARACTERS,
    MIN_SECRET_LENGTH,
    PUBLISHED_SECRET_KEYS,
    SQLITE_URL_ENGINE,
    Settings,
)

DEPLOY_HELP = """also report what a production deploy should not have: ENVIRONMENT other
than production, a SECRET_KEY left to be generated, SQLite, LOG_LEVEL=DEBUG or SQL_ECHO
(statements and their values in the logs), CORS_ORIGINS or FORWARDED_ALLOW_IPS trusting
everyone, argon2 costs below the library's defaults, METRICS_ALLOW_IPS admitting every
address, ALLOWED_HOSTS allowing any Host or not set (only the loopback names are answered),
and FORWARDED_ALLOW_IPS not set
explicitly (in the environment or .env): its default trusts only a proxy on this host, so
behind one elsewhere every client would share the proxy's address and its login throttle;
set it to the proxy's address, or to 127.0.0.1 when clients connect directly"""
NEW_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@dataclass(frozen=True)
class Finding:
    id: str
    settings: frozenset[str]  # what it is about: a setting refused is not reported twice
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.id} {self.problem}; fix: {self.fix}"


def finding(id: str, settings: str, problem: str, fix: str) -> Finding:
    return Finding(id, frozenset(settings.split()), problem, fix)


class _Unchecked(Settings):
    """The settings as given: without `Settings._check` (this one replaces it by name), so
    that every weakness can be reported, not only the first one it raises for."""

    @model_validator(mode="after")
    def _check(self) -> "_Unchecked":
        return self


def _unchecked() -> tuple[Settings, set[str]]:
    """The settings as given, with the defaults for the fields whose values are invalid
    (those are reported from the error), and the names of those fields."""
    try:
        return _Unchecked(), set()
    except ValidationError as exc:
        invalid = {str(problem["loc"][0]) for problem in exc.errors() if problem["loc"]}
        defaults = {name: Settings.model_fields[name].get_default() for name in invalid}
        return _Unchecked(**defaults), {name.upper() for name in invalid}


def _parses(url: str) -> str | None:
    """The engine of a database URL, or None when tortoise cannot read it."""
    try:
        return expand_db_url(url)["engine"]
    except (ConfigurationError, ValueError):
        return None


def refusals(settings: Settings) -> list[Finding]:
    """What `Settings` refuses (so the service does not start), or `serve` does."""
    found = []
    key = settings.secret_key
    if not key and settings.environment == "production":
        found.append(finding("app.E002", "SECRET_KEY", "SECRET_KEY is not set", NEW_KEY))
    elif key in PUBLISHED_SECRET_KEYS:
        problem = "SECRET_KEY is a published example value"
        found.append(finding("app.E003", "SECRET_KEY", problem, NEW_KEY))
    elif key and len(key) < MIN_SECRET_LENGTH:
        problem = f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
        found.append(finding("app.E004", "SECRET_KEY", problem, NEW_KEY))
    elif key and len(set(key)) < MIN_SECRET_DISTINCT_CHARACTERS:
        problem = f"SECRET_KEY has fewer than {MIN_SECRET_DISTINCT_CHARACTERS} distinct characters"
        found.append(finding("app.E005", "SECRET_KEY", problem, NEW_KEY))
    if settings.db_pool_min > settings.db_pool_max:
        problem = "DB_POOL_MIN exceeds DB_POOL_MAX: no pool can be opened"
        fix = "lower DB_POOL_MIN or raise DB_POOL_MAX"
        found.append(finding("app.E006", "DB_POOL_MIN DB_POOL_MAX", problem, fix))
    urls = [("DATABASE_URL", settings.database_url)]
    if settings.migrations_database_url:
        urls.append(("MIGRATIONS_DATABASE_URL", settings.migrations_database_url))
    urls += [("DATABASE_REPLICA_URLS", url) for url in settings.database_replica_urls]
    for name in dict.fromkeys(name for name, url in urls if _parses(url) is None):
        problem = f"{name} is not a database URL tortoise can read"
        fix = "write it as postgres://user:password@host:5432/name or sqlite://path/file.sqlite3"
        found.append(finding("app.E008", name, problem, fix))
    sqlite = _parses(settings.database_url) == SQLITE_URL_ENGINE
    if settings.database_replica_urls and sqlite:
        problem = "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL"
        fix = "empty DATABASE_REPLICA_URLS, or move to PostgreSQL"
        found.append(finding("app.E007", "DATABASE_REPLICA_URLS DATABASE_URL", problem, fix))
    if settings.web_concurrency > 1 and sqlite:
        problem = "WEB_CONCURRENCY > 1 with SQLite: `serve` refuses (one process per file)"
        fix = "WEB_CONCURRENCY=1, or move to PostgreSQL"
        found.append(finding("app.E009", "WEB_CONCURRENCY DATABASE_URL", problem, fix))
    if settings.email_backend == "console" and settings.environment == "production":
        problem = "EMAIL_BACKEND is console in production: mails, tokens in them, are printed"
        fix = "EMAIL_BACKEND=smtp with SMTP_HOST, SMTP_PORT and EMAIL_FROM"
        found.append(finding("app.E010", "EMAIL_BACKEND ENVIRONMENT", problem, fix))
    return found


def weaknesses(settings: Settings) -> list[Finding]:
    """What the service accepts but a production deploy should not have."""
    found = []
    if settings.environment != "production":
        problem = f"ENVIRONMENT is {settings.environment}, not production"
        found.append(finding("app.W001", "ENVIRONMENT", problem, "ENVIRONMENT=production"))
    if not settings.secret_key and settings.environment != "production":
        problem = (
            "SECRET_KEY is not set: each installation generates its own, so a token signed "
            "on one server is refused by another, and all are lost with the data folder"
        )
        found.append(finding("app.W002", "SECRET_KEY", problem, NEW_KEY))
    if _parses(settings.database_url) == SQLITE_URL_ENGINE:
        problem = "DATABASE_URL is SQLite: one process, one writer, no replicas"
        fix = "DATABASE_URL=postgres://user:password@host:5432/name"
        found.append(finding("app.W003", "DATABASE_URL", problem, fix))
    if settings.log_level == "DEBUG":
        problem = "LOG_LEVEL is DEBUG: every SQL statement is logged with its values"
        found.append(finding("app.W004", "LOG_LEVEL", problem, "LOG_LEVEL=INFO"))
    if settings.sql_echo:
        problem = "SQL_ECHO is on: every SQL statement is logged with its values"
        found.append(finding("app.W005", "SQL_ECHO", problem, "SQL_ECHO=false"))
    if _trusts_everyone(settings.forwarded_allow_ips):
        problem = (
            "FORWARDED_ALLOW_IPS trusts every address: any client can set X-Forwarded-For "
            "and so dodge login throttling"
        )
        fix = "list only your proxies' addresses"
        found.append(finding("app.W006", "FORWARDED_ALLOW_IPS", problem, fix))
    elif "forwarded_allow_ips" not in settings.model_fields_set:
        problem = (
            "FORWARDED_ALLOW_IPS is not set: only a proxy on this host is trusted, so behind "
            "one elsewhere every client has the proxy's address and its login throttle"
        )
        fix = "set it to your proxy's address, or to 127.0.0.1 when clients connect directly"
        found.append(finding("app.W007", "FORWARDED_ALLOW_IPS", problem, fix))
    if "*" in settings.cors_origins:
        problem = "CORS_ORIGINS allows every origin: any web page may call the API"
        fix = "list the origins of your front ends"
        found.append(finding("app.W008", "CORS_ORIGINS", problem, fix))
    defaults = PasswordHasher()  # parallelism is not a cost: the same work in fewer lanes
    if (
        settings.argon2_time_cost < defaults.time_cost
        or settings.argon2_memory_cost < defaults.memory_cost
    ):
        problem = "ARGON2_TIME_COST or ARGON2_MEMORY_COST is below argon2's defaults"
        fix = f"ARGON2_TIME_COST={defaults.time_cost} ARGON2_MEMORY_COST={defaults.memory_cost}"
        found.append(finding("app.W009", "ARGON2_TIME_COST ARGON2_MEMORY_COST", problem, fix))
    if any(network.prefixlen == 0 for network in _valid_networks(settings.metrics_allow_ips)):
        problem = "METRICS_ALLOW_IPS admits every address: anyone may read GET /metrics"
        fix = "list your Prometheus servers' addresses"
        found.append(finding("app.W010", "METRICS_ALLOW_IPS", problem, fix))
    if "*" in settings.allowed_hosts:
        problem = "ALLOWED_HOSTS allows any Host: the next page's Link can name any site"
        found.append(finding("app.W011", "ALLOWED_HOSTS", problem, "list your API's names"))
    elif "allowed_hosts" not in settings.model_fields_set:
        problem = (
            "ALLOWED_HOSTS is not set: only the loopback names (localhost, 127.0.0.1) are "
            "answered, so clients calling the service by its public name get 400"
        )
        fix = "ALLOWED_HOSTS=api.example.com (the names clients use)"
        found.append(finding("app.W011", "ALLOWED_HOSTS", problem, fix))
    return found


def _valid_networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The entries that are addresses or networks: the others are refused (app.E001)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


def _trusts_everyone(value: str) -> bool:
    """uvicorn trusts every address for exactly "*"; so does a network of every address."""
    if value.strip() == "*":
        return True
    for part in value.split(","):
        try:
            if ipaddress.ip_network(part.strip()).prefixlen == 0:
                return True
        except ValueError:
            continue
    return False


def findings(deploy: bool) -> list[Finding]:
    """Every finding, ids in order. A check whose setting had an invalid value (replaced by
    its default here) is dropped; a refusal not explained by one of the checks is app.E001."""
    settings, invalid = _unchecked()
    # The key Settings would generate is strong; generating it (a file) is not checking.
    generated = not settings.secret_key and settings.environment != "production"
    try:
        Settings(**({"secret_key": secrets.token_urlsafe(48)} if generated else {}))
        problems = []
    except (ValidationError, ConfigurationError) as exc:
        problems = settings_problems(exc)
    found = refusals(settings) + (weaknesses(settings) if deploy else [])
    found = [each for each in found if not each.settings & invalid]
    covered = set().union(*(each.settings for each in found))
    for names, message in problems:
        if not names & covered:
            fix = "see .env.example"
            found.append(Finding("app.E001", frozenset(names), f"settings refused: {message}", fix))
    return sorted(found, key=lambda each: each.id)


def check(deploy: bool) -> int:
    """Exit 1 when anything is found."""
    found = findings(deploy)
    for each in found:
        print(each)
    count = len(found)
    plural = "" if count == 1 else "s"
    print(f"System check identified {count or 'no'} issue{plural}.")
    return 1 if found else 0
