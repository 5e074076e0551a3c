"""The compiled equality lookups (app/db/tortoise_ext/lookups.py) answer as stock Tortoise."""

from typing import Any

import pytest
from tortoise.exceptions import MultipleObjectsReturned
from tortoise.models import Model
from tortoise.transactions import in_transaction

from app.db.replicas import PRIMARY
from app.db.tortoise_ext import lookups, speedups
from app.models import Item, User
from tests.test_hydration import _state


def _stock_get_or_none(model: type[Model], **kwargs: Any) -> Any:
    return Model.get_or_none.__func__(model, **kwargs)


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(lookups, "_COMPILED", {})
    return lookups._COMPILED


@pytest.mark.skipif(not speedups(), reason="TORTOISE_SPEEDUPS=false: stock Tortoise's lookups")
async def test_plain_lookups_answer_as_stock_tortoise_and_are_compiled_once(
    client, alice, bob, fresh_cache
):
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    user = await User.get(id=alice.id)
    lookups_to_try: list[tuple[type[Model], dict[str, Any]]] = [
        (User, {"id": user.id}),
        (User, {"id": user.id, "is_active": True, "token_version": user.token_version}),
        (User, {"id": user.id, "is_active": False, "token_version": user.token_version}),
        (User, {"email": alice.user["email"]}),
        (User, {"id": 999_999}),
        (Item, {"name": "lamp"}),
    ]
    for model, kwargs in lookups_to_try * 2:  # the second round runs the compiled SQL
        fast = await model.get_or_none(**kwargs)
        stock = await _stock_get_or_none(model, **kwargs)
        assert (fast is None) == (stock is None), (model, kwargs)
        if stock is not None:
            assert type(fast) is type(stock) and _state(fast) == _state(stock)
    assert len(fresh_cache) == 4 and all(fresh_cache.values())  # six lookups, four shapes
    for (model, _, fields), (sql, _) in fresh_cache.items():
        stock_query = _stock_get_or_none(model, **dict.fromkeys(fields, 1))
        stock_query._make_query()
        assert sql == stock_query.query.get_parameterized_sql()[0]


async def test_other_lookups_take_tortoises_own_path(client, alice, fresh_cache):
    user = await User.get(id=alice.id)

    assert (await User.get_or_none(email__icontains="ALICE")).id == user.id
    assert (await User.get_or_none(username=None)) is None  # alice has a username
    assert (await User.get_or_none(id=user.id, username__isnull=False)).id == user.id
    assert fresh_cache == {}


async def test_a_second_match_is_an_error_as_in_tortoise(client, alice, fresh_cache):
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)
    await client.post("/items/", json={"name": "lamp"}, headers=alice.headers)

    for _ in range(2):
        with pytest.raises(MultipleObjectsReturned):
            await Item.get_or_none(name="lamp")


async def test_inside_a_transaction_the_lookup_reads_the_transactions_own_writes(
    client, alice, fresh_cache
):
    user = await User.get(id=alice.id)
    await User.get_or_none(id=user.id, version=user.version + 1)  # compiled outside

    async with in_transaction(PRIMARY) as connection:
        await User.filter(id=user.id).using_db(connection).update(version=user.version + 1)
        seen = await User.get_or_none(id=user.id, version=user.version + 1)
        seen_through = await User.get_or_none(
            id=user.id, version=user.version + 1, using_db=connection
        )
        await connection.rollback()

    assert seen is not None and seen_through is not None
    assert await User.get_or_none(id=user.id, version=user.version + 1) is None


@pytest.mark.skipif(not speedups(), reason="TORTOISE_SPEEDUPS=false: stock Tortoise's query")
async def test_the_compiled_token_check_answers_as_tortoises_own_query(
    client, alice, bob, monkeypatch
):
    """`User.by_token` (the user joined with the live session, compiled once) against the
    same query through Tortoise, for a live session, another user's, an ended one, a
    stale version and unknown ids."""
    monkeypatch.setattr(lookups, "_QUERIES", {})
    session_of = {}
    for account in (alice, bob):
        (listed,) = (await client.get("/auth/sessions", headers=account.headers)).json()
        session_of[account.id] = listed["id"]
    ended = (
        await client.post("/auth/token", data={"username": "alice", "password": alice.password})
    ).json()
    ended_id = max(session_of.values()) + 1
    await client.post("/auth/logout", headers={"Authorization": f"Bearer {ended['access_token']}"})
    cases = [
        (alice.id, 0, session_of[alice.id]),
        (alice.id, 0, session_of[bob.id]),
        (bob.id, 0, session_of[bob.id]),
        (alice.id, 0, ended_id),
        (alice.id, 1, session_of[alice.id]),
        (999_999, 0, session_of[alice.id]),
    ]
    for args in cases * 2:  # the first call compiles, every call runs the compiled SQL
        fast = await User.by_token(*args)
        stock = await User._by_token(*args).first()
        assert (fast is None) == (stock is None), args
        if stock is not None:
            assert _state(fast) == _state(stock)
    assert [await User.by_token(*args) is not None for args in cases] == [
        True,
        False,
        True,
        False,
        False,
        False,
    ]
    assert list(lookups._QUERIES) == [("User.by_token", User._meta.db.capabilities.dialect)]
    assert all(lookups._QUERIES.values())  # compiled, not Tortoise's path
