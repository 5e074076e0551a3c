"""Logging: every line of the process (the app's, uvicorn's, Tortoise's SQL echo) through
one handler on stderr, as JSON (`LOG_FORMAT=json`: one object per line, for a log
shipper) or as readable text (`console`, the default for `make run`).

The service logs with the standard library. Each line has the time (UTC), level, logger,
the fields passed as `extra=` (the request lines of `RequestLogMiddleware`) and the id of
the request being served (asgi-correlation-id's context variable), so every line a
request causes carries it: rendered by `JsonLines`, or for the console by structlog's
`ProcessorFormatter` and `ConsoleRenderer`.

Nothing secret is ever logged: the service never logs headers, bodies or tokens, and
a password hash in any line as printed (`SQL_ECHO` shows an INSERT of a user with its
values; an exception's text may quote a row) is replaced by `[redacted]` (`AppHandler`).
"""

import datetime as dt
import json
import logging
import re
from typing import Any

import structlog
from asgi_correlation_id import correlation_id

from app.core.config import Settings

# argon2 and bcrypt hashes as passlib writes them ($argon2id$v=19$m=...$salt$hash).
# The parameters of an argon2 hash hold commas (m=65536,t=3,p=4): only a quote, a space or
# a closing bracket ends one.
PASSWORD_HASH = re.compile(r"\$(argon2(id|i|d)|2[abxy]?)\$[^\s'\"\])]*")
REDACTED = "[redacted]"
SQL_ECHO_LOGGER = "tortoise.db_client"
# uvicorn's own loggers: passed up to the root handler instead of printing their own way.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi")
# uvicorn's access line is replaced by the app's request line (with route, user, time).
SERVER_ACCESS_LOGGER = "uvicorn.access"
# aiosqlite's debug lines repeat every statement SQL_ECHO shows, from its thread; and
# Tortoise's own debug lines show the connection settings, a third of the password too.
QUIET_LOGGERS = ("aiosqlite", "tortoise")
# What the request lines pass as `extra=` (nothing else a library adds is a field).
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms", "user_id", "client")
# C0 and C1 control characters, DEL and the Unicode line/paragraph separators: a decoded
# path (`%0a`, `%0d`, `%1b`) holding one could start a forged line or drive the terminal.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A traceback (or a stack) is many lines by design: only its newlines stay.
MULTILINE = ("exception", "stack")
TRACEBACK_CONTROL_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # \n, \r, \x1b, \u2028


def escape_controls(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Console lines: every control character of every field written as its escape (the
    JSON lines get the same from json.dumps), so a field never spans or forges a line."""
    for name, value in event.items():
        if isinstance(value, str):
            pattern = TRACEBACK_CONTROL_CHARACTERS if name in MULTILINE else CONTROL_CHARACTERS
            event[name] = pattern.sub(_escape, value)
    return event


def add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if request_id := correlation_id.get():
        event["request_id"] = request_id
    return event


class JsonLines(logging.Formatter):
    """`LOG_FORMAT=json`: a line is one object, the fields of the console's lines. Written
    here rather than rendered by structlog's ProcessorFormatter, which copies every record
    and runs its processor chain: 191k instructions a request line against 118k here
    (callgrind, bench/ANALYSIS.md), most of what observability costs a request."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "event": record.getMessage(),
            "timestamp": _utc_iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = record.__dict__
        for name in REQUEST_FIELDS:
            if name in fields:
                line[name] = fields[name]
        if request_id := correlation_id.get():
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=repr)


def _utc_iso(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat().replace("+00:00", "Z")


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLines()
    # Plain tracebacks: rich's (the default when installed) print every frame's local
    # variables, a form's password among them.
    console = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )
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
            structlog.processors.format_exc_info,  # a plain traceback, then escaped
            escape_controls,
            console,
        ],
    )


class AppHandler(logging.StreamHandler):
    """The one handler configure_logging installs (others, such as pytest's, stay). A
    password hash anywhere in a line as printed, a traceback's text included, whoever
    logged it, is written as [redacted]."""

    def format(self, record: logging.LogRecord) -> str:
        return PASSWORD_HASH.sub(REDACTED, super().format(record))


def configure_logging(settings: Settings) -> None:
    """Idempotent: the app and `python -m app serve` both call it."""
    # No line shows the thread, the process or the caller's source line: the logging
    # HOWTO's "Optimization" switches, so no record looks them up (one per request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = AppHandler()
    handler.setFormatter(formatter(settings.log_format))
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
