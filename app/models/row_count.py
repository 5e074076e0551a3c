"""Exact row counts kept by the database, so `X-Total-Count` of an unfiltered list costs
a few index lookups at any table size instead of a `COUNT(*)` over every row.

Triggers written by the migration `5_*_add_row_counts` (not by this model: Tortoise
declares no triggers; their SQL is in `app/db/sql/row_counts.py`) add each INSERT's and
DELETE's rows, and each owner change of an item, to this table in the same transaction
as the rows, cascades included, so a count is
as exact as `COUNT(*)` in any snapshot. A count is kept in several rows (`shard`, the
writing transaction's id modulo `SHARDS`, on PostgreSQL), summed on read, so concurrent
writers seldom queue on one row; the rows of a shard are only written by the transaction
holding that shard's advisory lock, so two writers can never deadlock on them. (A
transaction that takes a row lock after its first counted write can still deadlock with a
same-shard one holding that lock: take locks first, as every write of the service does.)
"""

from tortoise import fields
from tortoise.functions import Coalesce, Sum

from app.models.base import AppModel

SHARDS = 16
ALL_ROWS = 0  # `owner_id` of the count of every row of a table


class RowCount(AppModel):
    """Part of the number of rows of `table_name` owned by `owner_id` (`ALL_ROWS`: of all
    its rows): a table's count is the sum of its rows here."""

    id = fields.BigIntField(primary_key=True)
    table_name = fields.CharField(max_length=32)
    owner_id = fields.IntField()
    shard = fields.SmallIntField()
    n = fields.BigIntField()

    class Meta:
        table = "row_counts"
        unique_together = (("table_name", "owner_id", "shard"),)

    @classmethod
    async def of(cls, table_name: str, owner_id: int = ALL_ROWS) -> int:
        """The number of rows of `table_name` (owned by `owner_id`): one index range scan
        over at most `SHARDS` rows."""
        rows = (
            await cls.filter(table_name=table_name, owner_id=owner_id)
            .annotate(total=Coalesce(Sum("n"), 0))
            .values("total")  # (`values_list` would select the sum twice, in Tortoise 1.1)
        )
        return int(rows[0]["total"])
