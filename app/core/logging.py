"""Logging: every line of the process (the app's, uvicorn's, Tortoise's SQL echo) through
one handler on stderr, as JSON (`LOG_FORMAT=json`: one object per line, for a log
shipper) or as readable text (`console`, the default for `make run`).

The service logs with the standard library; structlog's `ProcessorFormatter` renders
the records, adding the time (UTC), level, logger, the fields passed as `extra=` (the
request lines of `app/api/observability.py`) and the id of the request being served
(asgi-correlation-id's context variable), so every line a request causes carries it.

Nothing secret is ever logged: the service never logs headers, bodies or tokens, and
a password hash in any line (`SQL_ECHO` shows an INSERT of a user with its values) is
replaced by `[redacted]` (`RedactSecrets`).
"""

import logging
import re
from typing import Any

import structlog
from asgi_correlation_id import correlation_id

from app.core.config import Settings

# argon2 and bcrypt hashes as passlib writes them ($argon2id$v=19$m=...$salt$hash).
PASSWORD_HASH = re.compile(r"\$(argon2(id|i|d)|2[abxy]?)\$[^\s'\",\])]*")
REDACTED = "[redacted]"
SQL_ECHO_LOGGER = "tortoise.db_client"
# uvicorn's own loggers: passed up to the root handler instead of printing their own way.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi")
# uvicorn's access line is replaced by the app's request line (with route, user, time).
SERVER_ACCESS_LOGGER = "uvicorn.access"
# aiosqlite's debug lines repeat every statement SQL_ECHO shows, from its thread.
QUIET_LOGGERS = ("aiosqlite",)
# What the request lines pass as `extra=` (nothing else a library adds is a field).
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms", "user_id", "client")


def add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if request_id := correlation_id.get():
        event["request_id"] = request_id
    return event


class RedactSecrets(logging.Filter):
    """On the handler: a password hash in any line, whoever logged it, is replaced (the
    message as it would be printed is checked, so values inside lists count too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if PASSWORD_HASH.search(message):
            record.msg, record.args = PASSWORD_HASH.sub(REDACTED, message), None
        return True


def formatter(log_format: str) -> logging.Formatter:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    finish = [structlog.processors.format_exc_info] if log_format == "json" else []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=REQUEST_FIELDS),
            add_request_id,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *finish,
            renderer,
        ],
    )


class AppHandler(logging.StreamHandler):
    """The one handler configure_logging installs (others, such as pytest's, stay)."""


def configure_logging(settings: Settings) -> None:
    """Idempotent: the app and `python -m app serve` both call it."""
    # No line shows the thread, the process or the caller's source line: the logging
    # HOWTO's "Optimization" switches, so no record looks them up (one per request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = AppHandler()
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if isinstance(h, AppHandler)]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers = []
        server_logger.propagate = True
    access = logging.getLogger(SERVER_ACCESS_LOGGER)
    access.handlers, access.propagate = [], False  # uvicorn then skips it altogether
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    if settings.sql_echo:  # like SQLAlchemy's echo=True: statements, values redacted
        logging.getLogger(SQL_ECHO_LOGGER).setLevel(logging.DEBUG)
