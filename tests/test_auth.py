"""`POST /auth/token` and bearer-token checks on every protected route."""

import asyncio
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
import pytest
from passlib.context import CryptContext

from app.core.config import get_settings
from app.core.security import create_access_token
from app.models import LoginFailure, User
from tests.fixtures import PASSWORD, login


async def _login(client, username, password=PASSWORD):
    return await client.post("/auth/token", data={"username": username, "password": password})


@pytest.mark.parametrize("username", ["alice@example.com", "ALICE@EXAMPLE.COM", "alice", "ALICE"])
async def test_login_by_email_or_username_in_any_case(client, alice, username):
    response = await _login(client, username)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == alice.id


async def test_wrong_password_and_unknown_account_get_the_same_401(client, alice):
    wrong = await _login(client, "alice@example.com", "wrong password")
    unknown = await _login(client, "nobody@example.com", "wrong password")

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect email or password"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_account_still_costs_a_password_verification(client, monkeypatch):
    """So response time does not tell which emails are registered."""
    calls = []
    original = CryptContext.verify

    def counting_verify(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CryptContext, "verify", counting_verify)

    response = await _login(client, "nobody@example.com", "whatever password")

    assert response.status_code == 401
    assert len(calls) == 1


async def test_inactive_account_right_password_is_400_wrong_password_is_401(client, alice):
    await User.filter(id=alice.id).update(is_active=False)

    right = await _login(client, "alice@example.com")
    wrong = await _login(client, "alice@example.com", "not the password")

    assert (right.status_code, right.json()) == (400, {"detail": "Inactive user"})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Incorrect email or password"})


async def test_login_form_fields_are_required(client):
    response = await client.post("/auth/token", data={"username": "a@example.com"})

    assert response.status_code == 422


async def test_repeated_failures_get_429_with_retry_after_whatever_the_case(client, alice):
    limit = get_settings().login_max_failures
    spellings = ["alice@example.com", "ALICE@example.com", "Alice@Example.Com", "alice"]
    for attempt in range(limit):
        response = await _login(client, spellings[attempt % len(spellings)], "bad password")
        assert response.status_code == 401

    blocked = await _login(client, "ALICE@EXAMPLE.COM", "bad password")
    blocked_even_with_right_password = await _login(client, "alice@example.com")

    for response in (blocked, blocked_even_with_right_password):
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "detail" in response.json()


async def test_lockout_ends_when_the_window_has_passed(client, alice):
    for _ in range(get_settings().login_max_failures):
        await _login(client, "alice@example.com", "bad password")
    window = timedelta(seconds=get_settings().login_failure_window_seconds + 1)
    await LoginFailure.all().update(window_started_at=datetime.now(UTC) - window)

    response = await _login(client, "alice@example.com")

    assert response.status_code == 200


async def test_a_successful_login_resets_the_failure_count(client, alice):
    limit = get_settings().login_max_failures
    for _ in range(limit - 1):
        await _login(client, "alice@example.com", "bad password")
    assert (await _login(client, "alice@example.com")).status_code == 200

    for _ in range(limit - 1):
        assert (await _login(client, "alice@example.com", "bad password")).status_code == 401
    assert (await _login(client, "alice@example.com")).status_code == 200


async def test_failures_for_one_account_do_not_lock_another(client, alice, bob):
    for _ in range(get_settings().login_max_failures + 1):
        await _login(client, "alice@example.com", "bad password")

    assert (await _login(client, "bob@example.com")).status_code == 200


async def test_bcrypt_hash_is_verified_and_rehashed_to_argon2_on_login(client, alice):
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await User.filter(id=alice.id).update(hashed_password=legacy)

    response = await _login(client, "alice@example.com")

    assert response.status_code == 200
    stored = (await User.get(id=alice.id)).hashed_password
    assert stored.startswith("$argon2id$")
    assert (await _login(client, "alice@example.com")).status_code == 200


# --- bearer tokens ------------------------------------------------------------------------


def _token(user_id, *, secret=None, **overrides):
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "ver": 0,
        "sid": 1,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, secret or get_settings().secret_key, algorithm="HS256")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "tampered",
        "expired",
        "wrong-secret",
        "no-exp",
        "no-session",
        "refresh-token",
    ],
)
async def test_bad_tokens_get_401_with_www_authenticate(client, alice, authorization):
    forged = {
        "tampered": create_access_token(alice.id, 0, 1)[:-4] + "AAAA",
        "expired": _token(alice.id, exp=datetime.now(UTC) - timedelta(seconds=1)),
        "wrong-secret": _token(alice.id, secret="another-secret-that-is-long-enough-0000"),
        "no-exp": jwt.encode({"sub": str(alice.id)}, get_settings().secret_key, "HS256"),
        # A token from before sessions: signed, unexpired, but of no session.
        "no-session": _token(alice.id, sid=None),
        "refresh-token": alice.refresh_token,
    }
    if authorization in forged:
        authorization = f"Bearer {forged[authorization]}"
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.get("/users/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_token_of_a_deleted_user_is_401(client, alice):
    await User.filter(id=alice.id).delete()

    response = await client.get("/users/me", headers=alice.headers)

    assert response.status_code == 401


async def test_token_of_a_deactivated_user_is_401(client, alice, admin):
    await client.patch(f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers)

    response = await client.get("/items/", headers=alice.headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users/"),
        ("get", "/users/me"),
        ("get", "/users/1"),
        ("patch", "/users/1"),
        ("delete", "/users/1"),
        ("get", "/users/1/items"),
        ("post", "/items/"),
        ("get", "/items/"),
        ("get", "/items/1"),
        ("patch", "/items/1"),
        ("delete", "/items/1"),
        ("post", "/items/transfer"),
        ("get", "/stats"),
    ],
)
async def test_anonymous_callers_get_401_everywhere_but_signup_login_and_health(
    client, alice, method, path
):
    response = await client.request(method, path, json={})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await User.exists(id=alice.id)


# --- hostile login input: a 401, never a 500 ------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("al\x00ice", PASSWORD),
        ("a\x00@example.com", PASSWORD),
        ("a" * 51, PASSWORD),
        ("a" * 300 + "@example.com", PASSWORD),
        ("alice", "p" * 5000),
        ("nobody@example.com", "p" * 5000),
        ("alice", "nul\x00in password"),
    ],
)
async def test_odd_login_input_is_a_plain_401(client, alice, username, password):
    response = await _login(client, username, password)

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


@pytest.mark.parametrize("password", ["p" * 100, "nul\x00in password"])
async def test_legacy_bcrypt_account_with_odd_password_gets_401(client, alice, password):
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await User.filter(id=alice.id).update(hashed_password=legacy)

    response = await _login(client, "alice", password)

    assert response.status_code == 401


async def test_legacy_bcrypt_password_over_72_bytes_still_signs_in(client, alice):
    """bcrypt only ever read 72 bytes; bcrypt 5 refuses more, so we give it those 72."""
    long_password = "correct horse battery staple " * 4
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    await User.filter(id=alice.id).update(hashed_password=legacy)

    response = await _login(client, "alice", long_password)

    assert response.status_code == 200
    assert (await User.get(id=alice.id)).hashed_password.startswith("$argon2")
    assert (await _login(client, "alice", long_password)).status_code == 200


async def test_parallel_wrong_guesses_cannot_slip_past_the_limit(client, alice):
    limit = get_settings().login_max_failures

    responses = await asyncio.gather(
        *(_login(client, "alice@example.com", f"guess {n}") for n in range(4 * limit))
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(401) == limit
    assert statuses.count(429) == 3 * limit


async def test_token_naming_an_out_of_range_user_id_is_401(client):
    response = await client.get("/users/me", headers={"Authorization": f"Bearer {_token(2**40)}"})

    assert response.status_code == 401


# --- revocation -----------------------------------------------------------------------------


async def test_changing_the_password_revokes_earlier_tokens(client, alice):
    second_session = {"Authorization": f"Bearer {await login(client, 'alice')}"}

    changed = await client.patch(
        f"/users/{alice.id}", json={"password": "a brand new one"}, headers=alice.headers
    )

    assert changed.status_code == 200
    for headers in (alice.headers, second_session):
        assert (await client.get("/users/me", headers=headers)).status_code == 401
    fresh = {"Authorization": f"Bearer {await login(client, 'alice', 'a brand new one')}"}
    assert (await client.get("/users/me", headers=fresh)).status_code == 200


async def test_deactivation_revokes_tokens_even_after_reactivation(client, alice, admin):
    await client.patch(f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers)
    await client.patch(f"/users/{alice.id}", json={"is_active": True}, headers=admin.headers)

    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await _login(client, "alice")).status_code == 200


async def test_other_changes_keep_tokens_valid(client, alice):
    await client.patch(f"/users/{alice.id}", json={"username": "alice_b"}, headers=alice.headers)

    assert (await client.get("/users/me", headers=alice.headers)).status_code == 200


async def test_token_of_a_deleted_then_recreated_account_is_401(client, alice):
    await client.delete(f"/users/{alice.id}", headers=alice.headers)
    await client.post("/users/", json={"email": "alice@example.com", "password": PASSWORD})

    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401


DECOMPOSED = "u\u0308ser@example.com"  # ü as u + combining diaeresis


@pytest.mark.parametrize(
    "typed",
    [
        "user@XN--BCHER-KVA.example",  # IDNA: stored as user@bücher.example
        DECOMPOSED,  # stored in NFC
        "Some One <Some.One@Example.com>",  # the address inside a display name
    ],
    ids=["idna", "nfd", "display-name"],
)
async def test_the_email_as_typed_at_signup_signs_in_and_is_found(client, alice, typed):
    """Sign-up, login, PATCH, the list filter and createsuperuser share one normalisation."""
    signup = await client.post("/users/", json={"email": typed, "password": PASSWORD})
    assert signup.status_code == 201, signup.text
    stored = signup.json()["email"]

    token = await _login(client, typed)
    duplicate = await client.post("/users/", json={"email": typed, "password": PASSWORD})
    found = await client.get("/users/", params={"email": typed}, headers=alice.headers)
    taken = await client.patch(f"/users/{alice.id}", json={"email": typed}, headers=alice.headers)

    assert token.status_code == 200, token.text
    assert duplicate.status_code == 400
    assert [user["email"] for user in found.json()] == [stored]
    assert taken.json() == {"detail": "Email already registered"}


async def test_an_unnormalised_login_shares_the_throttle_of_its_normal_form(client):
    for attempt in range(5):
        typed = DECOMPOSED if attempt % 2 else "üser@example.com"
        assert (await _login(client, typed, "wrong-password")).status_code == 401

    assert (await _login(client, DECOMPOSED, "wrong-password")).status_code == 429
