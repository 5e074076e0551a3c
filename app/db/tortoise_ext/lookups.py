"""Compiled lookups: `Model.get_or_none(field=value, ...)` without building its SQL again.

Tortoise 1.1.9 builds every query from scratch: a QuerySet clone, the filters resolved
into pypika terms, the SQL rendered. For an equality lookup on three fields that is about
180 µs of CPU on the benchmark machine, more than the round trip to PostgreSQL; for the
token check every request makes (the user joined with the token's session,
`first_compiled` below) about 1.2 ms on SQLite, against 0.3 ms compiled. But the SQL of
an equality lookup depends only on the model, the field names and the dialect: here
Tortoise builds it once, it is kept, and later calls bind the values converted as
Tortoise converts them (`field.to_db_value`) and run it through the database's own
executor, so the objects are built as for any query. The first build checks that the
values it would bind are exactly those Tortoise bound; a lookup that is not plain (Q
objects, `__` lookups, None, relations, expressions) takes Tortoise's own path.
`tests/test_lookups.py` checks both paths against stock Tortoise.

Upstream-ready: the same cache inside `QuerySet.get_or_none`/`get`, keyed by (model,
dialect, field names).

`first_compiled` does the same for a named query whose only inputs are ints: compiled
once with probe values, each bound parameter is then an input's place or a constant.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Self

from pypika_tortoise.terms import Term
from tortoise import BaseDBAsyncClient
from tortoise.exceptions import MultipleObjectsReturned
from tortoise.expressions import Expression
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.db.tortoise_ext import speedups

# What Tortoise's `get_or_none` asks for: two rows, so that a second one is an error.
_LIMIT = 2
_Compiled = tuple[str, list[Any]] | None
_COMPILED: dict[tuple[type[Model], str, tuple[str, ...]], _Compiled] = {}


class CompiledLookups(Model):
    class Meta:
        abstract = True

    @classmethod
    def get_or_none(  # type: ignore[override]
        cls, *args: Any, using_db: BaseDBAsyncClient | None = None, **kwargs: Any
    ) -> Awaitable[Self | None]:
        """As Tortoise's; a plain equality lookup reuses its compiled SQL."""
        if (
            args
            or not kwargs
            or not speedups()
            or not all(_plain(cls, key, value) for key, value in kwargs.items())
        ):
            return super().get_or_none(*args, using_db=using_db, **kwargs)
        return _get_or_none(cls, using_db or cls._choose_db(), kwargs)


def _plain(model: type[Model], key: str, value: Any) -> bool:
    """A filter Tortoise turns into `column = <value converted by the field>`."""
    meta = model._meta
    if key not in meta.fields_db_projection or key not in meta.filters:
        return False
    if value is None or isinstance(value, Term | Expression | Model):
        return False
    info = meta.get_filter(key)
    field = meta.fields_map[key]
    return (
        "table" not in info
        and "value_encoder" not in info
        and field.get_for_dialect(meta.db.capabilities.dialect, "function_cast") is None
    )


async def _get_or_none(model: type[Any], db: BaseDBAsyncClient, kwargs: dict[str, Any]) -> Any:
    fields = model._meta.fields_map
    values = [fields[key].to_db_value(value, model) for key, value in kwargs.items()]
    key = (model, db.capabilities.dialect, tuple(kwargs))
    if key not in _COMPILED:
        _COMPILED[key] = _compile(model, db, kwargs, values)
    compiled = _COMPILED[key]
    if compiled is None:
        return await model._db_queryset(db).get_or_none(**kwargs)
    sql, select_related_idx = compiled
    executor = db.executor_class(model=model, db=db, select_related_idx=select_related_idx)
    rows = await executor.execute_select(sql, [*values, _LIMIT])
    if len(rows) > 1:
        raise MultipleObjectsReturned(model)
    return rows[0] if rows else None


def _compile(
    model: type[Any], db: BaseDBAsyncClient, kwargs: dict[str, Any], values: list[Any]
) -> _Compiled:
    """Tortoise's own SQL for the lookup, if it binds exactly `values` and the limit."""
    queryset = model._db_queryset(db).get_or_none(**kwargs)
    queryset._make_query()
    sql, bound = queryset.query.get_parameterized_sql()
    if bound != [*values, _LIMIT]:
        return None
    return sql, queryset._select_related_idx


# Compiled queries: any query whose only varying inputs are ints (ids, versions), for the
# one a request always makes, the token check joined with its session (`User.by_token`).
# Compiled once per name and dialect with probe values no real input takes; each bound
# parameter of Tortoise's SQL is then either a probe (an input's place) or a constant.
_PROBE = -1_000_000_001
_Slots = list[tuple[int | None, Any]]
_Query = tuple[str, _Slots, type[Model], Any]
_QUERIES: dict[tuple[str, str], _Query | None] = {}


async def first_compiled(
    name: str, db: BaseDBAsyncClient, build: Callable[..., QuerySet[Any]], *args: int
) -> Any:
    """`await build(*args).first()`, on `db`, with the SQL that `build` makes compiled
    once: `build` must give the same query, only with other values, for any ints."""
    if not speedups():
        return await build(*args).using_db(db).first()
    key = (name, db.capabilities.dialect)
    if key not in _QUERIES:
        _QUERIES[key] = _compile_query(db, build, len(args))
    compiled = _QUERIES[key]
    if compiled is None:
        return await build(*args).using_db(db).first()
    sql, slots, model, select_related_idx = compiled
    values = [value if index is None else args[index] for index, value in slots]
    executor = db.executor_class(model=model, db=db, select_related_idx=select_related_idx)
    rows = await executor.execute_select(sql, values)
    return rows[0] if rows else None


def _compile_query(
    db: BaseDBAsyncClient, build: Callable[..., QuerySet[Any]], arity: int
) -> _Query | None:
    """Tortoise's SQL for `build(*probes).first()`, and where each input goes; None when
    a probe is not a bound parameter (then Tortoise's own path every time)."""
    probes = [_PROBE - index for index in range(arity)]
    queryset = build(*probes).using_db(db).limit(1)
    queryset._make_query()
    sql, bound = queryset.query.get_parameterized_sql()
    slots: _Slots = [
        (probes.index(value), None) if type(value) is int and value in probes else (None, value)
        for value in bound
    ]
    if {index for index, _ in slots if index is not None} != set(range(arity)):
        return None
    return sql, slots, queryset.model, queryset._select_related_idx
