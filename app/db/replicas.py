"""Plain reads on streaming replicas, everything else on the primary (`DATABASE_URL`).

Tortoise asks `ReplicaRouter` (installed by `TORTOISE_ORM["routers"]` when
`DATABASE_REPLICA_URLS` is set) which connection a query uses. It answers:
- writes, and every query inside a transaction (locking reads included): the primary.
  Tortoise's router knows nothing of transactions, so a query inside `in_transaction()`
  that is not bound to its connection (`using_db=`) would go to a replica; the router
  sends it to the transaction instead, so no such query can read around its own writes;
- plain reads: a replica that `ReplicaWatch` found answering and no further behind than
  `DB_REPLICA_MAX_LAG_SECONDS`, in turn; with none such, the primary.

Read-your-writes comes from the database, not from guesswork here: the replicas are
synchronous standbys and the primary commits with `synchronous_commit = remote_apply`,
so a write is acknowledged only once the standby has applied it, and a read after it on
the standby sees it (deploy/patroni.yml.in configures this). At start-up the watch reads
`synchronous_commit` on the primary: anything weaker, and reads stay on the primary (a
warning says why), since then a replica could answer from before a client's own write.
"""

import asyncio
import contextlib
import itertools
import logging
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from app.db.errors import DATABASE_UNAVAILABLE

PRIMARY = "default"
CHECK_INTERVAL_SECONDS = 1.0
CHECK_TIMEOUT_SECONDS = 2.0
# Seconds the replica is behind: 0 when it has applied all it received (an idle primary
# sends nothing, which is not lag), else the age of the last transaction it applied.
LAG_SQL = """
SELECT pg_is_in_recovery() AS recovering,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END AS lag
"""

logger = logging.getLogger(__name__)


def replica_names(count: int) -> list[str]:
    return [f"replica{number}" for number in range(count)]


class ReplicaWatch:
    """Which replicas may serve reads now, checked every CHECK_INTERVAL_SECONDS."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.max_lag = 0.0
        self.usable: list[str] = []
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._reported: list[str] | None = None

    def pick(self) -> str | None:
        usable = self.usable
        return usable[next(self._turn) % len(usable)] if usable else None

    async def start(self, names: list[str], max_lag: float) -> None:
        self.names, self.max_lag, self.usable, self._reported = names, max_lag, [], None
        if not names:
            return
        if not await self._primary_waits_for_apply():
            logger.warning(
                "DATABASE_REPLICA_URLS is set, but the primary's synchronous_commit is not "
                "remote_apply: a replica could answer from before a client's own write, so "
                "every read stays on the primary (see README, Scaling out)"
            )
            return
        await self.check()
        self._task = asyncio.create_task(self._watch(), name="replica watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.usable = []

    async def check(self) -> None:
        """Look at every replica once; keep those that answer and keep up."""
        results = await asyncio.gather(*(self._lag(name) for name in self.names))
        usable = [name for name, lag in zip(self.names, results, strict=True) if lag is not None]
        if usable != self._reported:  # the first time, then on every change
            logger.info("replicas serving reads: %s", ", ".join(usable) or "none (primary)")
            self._reported = usable
        self.usable = usable

    async def _lag(self, name: str) -> float | None:
        """The replica's lag in seconds; None if it is down, not a replica or too far behind."""
        try:
            client = connections.get(name)
            rows = await asyncio.wait_for(client.execute_query_dict(LAG_SQL), CHECK_TIMEOUT_SECONDS)
        except (*DATABASE_UNAVAILABLE, TimeoutError):
            return None
        recovering, lag = rows[0]["recovering"], float(rows[0]["lag"])
        return lag if recovering and lag <= self.max_lag else None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)
            try:
                await self.check()
            except Exception:  # a bug here must not stop the watch: log it, go on
                logger.exception("replica check failed")

    async def _primary_waits_for_apply(self) -> bool:
        try:
            rows = await connections.get(PRIMARY).execute_query_dict("SHOW synchronous_commit")
        except DATABASE_UNAVAILABLE:
            return False
        return rows[0]["synchronous_commit"] == "remote_apply"


REPLICAS = ReplicaWatch()


class ReplicaRouter:
    """Tortoise's router (`TORTOISE_ORM["routers"]`): connection names for queries."""

    def db_for_read(self, model: Any) -> str | None:
        if isinstance(connections.get(PRIMARY), TransactionalDBClient):
            return PRIMARY  # inside a transaction: its own connection
        return REPLICAS.pick()  # None: the model's own connection, the primary

    def db_for_write(self, model: Any) -> str:
        return PRIMARY
