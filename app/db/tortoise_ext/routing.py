"""Querysets that pick their database when they run, not when they are made.

Tortoise 1.1.9 binds `Model.filter(...)` / `Model.all()` to the router's *read*
connection as it builds the queryset, so `Model.filter(...).update(...)` or `.delete()`
would run on a replica (and fail: a standby is read-only). Left unbound, each query asks
the router when it runs: reads for a read connection, `update()` / `delete()` for the
write one (Tortoise's queries already choose so).

Not a speed-up but a fix the replicas need, so `TORTOISE_SPEEDUPS` leaves it on; without
a router (no `DATABASE_REPLICA_URLS`) the queries choose the one database either way.
Upstream-ready: `routing.patch`, the same change to `Model._db_queryset`.
"""

from typing import Any


class RoutedQuerySets:
    """A Model mixin, before Tortoise's `Model` in the bases."""

    @classmethod
    def _db_queryset(cls, using_db: Any = None, for_write: bool = False) -> Any:
        if using_db is not None or for_write:
            return super()._db_queryset(using_db, for_write)  # type: ignore[misc]
        return cls._meta.manager.get_queryset()  # type: ignore[attr-defined]
