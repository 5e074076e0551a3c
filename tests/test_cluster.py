"""Against the cluster of `make cluster`: the app through PgBouncer, plain reads on the
synchronous standby, migrations on the primary directly. Run by `.ci/run` with the
suite's PostgreSQL pass (see README, Scaling out):

    eval "$(deploy/cluster.sh env)"; TEST_DATABASE_URL=... TEST_REPLICA_URLS=... make test
"""

import asyncio
import os

import asyncpg
import httpx
import pytest
from tortoise.transactions import in_transaction

from app.db.replicas import PRIMARY, REPLICAS
from app.models import Item
from tests.fixtures import PASSWORD
from tests.support import REPO, primary_url, serving

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_REPLICA_URLS"), reason="needs the cluster (make cluster)"
    ),
]
ROUNDS = 100


async def _index_scans(url: str, table: str) -> int:
    """Index scans of `table` counted by the node `url` reaches (each node counts its own)."""
    connection = await asyncpg.connect(url, statement_cache_size=0)
    try:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        return await connection.fetchval(
            "SELECT idx_scan FROM pg_stat_user_tables WHERE relname = $1", table
        )
    finally:
        await connection.close()


async def test_plain_reads_land_on_the_replica_and_writes_on_the_primary(client, alice):
    assert REPLICAS.usable, "the replica should be usable"
    created = await client.post("/items/", json={"name": "routed"}, headers=alice.headers)
    item_id = created.json()["id"]
    replica_url = os.environ["DATABASE_REPLICA_URLS"].split(",")[0]
    primary_url = os.environ["MIGRATIONS_DATABASE_URL"]
    before = {url: await _index_scans(url, "items") for url in (primary_url, replica_url)}
    for _ in range(ROUNDS):
        response = await client.get(f"/items/{item_id}", headers=alice.headers)
        assert response.status_code == 200
    await asyncio.sleep(1.5)  # a backend reports its statistics at most once a second
    after = {url: await _index_scans(url, "items") for url in (primary_url, replica_url)}
    on_replica = after[replica_url] - before[replica_url]
    on_primary = after[primary_url] - before[primary_url]
    assert on_replica >= ROUNDS * 0.9, (on_replica, on_primary)
    assert on_primary < ROUNDS * 0.1, (on_replica, on_primary)
    print(f"\nreads: {on_replica} index scans of items on the replica, {on_primary} on the primary")


async def test_a_client_reads_its_own_writes_at_once(client, alice):
    """Each write is acknowledged only once the standby applied it (remote_apply)."""
    for round_ in range(ROUNDS):
        created = await client.post("/items/", json={"name": f"w{round_}"}, headers=alice.headers)
        item = created.json()
        read = await client.get(f"/items/{item['id']}", headers=alice.headers)
        assert read.status_code == 200, round_
        changed = await client.patch(
            f"/items/{item['id']}", json={"name": f"v{round_}"}, headers=alice.headers
        )
        assert changed.status_code == 200
        assert (await client.get(f"/items/{item['id']}", headers=alice.headers)).json()[
            "name"
        ] == f"v{round_}"


async def test_a_read_inside_a_transaction_sees_the_transactions_own_writes(app, alice):
    async with in_transaction(PRIMARY):
        item = await Item.create(name="uncommitted", owner_id=alice.id)
        # Not bound with using_db: the router still sends it to the transaction.
        assert await Item.get_or_none(id=item.id) is not None
        assert await Item.filter(name="uncommitted").count() == 1


async def test_with_every_replica_down_reads_go_to_the_primary(tmp_path):
    """A replica that does not answer is skipped; with none left the primary serves."""
    dead = "postgres://postgres@127.0.0.1:9/nowhere"  # nothing listens on port 9
    async with (
        serving(DATABASE_REPLICA_URLS=dead, LOG_FILE=str(tmp_path / "log")) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        body = {"email": "down@example.com", "password": PASSWORD}
        assert (await http.post("/users/", json=body)).status_code == 201
        form = {"username": body["email"], "password": PASSWORD}
        token = (await http.post("/auth/token", data=form)).json()["access_token"]
        me = await http.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    assert "replicas serving reads: none (primary)" in (tmp_path / "log").read_text()


async def _standby_delay(replica: asyncpg.Connection, seconds: int) -> None:
    """The standby applies WAL `seconds` late (Patroni's recovery_min_apply_delay)."""
    done = await asyncio.create_subprocess_exec(
        str(REPO / "deploy" / "cluster.sh"), "standby-delay", str(seconds)
    )
    assert await done.wait() == 0
    expected = f"{seconds}s" if seconds else "0"
    for _ in range(100):
        if await replica.fetchval("SHOW recovery_min_apply_delay") == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"recovery_min_apply_delay is not {expected}")


async def test_a_lagging_replica_serves_no_reads_until_it_catches_up(tmp_path):
    """The standby applies WAL late while a write commits without waiting for it (the
    writer's own `synchronous_commit = local`): once it is more than
    DB_REPLICA_MAX_LAG_SECONDS behind, the replica serves no reads, so the new row is
    found; when it has caught up, it serves them again."""
    log = tmp_path / "server.log"
    replica = await asyncpg.connect(
        os.environ["DATABASE_REPLICA_URLS"].split(",")[0], statement_cache_size=0
    )
    writer = await asyncpg.connect(primary_url(), statement_cache_size=0)
    try:
        async with (
            serving(DB_REPLICA_MAX_LAG_SECONDS="1", LOG_FILE=str(log)) as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        ):
            body = {"email": "lag@example.com", "password": PASSWORD}
            user_id = (await http.post("/users/", json=body)).json()["id"]
            form = {"username": body["email"], "password": PASSWORD}
            token = (await http.post("/auth/token", data=form)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            await _standby_delay(replica, 30)
            async with writer.transaction():
                await writer.execute("SET LOCAL synchronous_commit = local")
                item_id = await writer.fetchval(
                    "INSERT INTO items (name, owner_id, created_at, updated_at, version) "
                    "VALUES ('late', $1, now(), now(), 1) RETURNING id",
                    user_id,
                )
            await asyncio.sleep(3)  # more than a second behind now
            assert "replicas serving reads: none (primary)" in log.read_text()
            assert (await http.get(f"/items/{item_id}", headers=headers)).status_code == 200
            await _standby_delay(replica, 0)
            await asyncio.sleep(3)
            assert log.read_text().count("replicas serving reads: replica0") == 2
    finally:
        await _standby_delay(replica, 0)
        await replica.close()
        await writer.close()
