"""The `items` table, with the seed's column names."""

from collections.abc import Collection, Sequence
from functools import partial
from typing import Any, Self

from tortoise import BaseDBAsyncClient, fields, timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from app.core.errors import Forbidden, ItemNotFound, NotAuthenticated, UserNotFound
from app.db.replicas import PRIMARY
from app.models.base import AppModel, PagedQuerySet, manager_for
from app.models.fields import utc_datetime
from app.models.row_count import ALL_ROWS, RowCount
from app.models.user import User
from app.models.versioned import Versioned


class ItemQuerySet(PagedQuerySet["Item"]):
    def of_owner(self, owner_id: int | None) -> Self:
        """The items of `owner_id` (every item for None). Unless already filtered, counted
        by the database's kept count (`RowCount`), not by `COUNT(*)`."""
        items = self if owner_id is None else self.filter(owner_id=owner_id)
        if self._q_objects:
            return items
        return items.counted_by(partial(RowCount.of, "items", owner_id or ALL_ROWS))

    def search(self, text: str | None) -> Self:
        """Items whose name contains `text`, in any case (all items for no text)."""
        return self.filter(name__icontains=text) if text else self

    def first_of_each_owner(self, owner_ids: Sequence[int], count: int) -> Self:
        """Each owner's `count` lowest-id items, lowest ids first: one subquery per owner
        (SQLite has no LATERAL join, and Tortoise no window functions)."""
        firsts = [
            Q(
                id__in=Subquery(
                    self.filter(owner_id=owner_id).order_by("id").limit(count).values("id")
                )
            )
            for owner_id in owner_ids
        ]
        return self.filter(owner_id__in=owner_ids).filter(Q(*firsts, join_type="OR")).order_by("id")


class Item(Versioned, AppModel):
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
        # Keyset pages (cursors) and sorted pages: an index range scan in each list order.
        indexes = (("created_at", "id"), ("name", "id"), ("owner_id", "id"))
        manager = manager_for(ItemQuerySet)

    def __str__(self) -> str:
        return self.name

    @classmethod
    async def create_owned(cls, by: User, name: str, description: str | None) -> Self:
        """A new item owned by `by`. The owner is checked again after the INSERT, in its
        transaction: the INSERT's foreign-key check keeps a share lock on the owner's row
        until the commit, so a concurrent deactivation or deletion either came first (401)
        or waits for this."""
        try:
            async with in_transaction(PRIMARY) as connection:
                item = await cls.create(
                    owner_id=by.id, name=name, description=description, using_db=connection
                )
                if await User.at_token_version(by.id, by.token_version) is None:
                    raise NotAuthenticated
        except IntegrityError:  # the account was deleted since its token was checked
            raise NotAuthenticated from None
        return item

    @classmethod
    async def change(
        cls, item_id: int, changes: dict[str, Any], if_version: set[int] | None, by: User
    ) -> Self:
        """Apply `changes` as `by`. Owner and version are checked on the locked row, so the
        change cannot land on an item a concurrent transfer gave to someone else."""
        async with in_transaction(PRIMARY) as connection:
            caller, _ = await User.lock_acting(by, using_db=connection)
            (item,) = await cls.lock_changeable([item_id], by=caller, using_db=connection)
            # Only the changed columns: a concurrent change to the others must survive.
            return await item.apply_changes(changes, if_version, connection)

    @classmethod
    async def remove(cls, item_id: int, if_version: set[int] | None, by: User) -> None:
        """Delete the item as `by`, checked on the locked row."""
        async with in_transaction(PRIMARY) as connection:
            caller, _ = await User.lock_acting(by, using_db=connection)
            (item,) = await cls.lock_changeable([item_id], by=caller, using_db=connection)
            await item.delete_checked(if_version, connection)

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
    async def transfer(cls, item_ids: Sequence[int], to: int, by: User) -> list[Self]:
        """Move the items to the user `to`, all or nothing, as `by` (who must own every
        item, or be a superuser); answered in the order of `item_ids`. The checks run on
        locked rows: items (404), ownership (403), then the new owner (404)."""
        new_owner_id = to
        async with in_transaction(PRIMARY) as connection:
            caller, users = await User.lock_acting(by, new_owner_id, using_db=connection)
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
