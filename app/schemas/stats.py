"""What `GET /stats` and the health probes answer."""

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


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    migrations: Literal["ok", "pending", "unknown"]
