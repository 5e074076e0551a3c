"""Which exceptions mean "the database cannot be reached right now", as opposed to a bug."""

import asyncio

import asyncpg
from tortoise.exceptions import DBConnectionError

# A pooled connection died under a statement: the statement may be sent again on a fresh one.
CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,  # "connection was closed in the middle of operation"
    asyncpg.InterfaceError,  # "connection is closed", pool closing
    asyncpg.InternalClientError,  # protocol state broken by a dying connection
    ConnectionError,  # reset by peer, broken pipe
)

DATABASE_UNAVAILABLE = (
    *CONNECTION_LOST,
    DBConnectionError,
    OSError,  # connection refused, host unreachable
    asyncio.TimeoutError,  # connect or command timeout
    asyncpg.exceptions.OperatorInterventionError,  # server shutting down or starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
)
