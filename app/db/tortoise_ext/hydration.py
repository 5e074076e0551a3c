"""Fast hydration: model objects built from database rows without Tortoise's copies of
every row and its per-attribute `Model.__setattr__`.

Tortoise 1.1.9 builds each object of a query through `execute_select`: the row is copied
into a dict, then a list of items, sliced into another dict, unpacked as keyword arguments
into `Model._init_from_db`, which sets four bookkeeping attributes through the overridden
`Model.__setattr__` and every column with `object.__setattr__`, one call each. That is
done for every query, since a plain one counts as a `select_related` of the model itself.
Profiling a page of 50 users with their 250 items put this row loop and `_init_from_db`
at about a third of the page's CPU.

Here each object's values are read from the row by column name (asyncpg's `Record` and
`sqlite3.Row` both look names up natively) and stored with one `__dict__.update`; a
`select_related` model's columns are read under its join prefix from the same row. What
this does not cover (annotations, `.only()` rows, partial related models) takes
Tortoise's own path. `tests/test_hydration.py` compares the objects with stock
Tortoise's attribute by attribute, through both paths, and pins the Tortoise version.

Upstream-ready: the same in `tortoise/backends/base/executor.py` (`execute_select`) and
`tortoise/models.py` (`Model._init_from_db` taking the row as a mapping), keeping the
fallbacks as they are.
"""

import asyncio
from collections.abc import Mapping
from typing import Any, Self

from tortoise.backends.base.executor import CHUNK_SIZE, BaseExecutor
from tortoise.models import Model

from app.db.tortoise_ext import speedups

# The Tortoise version whose `execute_select` and `_init_from_db` this reproduces.
CHECKED_AGAINST_TORTOISE = "1.1.9"

_Plan = tuple[list[tuple[str, str]], list[tuple[str, str, Any]], list[tuple[str, str, Any]], bool]


class FastHydration(Model):
    class Meta:
        abstract = True

    @classmethod
    def _init_from_db(cls, **kwargs: Any) -> Self:
        instance = cls._from_row(kwargs) if speedups() else None
        return instance if instance is not None else super()._init_from_db(**kwargs)

    @classmethod
    def _from_row(cls, row: Mapping[str, Any], prefix: str = "") -> Self | None:
        """The object whose columns `row` holds (named `prefix` + column); None when a
        column is missing."""
        native, default, complex_, custom_pk = _plan(cls, prefix)
        try:
            values = {attr: row[key] for key, attr in native}
            for key, attr, field_type in default:
                value = row[key]
                values[attr] = value if value is None else field_type(value)
            for key, attr, field in complex_:
                values[attr] = field.to_python_value(row[key])
        except (KeyError, IndexError):  # asyncpg, sqlite3
            return None
        values.update(
            _partial=False, _saved_in_db=True, _custom_generated_pk=custom_pk, _await_when_save={}
        )
        instance = cls.__new__(cls)
        instance.__dict__.update(values)
        return instance


_PLANS: dict[tuple[type[Model], str], _Plan] = {}


def _plan(model: type[Model], prefix: str) -> _Plan:
    """`_init_from_db`'s three kinds of columns, named as the row names them."""
    try:
        return _PLANS[model, prefix]
    except KeyError:
        meta = model._meta
        plan = _PLANS[model, prefix] = (
            [(prefix + key, attr) for key, attr, _ in meta.db_native_fields],
            [(prefix + key, attr, field.field_type) for key, attr, field in meta.db_default_fields],
            [(prefix + key, attr, field) for key, attr, field in meta.db_complex_fields],
            meta.db_pk_column not in meta.generated_db_fields,
        )
        return plan


class FastSelect(BaseExecutor):
    """`execute_select` building every object with `FastHydration._from_row`; mixed into
    a backend's executor class before it."""

    async def execute_select(
        self, sql: str, values: list | None = None, custom_fields: list | None = None
    ) -> list:
        joined = self.select_related_idx
        if custom_fields or not joined or not all(_whole(entry) for entry in joined):
            return await super().execute_select(sql, values, custom_fields)
        _, rows = await self.db.execute_query(sql, values)
        model, width, root = joined[0][0], joined[0][1], tuple(joined[0][-1])
        related = _related_plan(joined, rows[0].keys(), width) if rows and joined[1:] else []
        instances = []
        for index, row in enumerate(rows):
            if index and index % CHUNK_SIZE == 0:
                await asyncio.sleep(0)  # as Tortoise: a huge result does not block the loop
            instance = model._from_row(row)
            by_path: dict[tuple, Any] = {root: instance}
            for related_model, prefix, pk_key, parent_path, path in related:
                obj = None if row[pk_key] is None else related_model._from_row(row, prefix)
                target = by_path.get(parent_path)
                if target is not None:
                    object.__setattr__(target, f"_{path[-1]}", obj)
                if obj is not None:
                    by_path[path] = obj
            instances.append(instance)
        await self._execute_prefetch_queries(instances)
        return instances


def _whole(entry: tuple) -> bool:
    """A `select_related_idx` entry selecting every column of a FastHydration model."""
    model, width = entry[0], entry[1]
    return issubclass(model, FastHydration) and width == len(model._meta.db_fields)


def _related_plan(joined: list, keys: Any, width: int) -> list[tuple]:
    """For each joined model: its class, its columns' prefix in the row (read from the
    row's column names), its primary key's name, and its parent's path and its own."""
    keys = list(keys)
    plan, start = [], width
    for model, model_width, *_, full_path in joined[1:]:
        prefix = keys[start].split(".", 1)[0] + "."
        path = tuple(full_path)
        plan.append((model, prefix, prefix + model._meta.db_pk_column, path[:-1], path))
        start += model_width
    return plan
