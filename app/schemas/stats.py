"""What `GET /stats` and `GET /health` answer."""

from typing import Literal

from pydantic import BaseModel


class TopOwner(BaseModel):
    user_id: int
    items: int


class Stats(BaseModel):
    users: int
    active_users: int
    items: int
    top_owners: list[TopOwner]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
