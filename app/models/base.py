"""The models' common base, and their chainable query methods, Django-style: a QuerySet
subclass per model, installed through Tortoise's `Meta.manager`, so
`Item.filter(...).search(q).page(...)` reads as one sentence (Django's
`Manager.from_queryset`)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from tortoise.expressions import Q
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.core.cursors import Position
from app.db.tortoise_ext.hydration import FastHydration
from app.db.tortoise_ext.lookups import CompiledLookups
from app.db.tortoise_ext.routing import RoutedQuerySets

M = TypeVar("M", bound=Model)


class AppModel(RoutedQuerySets, CompiledLookups, FastHydration):
    """Tortoise's Model, with querysets routed to a replica or the primary when they run
    and, unless `TORTOISE_SPEEDUPS=false`, objects built from rows by the fast row loop and
    equality lookups (`get_or_none`) that reuse their compiled SQL: `app/db/tortoise_ext/`."""

    class Meta:
        abstract = True


@dataclass(frozen=True, slots=True)
class Window:
    """Which page of a list: `skip` rows, or the rows after a cursor's `after`; `limit`
    rows at most, in `order_by` (a field, `-` for descending, ties by ascending id)."""

    limit: int
    order_by: str = "id"
    skip: int = 0
    after: Position | None = None


@dataclass(frozen=True, slots=True)
class PageOf(Generic[M]):
    """A page's rows; the number of rows matching (None after a cursor: not counted);
    whether more rows follow; and where the page ended, for the next cursor."""

    rows: list[M]
    total: int | None
    more: bool
    order_by: str

    @property
    def end(self) -> Position | None:
        if not self.rows:
            return None
        last = self.rows[-1]
        return Position(self.order_by, getattr(last, self.order_by.lstrip("-")), last.id)


class PagedQuerySet(QuerySet[M]):
    """Pages of a list in the contract's orders, by `skip` or by keyset (`after`), and
    their `X-Total-Count`: a `COUNT(*)`, or a count the database keeps (`counted_by`)."""

    _kept_count: Callable[[], Awaitable[int]] | None = None

    def counted_by(self, kept_count: Callable[[], Awaitable[int]]) -> Self:
        """This queryset, counted by `kept_count()` (a `RowCount`, as exact as `COUNT(*)`
        but not growing with the table) instead of `COUNT(*)`. Any later `filter` or
        `exclude` goes back to `COUNT(*)`: the kept count is of these rows only."""
        queryset = self._clone()
        queryset._kept_count = kept_count
        return queryset

    async def total(self) -> int:
        """How many rows this queryset matches (a slice of it: `COUNT(*)` of the slice)."""
        if self._kept_count is not None and self._limit is None and not self._offset:
            return await self._kept_count()
        return await self.count()

    def _clone(self) -> Self:
        queryset = super()._clone()
        queryset._kept_count = self._kept_count
        return queryset

    def _filter_or_exclude(self, *args: Q, negate: bool, **kwargs: Any) -> Self:
        queryset = super()._filter_or_exclude(*args, negate=negate, **kwargs)
        queryset._kept_count = None
        return queryset

    def ordered_by(self, order_by: str) -> Self:
        """`order_by` (a field, `-` for descending), ties broken by ascending id: the
        stable order every list of the contract promises."""
        return self.order_by(*([order_by] if order_by.lstrip("-") == "id" else [order_by, "id"]))

    def after(self, position: Position) -> Self:
        """The rows after `position` in its order (keyset pagination): the order's value,
        then the id. The leading `>=` (or `<=`) bound lets PostgreSQL start an index range
        scan at the position instead of filtering from the first row."""
        field, descending = position.order_by.lstrip("-"), position.order_by.startswith("-")
        if field == "id":
            return (
                self.filter(id__lt=position.id) if descending else self.filter(id__gt=position.id)
            )
        tie = Q(**{field: position.value, "id__gt": position.id})
        if position.value is None:
            null_tie = Q(**{f"{field}__isnull": True, "id__gt": position.id})
            if self._nulls_last(descending):
                return self.filter(null_tie)
            return self.filter(null_tie | Q(**{f"{field}__isnull": False}))
        bound, beyond = ("lte", "lt") if descending else ("gte", "gt")
        keyset = Q(**{f"{field}__{beyond}": position.value}) | tie
        if self._nulls_last(descending):
            keyset |= Q(**{f"{field}__isnull": True})
            return self.filter(keyset)
        return self.filter(Q(**{f"{field}__{bound}": position.value}) & keyset)

    def _nulls_last(self, descending: bool) -> bool:
        """Where NULLs sort: PostgreSQL puts them last ascending, SQLite first."""
        postgres = self.model._meta.db.capabilities.dialect == "postgres"
        return postgres != descending

    def page_of(self, window: Window) -> Self:
        """The rows of one page (and one more after a cursor, to tell if more follow)."""
        rows = self.ordered_by(window.order_by)
        if window.after is not None:
            return rows.after(window.after).limit(window.limit + 1)
        return rows.offset(window.skip).limit(window.limit)

    async def page(self, window: Window) -> "PageOf[M]":
        """One page of model objects, counted (`X-Total-Count`) unless after a cursor."""
        return await self.fetch_page(window, lambda: self.page_of(window))

    async def fetch_page(
        self, window: Window, rows: Callable[[], Awaitable[list[M]]]
    ) -> "PageOf[M]":
        """What `rows()` fetches (this queryset's `page_of(window)`, maybe with its
        relations) as a page."""
        order_by, limit = window.order_by, window.limit
        if window.after is not None:
            fetched = list(await rows())
            return PageOf(fetched[:limit], None, len(fetched) > limit, order_by)
        total = await self.total()
        fetched = list(await rows())
        return PageOf(fetched, total, window.skip + len(fetched) < total, order_by)


def manager_for(queryset_class: type[QuerySet[Any]]) -> Manager:
    """A manager whose querysets are `queryset_class`, for a model's `Meta.manager`."""

    class QuerySetManager(Manager):
        def get_queryset(self) -> QuerySet[Any]:
            return queryset_class(self._model)

    return QuerySetManager()


def is_loaded(instance: Model, relation: str) -> bool:
    """Whether `relation` of `instance` was fetched (`select_related`, `prefetch_related`):
    the response schemas embed it then, and only then. Tortoise keeps a fetched foreign
    key's object, and a reverse relation's container, in the `_<relation>` attribute."""
    fetched = instance.__dict__.get(f"_{relation}")
    if relation in instance._meta.backward_fk_fields:
        return fetched is not None and fetched._fetched
    return f"_{relation}" in instance.__dict__
