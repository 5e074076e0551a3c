"""The fast hydration of app/db/tortoise_ext/hydration.py builds the same objects as Tortoise."""

from typing import Any

import pytest
import tortoise
from tortoise.fields.relational import ReverseRelation
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.db.replicas import PRIMARY
from app.db.tortoise_ext import speedups
from app.db.tortoise_ext.hydration import CHECKED_AGAINST_TORTOISE, FastSelect
from app.models import Item, LoginFailure, User

STOCK = Model._init_from_db.__func__


def test_it_is_pinned_to_the_tortoise_version_it_reproduces():
    assert tortoise.__version__ == CHECKED_AGAINST_TORTOISE, (
        "Tortoise changed: compare Model._init_from_db and BaseExecutor.execute_select "
        "with app/db/tortoise_ext/hydration.py, "
        "then update CHECKED_AGAINST_TORTOISE"
    )


async def _raw_rows(model: type[Model]) -> list[dict]:
    _, rows = await model._meta.db.execute_query(f'SELECT * FROM "{model._meta.db_table}"')
    return [dict(row) for row in rows]


async def test_objects_equal_stock_tortoise_attribute_by_attribute(client, alice, bob):
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    await client.post("/items/", json={"name": "desk", "description": "oak"}, headers=bob.headers)
    await client.post("/auth/token", data={"username": "alice", "password": "wrong-password"})

    for model in (User, Item, LoginFailure):
        rows = await _raw_rows(model)
        assert rows, model
        for row in rows:
            fast, stock = model._init_from_db(**row), STOCK(model, **row)
            assert type(fast) is type(stock)
            assert vars(fast) == vars(stock)
            assert {k: type(v) for k, v in vars(fast).items()} == {
                k: type(v) for k, v in vars(stock).items()
            }


async def test_loaded_objects_save_and_compare_like_stock_ones(client, alice):
    created = await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    item = await Item.get(id=created.json()["id"])

    item.name = "bulb"
    await item.save(update_fields=["name"])

    assert (await Item.get(id=item.id)).name == "bulb"
    assert item == await Item.get(id=item.id) and item.pk == item.id


async def test_partial_rows_take_tortoises_own_path(client, alice):
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)

    (partial,) = await Item.all().only("id", "name")

    assert partial._partial is True and partial.name == "lamp"


def _executors(queryset: QuerySet) -> tuple[type, type]:
    """Tortoise's own executor class for the queryset's database, and it with FastSelect."""
    configured = queryset._choose_db().executor_class
    stock = next(c for c in configured.__mro__ if not issubclass(c, FastSelect))
    return stock, type("Fast", (FastSelect, stock), {})


async def _select(queryset: QuerySet, executor_class: type) -> list[Any]:
    """What awaiting `queryset` gives, with `executor_class` building the objects."""
    query = queryset._clone()
    query._db = query._choose_db()
    query._make_query()
    executor = executor_class(
        model=query.model,
        db=query._db,
        prefetch_map=query._prefetch_map,
        prefetch_queries=query._prefetch_queries,
        select_related_idx=query._select_related_idx,
    )
    sql, values = query.query.get_parameterized_sql()
    return await executor.execute_select(sql, values, custom_fields=list(query._annotations))


def _state(obj: Any) -> dict[str, Any]:
    """An object's attributes with their types, related objects compared the same way."""
    return {key: _value_state(value) for key, value in vars(obj).items()}


def _value_state(value: Any) -> Any:
    if isinstance(value, Model):
        return _state(value)
    if isinstance(value, ReverseRelation):
        return [_state(related) for related in value.related_objects], value._fetched
    return value, type(value)


async def test_the_fast_row_loop_builds_the_objects_stock_tortoise_builds(
    client, alice, bob, monkeypatch
):
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    await client.post("/items/", json={"name": "desk", "description": "oak"}, headers=bob.headers)
    await client.post("/auth/token", data={"username": "alice", "password": "wrong-password"})
    queries = [
        User.all(),
        Item.all(),
        LoginFailure.all(),
        Item.all().select_related("owner"),
        Item.filter(name="lamp").select_related("owner"),
        Item.all().only("id", "name"),  # partial rows: Tortoise's path
        User.all().annotate(n=Count("items")).group_by("id"),  # annotations: Tortoise's path
        User.all().prefetch_related("items"),
    ]
    for queryset in queries:
        stock, fast = _executors(queryset)
        with monkeypatch.context() as stock_tortoise:
            for model in (User, Item, LoginFailure):
                stock_tortoise.setattr(model, "_init_from_db", classmethod(STOCK))
            stock_objects = await _select(queryset, stock)
        fast_objects = await _select(queryset, fast)
        assert stock_objects, queryset.sql()
        assert [_state(o) for o in fast_objects] == [_state(o) for o in stock_objects]
        assert [type(o) for o in fast_objects] == [type(o) for o in stock_objects]


@pytest.mark.skipif(not speedups(), reason="TORTOISE_SPEEDUPS=false: stock Tortoise's executor")
async def test_objects_are_built_by_the_fast_row_loop_in_and_out_of_transactions(client):
    async with in_transaction(PRIMARY) as connection, in_transaction(PRIMARY) as savepoint:
        clients = [User.all()._choose_db(), connection, savepoint]
    assert all(issubclass(db.executor_class, FastSelect) for db in clients)
