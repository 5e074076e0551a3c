"""The SQLite engine (`TORTOISE_ORM`'s engine module): Tortoise's aiosqlite client, its
statements timed (`instrumentation.py`) like the PostgreSQL engine's, and, with
`TORTOISE_SPEEDUPS` on, objects built by the fast row loop (`hydration.py`)."""

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient as TortoiseSqliteClient,
)
from tortoise.backends.sqlite.client import (
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.backends.sqlite.executor import SqliteExecutor

from app.db import sqlite_functions
from app.db.tortoise_ext import speedups
from app.db.tortoise_ext.hydration import FastSelect
from app.db.tortoise_ext.instrumentation import TimedQueries, TimedTransaction


class FastExecutor(FastSelect, SqliteExecutor):
    pass


Executor = FastExecutor if speedups() else SqliteExecutor


class Transaction(TimedTransaction, SqliteTransactionWrapper):
    executor_class = Executor

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(Transaction(self))


class SqliteClient(TimedQueries, TortoiseSqliteClient):
    executor_class = Executor

    async def _post_connect(self) -> None:
        await super()._post_connect()
        await sqlite_functions.install(self._connection)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(Transaction(self), self._lock)


client_class = SqliteClient
