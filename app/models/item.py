"""The `items` table, with the seed's column names."""

from collections.abc import Collection, Sequence
from typing import Any, Self

from tortoise import BaseDBAsyncClient, fields, timezone
from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from app.core.errors import Forbidden, ItemNotFound, UserNotFound
from app.db.raw import fetch_rows
from app.models.base import PagedQuerySet, manager_for
from app.models.fields import utc_datetime
from app.models.hydration import FastHydration
from app.models.user import User
from app.models.versioned import Versioned

ROW_SQL = (
    'SELECT "id", "name", "description", "owner_id", "created_at", "updated_at", "version" '
    'FROM "items" WHERE "id" = {}'
)
# `include=items` embeds at most this many items per user, lowest ids first.
EMBEDDED_ITEMS_PER_OWNER = 100


class ItemQuerySet(PagedQuerySet["Item"]):
    def search(self, text: str | None) -> Self:
        """Items whose name contains `text`, in any case (all items for no text)."""
        return self.filter(name__icontains=text) if text else self

    async def page_with_owner(
        self,
        skip: int,
        limit: int,
        order_by: str,
        fields: Sequence[str],
        owner: Sequence[str] | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """As `page`; with `owner` fields, each row carries its owner's, through one join."""
        if not owner:
            return await self.page(skip, limit, order_by, *fields)
        rows, total = await self.page(skip, limit, order_by, *fields, *_joined(owner))
        return _nest_owner(rows, owner), total

    async def values_with_owner(
        self, fields: Sequence[str], owner: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Rows as dicts of `fields`, each with its owner's `owner` fields, by one join."""
        return _nest_owner(await self.values(*fields, *_joined(owner)), owner)


def _joined(owner: Sequence[str]) -> list[str]:
    return [f"owner__{field}" for field in owner]


def _nest_owner(rows: list[dict[str, Any]], owner: Sequence[str]) -> list[dict[str, Any]]:
    for row in rows:
        row["owner"] = {field: row.pop(f"owner__{field}") for field in owner}
    return rows


class Item(Versioned, FastHydration):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, db_index=True)
    description = fields.TextField(null=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="items", on_delete=fields.CASCADE, db_index=True
    )
    owner_id: int
    created_at = utc_datetime(auto_now_add=True)
    updated_at = utc_datetime(auto_now=True)
    # Bumped by every change, in the same UPDATE that checks it: the ETag / If-Match value.
    version = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "items"
        ordering = ["id"]
        manager = manager_for(ItemQuerySet)

    def __str__(self) -> str:
        return self.name

    @classmethod
    async def row(cls, item_id: int) -> dict[str, Any] | None:
        """One item's columns as a dict, by a prepared statement (a hot read)."""
        rows = await fetch_rows(cls, ROW_SQL, item_id)
        return rows[0] if rows else None

    @classmethod
    async def with_owner(
        cls, item_id: int, fields: Sequence[str], owner: Sequence[str]
    ) -> dict[str, Any] | None:
        """One item's `fields` and its version, with its owner's `owner` fields (a join)."""
        rows = await cls.filter(id=item_id).values_with_owner(fields, owner)
        return rows[0] if rows else None

    @classmethod
    async def lock_changeable(
        cls, item_ids: Collection[int], by: User, using_db: BaseDBAsyncClient
    ) -> list[Self]:
        """Lock these items (ascending ids, after the users: see `User.lock_acting`) and
        check on the locked rows that they exist (404) and that `by` may change them (403).
        A concurrent transfer has either moved them before this, or waits for it."""
        locked = cls.filter(id__in=item_ids).order_by("id").select_for_update()
        items = await locked.using_db(using_db)
        if len(items) != len(item_ids):
            raise ItemNotFound
        if not all(by.may_change(item.owner_id) for item in items):
            raise Forbidden
        return items

    @classmethod
    async def transfer(
        cls, item_ids: Sequence[int], new_owner_id: int, caller_id: int, token_version: int
    ) -> list[Self]:
        """Move the items to `new_owner_id`, all or nothing, as the caller (who must own
        every item, or be a superuser); answered in the order of `item_ids`. The checks
        run on locked rows: items (404), ownership (403), then the new owner (404)."""
        async with in_transaction() as connection:
            caller, users = await User.lock_acting(
                caller_id, token_version, new_owner_id, using_db=connection
            )
            items = await cls.lock_changeable(item_ids, by=caller, using_db=connection)
            if new_owner_id not in users:
                raise UserNotFound
            now = timezone.now()
            await (
                cls.filter(id__in=item_ids)
                .using_db(connection)
                .update(owner_id=new_owner_id, updated_at=now, version=F("version") + 1)
            )
        for item in items:
            item.owner_id, item.updated_at, item.version = new_owner_id, now, item.version + 1
        by_id = {item.id: item for item in items}
        return [by_id[item_id] for item_id in item_ids]

    @classmethod
    async def grouped_by_owner(
        cls, owner_ids: list[int], fields: Sequence[str]
    ) -> dict[int, list[dict[str, Any]]]:
        """The first `EMBEDDED_ITEMS_PER_OWNER` items (lowest ids) of each owner as dicts of
        `fields` (which name `owner_id`), by owner: the reverse relation's prefetch,
        without model objects, in one query (two when some owner has more than the cap).
        """
        groups: dict[int, list[dict[str, Any]]] = {owner_id: [] for owner_id in owner_ids}
        if not owner_ids:
            return groups
        cap = EMBEDDED_ITEMS_PER_OWNER
        # Enough rows for every owner's share: if they all come back, nobody was cut off.
        items = cls.filter(owner_id__in=owner_ids).order_by("id")
        rows = await items.limit(cap * len(owner_ids)).values(*fields)
        if len(rows) == cap * len(owner_ids):
            rows = await cls._first_items_of_each(owner_ids, cap).order_by("id").values(*fields)
        for row in rows:
            group = groups[row["owner_id"]]
            if len(group) < cap:
                group.append(row)
        return groups

    @classmethod
    def _first_items_of_each(cls, owner_ids: list[int], count: int) -> Any:
        """Each owner's `count` lowest-id items, one subquery per owner (SQLite has no
        LATERAL join, and Tortoise no window functions)."""
        firsts = [
            Q(
                id__in=Subquery(
                    cls.filter(owner_id=owner_id).order_by("id").limit(count).values("id")
                )
            )
            for owner_id in owner_ids
        ]
        return cls.filter(owner_id__in=owner_ids).filter(Q(*firsts, join_type="OR"))
