"""Start-up check: asyncpg's statement cache behind a transaction pooler.

asyncpg names its prepared statements `__asyncpg_stmt_1__`, `__asyncpg_stmt_2__`, ... per
client connection. Behind PgBouncer in transaction pooling (1.18 keeps no prepared
statement from one transaction to the next) client connections take turns on server
connections, so a second `__asyncpg_stmt_1__` fails (`prepared statement ... already
exists`): a worker dies at its first busy moment and uvicorn stops the whole server.

A transaction pooler shows itself by moving a client connection to another server
process between transactions: while connection A holds a transaction open, B's statement
runs on a second server connection; once A commits, B's next statement runs on A's (the
pooler hands out the server connection released last, PgBouncer's default). Directly on
PostgreSQL, or through a TCP proxy such as HAProxy, B keeps its backend.
"""

from typing import Any

import asyncpg

from app.db.errors import DATABASE_UNAVAILABLE

STATEMENT_CACHE_BEHIND_POOLER = (
    "DATABASE_URL goes through a transaction pooler (PgBouncer in transaction mode?) and "
    "asyncpg's statement cache is on (statement_cache_size={size}): its prepared statements "
    "collide there; set DB_STATEMENT_CACHE_SIZE=0 (or ?statement_cache_size=0 in the URL)"
)
BACKEND_PID = "SELECT pg_backend_pid()"


async def statement_cache_problem(credentials: dict[str, Any]) -> str | None:
    """The one-line reason the service cannot run on these credentials, or None (also
    when the database does not answer: the service starts and answers 503 meanwhile)."""
    size = int(credentials.get("statement_cache_size", 100))
    if size == 0:
        return None
    params = {
        name: credentials[name]
        for name in ("host", "port", "user", "password", "database", "ssl")
        if credentials.get(name) is not None
    }
    timeout = float(credentials.get("timeout", 5))
    opened: list[asyncpg.Connection] = []
    try:
        for _ in range(2):  # the probe's own statements are unnamed: nothing to collide
            opened.append(await asyncpg.connect(**params, statement_cache_size=0, timeout=timeout))
        holder, other = opened
        async with holder.transaction():
            await holder.fetchval(BACKEND_PID)
            before = await other.fetchval(BACKEND_PID)
        moved = await other.fetchval(BACKEND_PID) != before
    except (*DATABASE_UNAVAILABLE, asyncpg.PostgresError):
        return None  # unreachable, missing, refused: the commands and /health say so
    finally:
        for connection in opened:
            connection.terminate()
    return STATEMENT_CACHE_BEHIND_POOLER.format(size=size) if moved else None
