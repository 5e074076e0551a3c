"""`/stats`: answered by the database, never by loading rows into Python."""

from tortoise import connections
from tortoise.functions import Count

from app.api.deps import CurrentUser
from app.api.errors import error_responses
from app.api.routing import CollectionRouter
from app.db.replicas import PRIMARY
from app.models import Item
from app.schemas.stats import Stats, TopOwner

router = CollectionRouter(tags=["stats"])

# One round trip for the three totals; the same SQL runs on SQLite and PostgreSQL.
TOTALS_SQL = """
SELECT
    (SELECT COUNT(*) FROM users) AS users,
    (SELECT COUNT(*) FROM users WHERE is_active) AS active_users,
    (SELECT COUNT(*) FROM items) AS items
"""


@router.get("/stats", response_model=Stats, responses=error_responses(401), summary="Totals")
async def read_stats(_: CurrentUser) -> Stats:
    (totals,) = await connections.get(PRIMARY).execute_query_dict(TOTALS_SQL)
    top_owners = (
        await Item.annotate(items=Count("id"))
        .group_by("owner_id")
        .order_by("-items", "owner_id")
        .limit(5)
        .values("owner_id", "items")
    )
    return Stats(
        **totals,
        top_owners=[TopOwner(user_id=row["owner_id"], items=row["items"]) for row in top_owners],
    )
