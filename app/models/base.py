"""The models' common base, and their chainable query methods, Django-style: a QuerySet
subclass per model, installed through Tortoise's `Meta.manager`, so
`Item.filter(...).search(q).page(...)` reads as one sentence (Django's
`Manager.from_queryset`)."""

from typing import Any, Self, TypeVar

from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.db.hydration import FastHydration
from app.db.lookups import CompiledLookups

M = TypeVar("M", bound=Model)


class AppModel(CompiledLookups, FastHydration):
    """Tortoise's Model, with objects built from rows by the fast row loop and equality
    lookups (`get_or_none`) that reuse their compiled SQL: see `app/db/`."""

    class Meta:
        abstract = True


class PagedQuerySet(QuerySet[M]):
    def ordered_by(self, order_by: str) -> Self:
        """`order_by` (a field, `-` for descending), ties broken by ascending id: the
        stable order every list of the contract promises."""
        return self.order_by(*([order_by] if order_by.lstrip("-") == "id" else [order_by, "id"]))

    def page_of(self, skip: int, limit: int, order_by: str) -> Self:
        """The rows of one page, in the contract's stable order."""
        return self.ordered_by(order_by).offset(skip).limit(limit)

    async def page(self, skip: int, limit: int, order_by: str) -> tuple[list[M], int]:
        """One page of model objects, and the number of rows matching, ignoring skip and
        limit (for `X-Total-Count`)."""
        total = await self.count()
        return await self.page_of(skip, limit, order_by), total


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
