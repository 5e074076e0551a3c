"""The SQLite engine: Tortoise's aiosqlite client, its statements timed (see
`app/db/instrumentation.py`) like the PostgreSQL engine's."""

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient as TortoiseSqliteClient,
)
from tortoise.backends.sqlite.client import (
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)

from app.db import sqlite_functions
from app.db.instrumentation import TimedQueries, TimedTransaction

SQLITE_ENGINE = __name__  # what TORTOISE_ORM names as the SQLite connections' engine


class Transaction(TimedTransaction, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(Transaction(self))


class SqliteClient(TimedQueries, TortoiseSqliteClient):
    async def _post_connect(self) -> None:
        await super()._post_connect()
        await sqlite_functions.install(self._connection)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(Transaction(self), self._lock)


client_class = SqliteClient
