"""`GET /metrics`: what it counts, with which labels, and to whom it answers."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import get_settings
from tests.fixtures import PASSWORD


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_never_by_raw_path(client, alice):
    before = await scrape(client)
    for _ in range(2):
        assert (await client.get(f"/users/{alice.id}", headers=alice.headers)).status_code == 200
    assert (await client.get("/users/987654", headers=alice.headers)).status_code == 404
    after = await scrape(client)

    route = {"method": "GET", "route": "/users/{user_id}"}
    ok, missing = ({**route, "status": status} for status in ("200", "404"))
    assert (
        value(after, "http_requests_total", **ok) - value(before, "http_requests_total", **ok) == 2
    )
    assert (
        value(after, "http_requests_total", **missing)
        - value(before, "http_requests_total", **missing)
        == 1
    )
    count = "http_request_duration_seconds_count"
    assert value(after, count, **route) - value(before, count, **route) == 3
    label_values = {v for (_, labels) in after for _, v in labels}
    assert not any(str(alice.id) in v or "987654" in v for v in label_values if "/" in v)


async def test_unknown_paths_and_methods_share_bounded_labels(client):
    for path in ("/nowhere/1", "/nowhere/2", "/wp-admin.php"):
        await client.get(path)
    await client.request("BREW", "/health/live")
    samples = await scrape(client)

    routes = {dict(labels).get("route") for (name, labels) in samples if name.startswith("http_")}
    assert "unmatched" in routes
    assert not {"/nowhere/1", "/nowhere/2", "/wp-admin.php"} & routes
    methods = {dict(labels).get("method") for (name, labels) in samples if name.startswith("http_")}
    assert "OTHER" in methods and "BREW" not in methods


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum over the series of `name` that have these labels (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, series), v in samples.items() if n == name and wanted <= series)


async def test_statements_and_the_pool_are_measured(client, alice):
    before = await scrape(client)
    await client.get("/users/me", headers=alice.headers)
    after = await scrape(client)

    # On the primary, or a replica when DATABASE_REPLICA_URLS is set (the cluster pass).
    for name in ("db_queries_total", "db_query_duration_seconds_count"):
        grown = total(after, name, operation="SELECT") - total(before, name, operation="SELECT")
        assert grown >= 1, name
    pools = {dict(series)["database"]: v for (n, series), v in after.items() if n == "db_pool_size"}
    assert "default" in pools and max(pools.values()) >= 1, pools
    for database in pools:
        assert ("db_pool_in_use", frozenset({("database", database)})) in after


async def test_failed_and_throttled_logins_are_counted(client, alice):
    before = await scrape(client)
    wrong = {"username": alice.user["email"], "password": "not " + PASSWORD}
    answers = [(await client.post("/auth/token", data=wrong)).status_code for _ in range(6)]
    after = await scrape(client)

    assert answers == [401] * 5 + [429]
    for outcome, expected in (("failed", 5), ("throttled", 1)):
        grown = value(after, "logins_total", outcome=outcome) - value(
            before, "logins_total", outcome=outcome
        )
        assert grown == expected, outcome


async def _get_from(app, address: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        return await other.get("/metrics")


async def test_other_addresses_get_the_404_of_a_path_that_does_not_exist(app, client):
    refused = await _get_from(app, "192.0.2.10")
    unknown = await client.get("/no-such-page")

    assert refused.status_code == 404
    assert refused.json() == unknown.json()
    assert "http_requests" not in refused.text


async def test_metrics_allow_ips_takes_networks(app, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_allow_ips", ["10.0.0.0/8", "::1"])

    assert (await _get_from(app, "10.20.30.40")).status_code == 200
    assert (await _get_from(app, "::1")).status_code == 200
    assert (await _get_from(app, "127.0.0.1")).status_code == 404


@pytest.mark.parametrize("entry", ["everyone", "10.0.0.0/33", "*"])
def test_a_metrics_allow_ips_entry_that_is_no_address_is_refused_at_start(entry):
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(
        ValidationError, match="METRICS_ALLOW_IPS must list IP addresses or networks"
    ):
        Settings(metrics_allow_ips=entry)


async def test_a_transactions_own_statements_are_measured_too(client, alice):
    before = await scrape(client)
    changed = await client.patch(
        f"/users/{alice.id}", json={"username": "alice-again"}, headers=alice.headers
    )
    after = await scrape(client)

    assert changed.status_code == 200, changed.text
    for operation in ("BEGIN", "COMMIT", "UPDATE"):
        labels = {"database": "default", "operation": operation, "outcome": "ok"}
        grown = value(after, "db_queries_total", **labels) - value(
            before, "db_queries_total", **labels
        )
        assert grown >= 1, operation
