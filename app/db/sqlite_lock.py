"""One process at a time on a SQLite database file.

Tortoise's SQLite client serialises transactions with an asyncio lock, inside one process
only: two servers on one file (two containers on one volume, `make run` twice) would break
the service's locking guarantees. `serve` and `migrate` hold an exclusive `flock` on
`<database file>.lock` for as long as they run, and refuse to start while another process
holds it. In-memory SQLite and PostgreSQL need no such lock.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.db.tortoise_ext import SQLITE_ENGINE


class DatabaseInUse(Exception):
    """Another process holds the database file's lock."""

    def __init__(self, database_file: str) -> None:
        super().__init__(
            f"{database_file} is in use by another process; SQLite serves one process at a "
            "time (use PostgreSQL to run several)"
        )


def sqlite_file(config: dict[str, Any]) -> str | None:
    """The database file of a SQLite config; None for in-memory SQLite or another engine."""
    connection = config["connections"]["default"]
    if connection["engine"] != SQLITE_ENGINE:
        return None
    path = connection["credentials"]["file_path"]
    return None if path == ":memory:" else path


@contextmanager
def exclusive_database(config: dict[str, Any]) -> Iterator[None]:
    """Hold the database file's lock for the `with` block, or raise DatabaseInUse at once.

    The lock file is left in place: deleting it could let a second process lock a new
    file while the first still holds the old one. The kernel releases the lock when the
    process ends, however it ends.
    """
    database_file = sqlite_file(config)
    if database_file is None:
        yield
        return
    descriptor = os.open(f"{database_file}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(database_file) from None
        yield
    finally:
        os.close(descriptor)  # closing the only descriptor releases the lock
