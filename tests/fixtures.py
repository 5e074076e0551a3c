"""Fixtures: the migrated test database, the app through its real lifespan, users."""

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from tortoise import connections

from app.db import migrations
from app.db.config import MIGRATIONS_TORTOISE_ORM, TORTOISE_ORM, is_postgres
from app.main import create_app
from app.models import OutboxMail, User
from tests.mail import Mailbox

TABLES = (
    *("idempotency_keys", "auth_sessions", "items", "account_tokens", "users"),
    *("login_failures", "row_counts", "mail_requests", "outbox_mails"),
)
PASSWORD = "correct horse battery"


def _is_postgres() -> bool:
    return is_postgres(TORTOISE_ORM)


async def _server_connection() -> asyncpg.Connection:
    """The server itself (the primary, not a pooler in front of it, in the cluster pass)."""
    server = os.environ.get("TEST_MIGRATIONS_URL") or os.environ["TEST_DATABASE_URL"]
    return await asyncpg.connect(server, statement_cache_size=0)


@pytest.fixture(scope="session", autouse=True)
async def migrated_database() -> AsyncIterator[None]:
    """Create the run's database (PostgreSQL) and build its schema with the migrations."""
    name = TORTOISE_ORM["connections"]["default"]["credentials"].get("database")
    if _is_postgres():
        server = await _server_connection()
        await server.execute(f'CREATE DATABASE "{name}"')
        await server.close()
    await migrations.upgrade(MIGRATIONS_TORTOISE_ORM)
    yield
    if _is_postgres():
        server = await _server_connection()
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


async def empty_tables() -> None:
    connection = connections.get("default")
    if _is_postgres():
        await connection.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        names = ", ".join(f"'{table}'" for table in TABLES)
        await connection.execute_script(
            "".join(f"DELETE FROM {table};" for table in TABLES)
            + f"DELETE FROM sqlite_sequence WHERE name IN ({names});"
        )


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _assert_no_password_hash(response: httpx.Response) -> None:
    """Every response of every test: no password or hash ever leaves the service."""
    body = response.read().decode(errors="replace")
    assert "$argon2" not in body and "$2b$" not in body
    is_json = response.headers.get("content-type", "").startswith("application/json")
    # The OpenAPI schema names the request bodies' `password` field; nothing else may.
    if is_json and body and response.request.url.path != "/openapi.json":
        assert not _keys(response.json()) & {"password", "hashed_password"}


async def _check_response(response: httpx.Response) -> None:
    await response.aread()
    _assert_no_password_hash(response)


@pytest.fixture
async def app(smtp_server: Mailbox) -> AsyncIterator[FastAPI]:
    application = create_app()
    async with LifespanManager(application):
        await empty_tables()
        smtp_server.clear()  # each test sees the mails it caused
        yield application
        # No mail of this test is left for the next app's sender to send at its start.
        await application.state.mail_sender.stop()
        await OutboxMail.all().delete()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"response": [_check_response]},
    ) as http:
        yield http


@dataclass
class Account:
    """A signed-up user as the tests see it: the API's JSON and a bearer header."""

    user: dict[str, Any]
    headers: dict[str, str]
    password: str = PASSWORD
    refresh_token: str = ""

    @property
    def id(self) -> int:
        return self.user["id"]


MakeAccount = Callable[..., Awaitable[Account]]


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **headers: str
) -> dict[str, Any]:
    """A new session: the token pair `POST /auth/token` answers."""
    response = await client.post(
        "/auth/token", data={"username": username, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    return (await sign_in(client, username, password))["access_token"]


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@pytest.fixture
def make_account(client: httpx.AsyncClient) -> MakeAccount:
    """Sign up through the API and sign in; `superuser=True` promotes in the database."""
    counter = 0

    async def make(email: str | None = None, superuser: bool = False, **fields: Any) -> Account:
        nonlocal counter
        counter += 1
        email = email or f"user{counter}@example.com"
        response = await client.post(
            "/users/", json={"email": email, "password": PASSWORD, **fields}
        )
        assert response.status_code == 201, response.text
        user = response.json()
        if superuser:
            await User.filter(id=user["id"]).update(is_superuser=True)
            user["is_superuser"] = True
        tokens = await sign_in(client, email)
        return Account(user, bearer(tokens["access_token"]), refresh_token=tokens["refresh_token"])

    return make


@pytest.fixture
async def alice(make_account: MakeAccount) -> Account:
    return await make_account("alice@example.com", username="alice")


@pytest.fixture
async def bob(make_account: MakeAccount) -> Account:
    return await make_account("bob@example.com", username="bob")


@pytest.fixture
async def admin(make_account: MakeAccount) -> Account:
    return await make_account("admin@example.com", superuser=True)


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends, from its debug log; not the outbox
    sender's (app/core/outbox.py), which runs beside the requests, whenever a mail is due."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if '"outbox_mails"' in message and not message.lstrip().startswith("INSERT"):
            return  # the sender's; a request only ever INSERTs into the outbox
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.statements.append(message)


@pytest.fixture
def query_counter() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(previous)
