"""Sessions: each sign-in starts one; refresh tokens rotate and work once; signing out,
password changes, deactivation and deletion end them."""

import asyncio
import hashlib
import os
from datetime import timedelta

import jwt
import pytest
from tortoise import timezone

from app.core.config import get_settings
from app.core.security import create_refresh_token
from app.models import Session
from tests.fixtures import PASSWORD, bearer, sign_in
from tests.support import primary_url

ROUNDS = 25
INVALID = {"detail": "Invalid refresh token"}


async def _refresh(client, refresh_token):
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def _works(client, tokens) -> bool:
    """Whether the pair's access token is accepted (its refresh token is not spent)."""
    response = await client.get("/users/me", headers=bearer(tokens["access_token"]))
    assert response.status_code in {200, 401}
    return response.status_code == 200


async def _sessions(client, headers):
    response = await client.get("/auth/sessions", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _rows():
    return await Session.all().order_by("id").values()


def _pair_shape(body):
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_expire_minutes * 60


async def test_sign_in_answers_a_token_pair_of_a_new_session(client, alice):
    body = await sign_in(client, "alice", **{"User-Agent": "curl/8.5"})

    _pair_shape(body)
    assert await _works(client, body)
    sessions = await _sessions(client, bearer(body["access_token"]))
    assert [s["current"] for s in sessions] == [False, True]  # the fixture's, this one
    assert sessions[0]["user_agent"].startswith("python-httpx/")
    assert sessions[1]["user_agent"] == "curl/8.5"
    row = await Session.get(id=sessions[1]["id"])
    secret = jwt.decode(body["refresh_token"], options={"verify_signature": False})["jti"]
    stored = str(await Session.filter(id=row.id).values())
    assert body["refresh_token"] not in stored and secret not in stored
    assert row.refresh_hash == hashlib.sha256(secret.encode()).hexdigest()
    days = get_settings().refresh_token_days
    assert row.refresh_expires_at - row.last_used_at == timedelta(days=days)


async def test_refresh_rotates_the_pair_and_keeps_the_session(client, alice):
    before = await _sessions(client, alice.headers)

    response = await _refresh(client, alice.refresh_token)

    assert response.status_code == 200, response.text
    body = response.json()
    _pair_shape(body)
    assert body["refresh_token"] != alice.refresh_token
    assert await _works(client, body)
    after = await _sessions(client, bearer(body["access_token"]))
    assert [s["id"] for s in after] == [s["id"] for s in before]
    assert after[0]["last_used_at"] > before[0]["last_used_at"]
    assert after[0]["created_at"] == before[0]["created_at"]
    assert await _works(client, {"access_token": alice.headers["Authorization"][7:]})
    second = await _refresh(client, body["refresh_token"])  # the new one works, once
    assert second.status_code == 200


async def test_a_used_refresh_token_is_refused_and_ends_its_session(client, alice):
    rotated = (await _refresh(client, alice.refresh_token)).json()

    reused = await _refresh(client, alice.refresh_token)

    assert reused.status_code == 401 and reused.json() == INVALID
    assert reused.headers["WWW-Authenticate"] == "Bearer"
    assert not await _works(client, rotated)  # the thief's or the owner's: both end
    assert (await _refresh(client, rotated["refresh_token"])).json() == INVALID
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    other = await sign_in(client, "alice")  # a new sign-in is a new session
    assert await _works(client, other)


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "tampered",
        "other-key",
        "unknown-session",
        "access-token",
        "unsigned",
        "empty",
    ],
)
async def test_unknown_or_altered_refresh_tokens_are_401_and_change_nothing(client, alice, kind):
    session_id = (await _sessions(client, alice.headers))[0]["id"]
    other_key = "another-secret-that-is-long-enough-0000"
    forged = {
        "garbage": "not-a-token",
        "tampered": _tampered(alice.refresh_token),
        "other-key": jwt.encode(
            {"typ": "refresh", "sid": session_id, "jti": "x"}, other_key, "HS256"
        ),
        "unknown-session": create_refresh_token(session_id + 1000, "x"),
        "access-token": alice.headers["Authorization"].removeprefix("Bearer "),
        "unsigned": jwt.encode({"typ": "refresh", "sid": session_id, "jti": "x"}, None, "none"),
        "empty": "",
    }[kind]
    before = await _rows()

    response = await _refresh(client, forged)

    assert response.status_code == 401 and response.json() == INVALID
    assert await _rows() == before
    assert (await _refresh(client, alice.refresh_token)).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refresh_token": 5}, {"refresh_token": "x" * 1025}])
async def test_a_malformed_refresh_body_is_422(client, alice, body):
    response = await client.post("/auth/refresh", json=body)

    assert response.status_code == 422


async def test_an_expired_refresh_token_is_401_and_its_session_is_over(client, alice):
    await Session.filter(user_id=alice.id).update(
        refresh_expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = await _refresh(client, alice.refresh_token)

    assert response.status_code == 401 and response.json() == INVALID
    fresh = await sign_in(client, "alice")
    assert len(await _sessions(client, bearer(fresh["access_token"]))) == 1  # only the new


async def test_logout_ends_the_callers_session_only(client, alice):
    other = await sign_in(client, "alice")

    response = await client.post("/auth/logout", headers=alice.headers)

    assert response.status_code == 204 and response.content == b""
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await _refresh(client, alice.refresh_token)).json() == INVALID
    assert (await client.post("/auth/logout", headers=alice.headers)).status_code == 401
    assert await _works(client, other)
    assert (await _refresh(client, other["refresh_token"])).status_code == 200


async def test_logout_all_ends_every_session_of_the_caller_only(client, alice, bob):
    other = await sign_in(client, "alice")

    response = await client.post("/auth/logout?all=true", headers=alice.headers)

    assert response.status_code == 204
    assert not await _works(client, other)
    for refresh_token in (alice.refresh_token, other["refresh_token"]):
        assert (await _refresh(client, refresh_token)).json() == INVALID
    assert (await client.get("/users/me", headers=bob.headers)).status_code == 200


async def test_sessions_lists_the_callers_live_sessions_with_the_current_one(client, alice, bob):
    second = await sign_in(client, "alice", **{"User-Agent": "phone " + "x" * 300})
    third = await sign_in(client, "alice")
    await client.post("/auth/logout", headers=bearer(third["access_token"]))

    response = await client.get("/auth/sessions", headers=bearer(second["access_token"]))

    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "2"
    sessions = response.json()
    assert [s["current"] for s in sessions] == [False, True]
    assert set(sessions[0]) == {"id", "created_at", "last_used_at", "user_agent", "current"}
    assert sessions[1]["user_agent"] == ("phone " + "x" * 300)[:255]
    assert sessions[1]["created_at"].endswith("+00:00")
    assert {s["id"] for s in await _sessions(client, bob.headers)}.isdisjoint(
        s["id"] for s in sessions
    )
    newest_first = await client.get(
        "/auth/sessions?order_by=-created_at&limit=1", headers=alice.headers
    )
    assert [s["id"] for s in newest_first.json()] == [sessions[1]["id"]]
    assert newest_first.headers["X-Total-Count"] == "2"


async def test_ending_one_of_ones_own_sessions(client, alice):
    other = await sign_in(client, "alice")
    other_id = (await _sessions(client, bearer(other["access_token"])))[-1]["id"]

    response = await client.delete(f"/auth/sessions/{other_id}", headers=alice.headers)

    assert response.status_code == 204
    assert not await _works(client, other)
    assert (await _refresh(client, other["refresh_token"])).json() == INVALID
    again = await client.delete(f"/auth/sessions/{other_id}", headers=alice.headers)
    assert again.status_code == 404 and again.json() == {"detail": "Session not found"}
    assert [s["current"] for s in await _sessions(client, alice.headers)] == [True]


async def test_another_users_or_a_missing_session_is_404_and_stays(client, alice, bob, admin):
    bobs = (await _sessions(client, bob.headers))[0]["id"]
    before = await _rows()

    for caller in (alice, admin):
        response = await client.delete(f"/auth/sessions/{bobs}", headers=caller.headers)
        assert response.status_code == 404 and response.json() == {"detail": "Session not found"}
    missing = await client.delete(f"/auth/sessions/{bobs + 1000}", headers=alice.headers)

    assert missing.status_code == 404
    assert await _rows() == before
    assert (await client.get("/users/me", headers=bob.headers)).status_code == 200


async def test_ending_the_current_session_signs_out(client, alice):
    (current,) = await _sessions(client, alice.headers)

    response = await client.delete(f"/auth/sessions/{current['id']}", headers=alice.headers)

    assert response.status_code == 204
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401


async def test_a_password_change_ends_every_session(client, alice):
    other = await sign_in(client, "alice")

    changed = await client.patch(
        f"/users/{alice.id}", json={"password": "a brand new one"}, headers=alice.headers
    )

    assert changed.status_code == 200
    for pair in ({"access_token": alice.headers["Authorization"][7:]}, other):
        assert not await _works(client, pair)
    for refresh_token in (alice.refresh_token, other["refresh_token"]):
        assert (await _refresh(client, refresh_token)).json() == INVALID
    fresh = await sign_in(client, "alice", "a brand new one")
    assert len(await _sessions(client, bearer(fresh["access_token"]))) == 1


async def test_deactivation_ends_every_session_even_after_reactivation(client, alice, admin):
    await client.patch(f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers)
    assert (await _refresh(client, alice.refresh_token)).json() == INVALID
    await client.patch(f"/users/{alice.id}", json={"is_active": True}, headers=admin.headers)

    assert (await _refresh(client, alice.refresh_token)).json() == INVALID
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401


async def test_deletion_ends_every_session_and_drops_them(client, alice, bob):
    deleted = await client.delete(f"/users/{alice.id}", headers=alice.headers)

    assert deleted.status_code == 204
    assert (await _refresh(client, alice.refresh_token)).json() == INVALID
    assert not await Session.exists(user_id=alice.id)
    assert await Session.exists(user_id=bob.id)
    recreated = await client.post(
        "/users/", json={"email": "alice@example.com", "password": PASSWORD}
    )
    assert recreated.status_code == 201
    assert (await _refresh(client, alice.refresh_token)).json() == INVALID


async def test_a_sign_in_drops_the_users_sessions_that_are_over(client, alice, bob):
    await client.post("/auth/logout", headers=alice.headers)

    await sign_in(client, "alice")

    assert await Session.filter(user_id=alice.id, ended_at__isnull=False).count() == 0
    assert await Session.filter(user_id=bob.id).count() == 1


async def _both_outcomes(client, refresh_token):
    first, second = await asyncio.gather(
        _refresh(client, refresh_token), _refresh(client, refresh_token)
    )
    return sorted((first.status_code, second.status_code)), [
        r.json() for r in (first, second) if r.status_code == 200
    ]


async def _assert_session_over(client, session_id, pairs):
    ended = await Session.get(id=session_id)
    assert ended.ended_at is not None
    for pair in pairs:  # the one pair a refresh may have answered is dead too
        assert not await _works(client, pair)
        assert (await _refresh(client, pair["refresh_token"])).json() == INVALID


async def test_two_refreshes_of_one_token_give_at_most_one_pair_and_end_the_session(client, alice):
    for _ in range(ROUNDS):
        tokens = await sign_in(client, "alice")
        session_id = (await _sessions(client, bearer(tokens["access_token"])))[-1]["id"]

        statuses, pairs = await _both_outcomes(client, tokens["refresh_token"])

        assert statuses in ([200, 401], [401, 401]), statuses
        await _assert_session_over(client, session_id, pairs)


ON_POSTGRES = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="holds a row lock from a second connection",
)


@ON_POSTGRES
async def test_two_refreshes_that_overlap_in_the_database_never_both_rotate(client, alice):
    """Both UPDATEs queue on the session's row (held by another connection), then race
    for it when it is released: the second must see the first's rotation."""
    import asyncpg

    for _ in range(ROUNDS):
        tokens = await sign_in(client, "alice")
        session_id = (await _sessions(client, bearer(tokens["access_token"])))[-1]["id"]
        holder = await asyncpg.connect(primary_url())
        try:
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute("SELECT 1 FROM auth_sessions WHERE id = $1 FOR UPDATE", session_id)
            both = asyncio.create_task(_both_outcomes(client, tokens["refresh_token"]))
            await _until_both_wait(holder)
            await transaction.rollback()
            statuses, pairs = await both
        finally:
            await holder.close()

        # The winner's own check may already see the session the loser ended: two 401s.
        assert statuses in ([200, 401], [401, 401]), statuses
        await _assert_session_over(client, session_id, pairs)


async def _until_both_wait(holder) -> None:
    for _ in range(3000):  # a minute at most
        if await holder.fetchval(WAITING_UPDATES) >= 2:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the two refreshes never both waited for the session's row")


# pg_locks, not pg_stat_activity: inside a transaction, the statistics views answer from
# a snapshot taken at their first read.
WAITING_UPDATES = "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"


async def test_the_token_check_is_still_one_query(client, alice, query_counter):
    response = await client.get("/users/me", headers=alice.headers)

    assert response.status_code == 200
    (statement,) = query_counter.statements  # the user joined with the live session
    assert "auth_sessions" in statement and "ended_at" in statement
