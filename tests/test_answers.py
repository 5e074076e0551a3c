"""Answers are written by the writer built from each route's response_model
(app/api/answers.py): the same bytes pydantic writes, for every response model."""

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from app.api.answers import _to_data, writer_for
from app.api.routes import auth, health, items, stats, users
from app.models import Item, User
from app.models.base import Window
from app.schemas.item import ItemPublic, ItemRead
from app.schemas.user import UserPublic, UserRead
from tests.fixtures import Account


def _pydantic(model: Any, content: Any) -> bytes:
    adapter = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(content, from_attributes=True))


def test_every_model_route_answers_through_a_built_writer() -> None:
    """No response model silently takes the slow path: a new shape the writer does not
    cover shows up here."""
    models = {
        route.path: route.response_model
        for module in (auth, users, items, stats, health)
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.response_model is not None
    }
    assert models
    assert [path for path, model in models.items() if _to_data(model) is None] == []


async def test_the_bytes_are_pydantics(client: httpx.AsyncClient, alice: Account) -> None:
    """Plain and embedded shapes, nulls, text JSON must escape, and timestamps with and
    without microseconds."""
    owner = await User.get(id=alice.id)
    await Item.create(name='quote " backslash \\ tab \t nul-free é 😀', owner=owner)
    await Item.create(name="no description", description=None, owner=owner)
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    await Item.filter(name="no description").update(created_at=whole_second)
    await User.create(email="nameless@example.com", hashed_password="x" * 20)

    plain_users = (await User.all().page(Window(10))).rows
    users_with_items = (await User.all().page_with_items(Window(10))).rows
    plain_items = list(await Item.all().order_by("id"))
    items_with_owner = list(await Item.all().order_by("id").select_related("owner"))
    cases = [
        (list[UserRead], plain_users),
        (list[UserRead], users_with_items),
        (UserPublic, plain_users[0]),
        (list[ItemRead], plain_items),
        (list[ItemRead], items_with_owner),
        (ItemPublic, plain_items[0]),
        (list[ItemPublic], plain_items),
    ]
    for model, content in cases:
        assert writer_for(model)(content) == _pydantic(model, content), model


async def test_headers_and_status_set_by_a_route_are_kept(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await client.post("/items/", json={"name": "a"}, headers=alice.headers)
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    listed = await client.get("/items/?limit=1", headers=alice.headers)
    assert listed.headers["X-Total-Count"] == "1"
    me = await client.get("/users/me", headers=alice.headers)
    assert me.headers["ETag"] and me.json()["id"] == alice.id
