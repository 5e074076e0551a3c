"""Optimistic concurrency for rows with a `version` column: the ETag and If-Match."""

from typing import Any

from tortoise import timezone
from tortoise.expressions import F


class Versioned:
    """Mixed into models that have `version` and `updated_at`: every change goes through
    one UPDATE that bumps the version and, given `if_version`, only applies while the
    row is still at one of those versions, so a stale write cannot win a race."""

    id: int
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def _matching(self, if_version: set[int] | None) -> Any:
        rows = type(self).filter(id=self.id)  # type: ignore[attr-defined]
        return rows if if_version is None else rows.filter(version__in=if_version)

    async def apply_changes(
        self: "Versioned", changes: dict[str, Any], if_version: set[int] | None = None
    ) -> bool:
        """Write only `changes` (plus updated_at and the version); False if no row matched.
        No changes write nothing: the row is only checked against `if_version`."""
        if not changes:
            return await self._matching(if_version).exists()
        columns = {**changes, "updated_at": timezone.now(), "version": F("version") + 1}
        if not await self._matching(if_version).update(**columns):
            return False
        await self.refresh_from_db()  # type: ignore[attr-defined]
        return True

    async def delete_if(self, if_version: set[int] | None = None) -> bool:
        return bool(await self._matching(if_version).delete())
