"""Chainable query methods on the models, Django-style: a QuerySet subclass per model,
installed through Tortoise's `Meta.manager`, so `Item.filter(...).search(q).page(...)`
reads as one sentence (Django's `Manager.from_queryset`)."""

from typing import Any, Self, TypeVar

from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


class PagedQuerySet(QuerySet[M]):
    def ordered_by(self, order_by: str) -> Self:
        """`order_by` (a field, `-` for descending), ties broken by ascending id: the
        stable order every list of the contract promises."""
        return self.order_by(*([order_by] if order_by.lstrip("-") == "id" else [order_by, "id"]))

    async def page(
        self, skip: int, limit: int, order_by: str, *fields: str
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of rows as dicts of `fields` (`owner__email` for a joined column), and
        the number of rows matching, ignoring skip and limit. Dicts, not model objects:
        building those is what a page costs."""
        total = await self.count()
        rows = await self.ordered_by(order_by).offset(skip).limit(limit).values(*fields)
        return rows, total


def manager_for(queryset_class: type[QuerySet[Any]]) -> Manager:
    """A manager whose querysets are `queryset_class`, for a model's `Meta.manager`."""

    class QuerySetManager(Manager):
        def get_queryset(self) -> QuerySet[Any]:
            return queryset_class(self._model)

    return QuerySetManager()
