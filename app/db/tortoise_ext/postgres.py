"""The PostgreSQL engine (`TORTOISE_ORM`'s engine module): Tortoise's asyncpg client with
every statement timed for the metrics (`instrumentation.py`), one retry of a read whose
pooled connection turned out dead, and, with `TORTOISE_SPEEDUPS` on, pooled connections
released without a reset query and objects built by the fast row loop (`hydration.py`).
Upstream-ready: `pool.patch` (the reset query and the read retry as client options) and
`transactions.patch` (a client's transaction class as an attribute, so a subclass needs
no `_in_transaction` override).

Releasing a connection, asyncpg's pool sends `pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL` by default: one more round trip after every statement the service
sends outside a transaction (Tortoise acquires and releases per statement), about as
long as the statement itself. The service keeps no session state on pooled connections
(no SET, LISTEN, cursors or advisory locks: the migration lock has a connection of its
own), so there is nothing to reset; an open transaction is still rolled back by asyncpg.

Tortoise has no reconnect logic. asyncpg replaces a pooled connection it knows is closed,
but one that died silently (a database restart, a dropped TCP session) is only found out
when a query is sent on it. A plain read is idempotent, so it is sent once more, on the
fresh connection the pool hands out next; a write is never retried (it may have been
applied), and nothing inside a transaction is retried (the transaction is gone).
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from app.db.errors import CONNECTION_LOST
from app.db.tortoise_ext import speedups
from app.db.tortoise_ext.hydration import FastSelect
from app.db.tortoise_ext.instrumentation import TimedQueries, TimedTransaction

T = TypeVar("T")


def _is_plain_read(query: str) -> bool:
    statement = query.lstrip().upper()
    return statement.startswith("SELECT") and " FOR UPDATE" not in statement


class LeanConnection(asyncpg.Connection):
    """A pooled connection that is handed back without a reset query (see above)."""

    def get_reset_query(self) -> str:
        return ""


class FastExecutor(FastSelect, AsyncpgExecutor):
    pass


Executor = FastExecutor if speedups() else AsyncpgExecutor


class Transaction(TimedTransaction, TransactionWrapper):
    """A transaction's connection builds objects the same way (savepoints included)."""

    executor_class = Executor

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(Transaction(self))


class AsyncpgClient(TimedQueries, AsyncpgDBClient):
    connection_class = LeanConnection if speedups() else asyncpg.Connection
    executor_class = Executor

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(Transaction(self), self._pool_init_lock)

    async def execute_query(self, query: str, values: list | None = None) -> Any:
        return await _read_once_more(super().execute_query, query, values)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        return await _read_once_more(super().execute_query_dict, query, values)


async def _read_once_more(
    execute: Callable[[str, list | None], Awaitable[T]], query: str, values: list | None
) -> T:
    try:
        return await execute(query, values)
    except CONNECTION_LOST:
        if not _is_plain_read(query):
            raise
        return await execute(query, values)


client_class = AsyncpgClient
