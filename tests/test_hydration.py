"""The fast hydration of app/models/hydration.py builds the same objects as Tortoise."""

import tortoise
from tortoise.models import Model

from app.models import Item, LoginFailure, User
from app.models.hydration import CHECKED_AGAINST_TORTOISE

STOCK = Model._init_from_db.__func__


def test_it_is_pinned_to_the_tortoise_version_it_reproduces():
    assert tortoise.__version__ == CHECKED_AGAINST_TORTOISE, (
        "Tortoise changed: compare Model._init_from_db with app/models/hydration.py, "
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
