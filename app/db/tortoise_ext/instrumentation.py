"""Every SQL statement the service sends, timed and reported to whoever listens.

Tortoise has no query hooks, and each engine runs statements its own way (asyncpg,
aiosqlite), so both engines' clients mix in `TimedQueries`: the five `execute_*`
methods every Tortoise query goes through (model queries, raw SQL) and, in a
transaction, its BEGIN, COMMIT, ROLLBACK and savepoints (`TimedTransaction`) report
`(connection, statement, start, seconds, error)` to the observers in `QUERY_OBSERVERS`
(the metrics, and tracing when it is on: `app/db/tracing.py`). With no observer the
statement runs as before, untimed.

The statement text is reported with its placeholders, never its values: values can be
password hashes.
"""

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise import connections


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs more, per statement
class Statement:
    connection: str  # Tortoise's connection name: "default" (the primary), "replica0", ...
    sql: str
    started_ns: int  # wall clock, for spans
    seconds: float  # including the wait for a connection: the pool's, or SQLite's lock
    error: str | None  # the exception's qualified type, when the statement failed

    @property
    def operation(self) -> str:
        """SELECT, INSERT, UPDATE, DELETE, BEGIN, ... (a bounded label: the first word)."""
        return operation_of(self.sql)


OPERATIONS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK"}
    | {"SAVEPOINT", "RELEASE", "SET", "SHOW", "CREATE", "ALTER", "DROP"}
)


@functools.lru_cache(maxsize=4096)  # the service sends the same statement texts again
def operation_of(sql: str) -> str:
    verb = sql.lstrip()[:12].split(None, 1)
    word = verb[0].upper() if verb else ""
    return word if word in OPERATIONS else "OTHER"


QueryObserver = Callable[[Statement], None]
QUERY_OBSERVERS: list[QueryObserver] = []


async def _observed(client: Any, sql: str, run: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """`run(*args)`, reported to the observers as `sql` on the client's connection."""
    if not QUERY_OBSERVERS:
        return await run(*args)
    started_ns, start = time.time_ns(), time.perf_counter()
    error = None
    try:
        return await run(*args)
    except BaseException as exc:
        error = f"{type(exc).__module__}.{type(exc).__qualname__}"
        raise
    finally:
        seconds = time.perf_counter() - start
        statement = Statement(client.connection_name, sql, started_ns, seconds, error)
        for observe in QUERY_OBSERVERS:
            observe(statement)


def _timed(name: str) -> Callable[..., Awaitable[Any]]:
    async def execute(self: Any, query: str, *args: Any) -> Any:
        return await _observed(self, query, getattr(super(TimedQueries, self), name), query, *args)

    execute.__name__ = name
    return execute


def _timed_step(name: str, sql: str) -> Callable[..., Awaitable[Any]]:
    async def step(self: Any) -> Any:
        return await _observed(self, sql, getattr(super(TimedTransaction, self), name))

    step.__name__ = name
    return step


class TimedQueries:
    """Mixed in before a Tortoise client class."""

    execute_insert = _timed("execute_insert")
    execute_query = _timed("execute_query")
    execute_query_dict = _timed("execute_query_dict")
    execute_many = _timed("execute_many")
    execute_script = _timed("execute_script")


class TimedTransaction(TimedQueries):
    """Mixed in before a Tortoise transaction class: its statements, and the transaction's
    own (Tortoise sends them through the driver's transaction, not `execute_*`). A
    savepoint is reported by its statement's first word."""

    begin = _timed_step("begin", "BEGIN")
    commit = _timed_step("commit", "COMMIT")
    rollback = _timed_step("rollback", "ROLLBACK")
    savepoint = _timed_step("savepoint", "SAVEPOINT")
    savepoint_rollback = _timed_step("savepoint_rollback", "ROLLBACK TO SAVEPOINT")
    release_savepoint = _timed_step("release_savepoint", "RELEASE SAVEPOINT")


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
