"""Every SQL statement the service sends, timed and reported to whoever listens.

Tortoise has no query hooks, and each engine runs statements its own way (asyncpg,
aiosqlite), so both engines' clients mix in `TimedQueries`: the five `execute_*`
methods every Tortoise query goes through (model queries, transactions, savepoints,
raw SQL) report `(connection, statement, start, seconds, error)` to the observers in
`QUERY_OBSERVERS` (the metrics, and tracing when it is on: `app/db/tracing.py`). With
no observer the statement runs as before, untimed.

The statement text is reported with its placeholders, never its values: values can be
password hashes.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise import connections


@dataclass(frozen=True, slots=True)
class Statement:
    connection: str  # Tortoise's connection name: "default" (the primary), "replica0", ...
    sql: str
    started_ns: int  # wall clock, for spans
    seconds: float
    error: str | None  # the exception's qualified type, when the statement failed

    @property
    def operation(self) -> str:
        """SELECT, INSERT, UPDATE, DELETE, BEGIN, ... (a bounded label: the first word)."""
        verb = self.sql.lstrip()[:12].split(None, 1)
        word = verb[0].upper() if verb else ""
        return word if word in OPERATIONS else "OTHER"


OPERATIONS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK"}
    | {"SAVEPOINT", "RELEASE", "SET", "SHOW", "CREATE", "ALTER", "DROP"}
)

QueryObserver = Callable[[Statement], None]
QUERY_OBSERVERS: list[QueryObserver] = []


def _timed(name: str) -> Callable[..., Awaitable[Any]]:
    async def execute(self: Any, query: str, *args: Any) -> Any:
        run = getattr(super(TimedQueries, self), name)
        if not QUERY_OBSERVERS:
            return await run(query, *args)
        started_ns, start = time.time_ns(), time.perf_counter()
        error = None
        try:
            return await run(query, *args)
        except BaseException as exc:
            error = f"{type(exc).__module__}.{type(exc).__qualname__}"
            raise
        finally:
            statement = Statement(
                self.connection_name, query, started_ns, time.perf_counter() - start, error
            )
            for observe in QUERY_OBSERVERS:
                observe(statement)

    execute.__name__ = name
    return execute


class TimedQueries:
    """Mixed in before a Tortoise client class (and its transaction class)."""

    execute_insert = _timed("execute_insert")
    execute_query = _timed("execute_query")
    execute_query_dict = _timed("execute_query_dict")
    execute_many = _timed("execute_many")
    execute_script = _timed("execute_script")


def pool_usage() -> dict[str, tuple[int, int]]:
    """(connections open, connections in use) per database connection, read off the
    clients without a query: asyncpg's pool, or SQLite's one connection and its lock."""
    usage = {}
    for client in connections.all():
        pool = getattr(client, "_pool", None)
        if pool is not None:
            size = pool.get_size()
            usage[client.connection_name] = (size, size - pool.get_idle_size())
        elif hasattr(client, "_lock"):
            is_open = getattr(client, "_connection", None) is not None
            usage[client.connection_name] = (int(is_open), int(client._lock.locked()))
    return usage
