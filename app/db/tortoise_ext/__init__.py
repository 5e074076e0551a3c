"""Every extension of Tortoise ORM 1.1.9 the service makes, in one place: the only code
that reaches into Tortoise's private methods. Each module says what it changes and why,
and keeps its upstream-ready change beside it as a patch against Tortoise 1.1.9
(`*.patch`; `tests/test_tortoise_ext.py` checks that each applies to the installed copy).

Speed-ups, turned off together by `TORTOISE_SPEEDUPS=false` (stock Tortoise then builds
every query and object; CI runs the SQLite suite that way too, with the same results):
- `hydration.py`: objects built from rows without Tortoise's per-row copies;
- `lookups.py`: `get_or_none(field=value, ...)` reusing its compiled SQL;
- `postgres.py`: pooled connections handed back without asyncpg's reset query.

Features the service needs, on either way:
- `instrumentation.py`: every statement timed for the metrics and traces (both engines'
  clients and transactions, `sqlite.py` and `postgres.py`);
- `postgres.py`: a plain read retried once on a pooled connection found dead;
- `routing.py`: querysets routed to a replica or the primary when they run.
"""

from app.core.config import get_settings

# The engine modules `TORTOISE_ORM` names (Tortoise imports them when it starts).
POSTGRES_ENGINE = "app.db.tortoise_ext.postgres"
SQLITE_ENGINE = "app.db.tortoise_ext.sqlite"


def speedups() -> bool:
    """`TORTOISE_SPEEDUPS`, read when first needed, not on import (so that `check` can
    report invalid settings): with it false, the mixins defer to Tortoise's own code and
    the engines use Tortoise's executors and asyncpg's own connections."""
    return get_settings().tortoise_speedups
