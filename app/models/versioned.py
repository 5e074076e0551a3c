"""Optimistic concurrency for rows with a `version` column: the ETag and If-Match."""

from typing import Any, Self

from tortoise import BaseDBAsyncClient, timezone

from app.core.errors import PreconditionFailed


class Versioned:
    """Mixed into models that have `version` and `updated_at`. Every change is one UPDATE
    that checks the version the row was read at and bumps it, so a stale write cannot
    win a race; callers lock the row first when a permission depends on it."""

    id: int
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def check_version(self, if_version: set[int] | None) -> None:
        """412 unless the row is at one of the versions an If-Match header names."""
        if if_version is not None and self.version not in if_version:
            raise PreconditionFailed

    def _at_this_version(self, using_db: BaseDBAsyncClient | None) -> Any:
        model: Any = type(self)
        return model.filter(id=self.id, version=self.version).using_db(using_db)

    async def apply_changes(
        self,
        changes: dict[str, Any],
        if_version: set[int] | None = None,
        using_db: BaseDBAsyncClient | None = None,
    ) -> Self:
        """Write only `changes` (plus updated_at and the version) and keep them on this
        object. No changes write nothing: the row is only checked against `if_version`."""
        self.check_version(if_version)
        if not changes:
            return self
        columns = {**changes, "updated_at": timezone.now(), "version": self.version + 1}
        if not await self._at_this_version(using_db).update(**columns):
            raise PreconditionFailed  # changed since it was read
        self.update_from_dict(columns)  # type: ignore[attr-defined]
        return self

    async def delete_checked(
        self, if_version: set[int] | None = None, using_db: BaseDBAsyncClient | None = None
    ) -> None:
        self.check_version(if_version)
        if not await self._at_this_version(using_db).delete():
            raise PreconditionFailed
