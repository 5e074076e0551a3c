"""Password reset: the mailed token, read from a real SMTP server, works once."""

import asyncio
import hashlib

import pytest
from tortoise import timezone
from tortoise.transactions import in_transaction

from app.core.config import get_settings
from app.core.mail_templates import RESET
from app.db.replicas import PRIMARY
from app.models import AccountToken, User
from tests.fixtures import PASSWORD, login
from tests.mail import token_in
from tests.support import serving

NEW_PASSWORD = "a brand new horse"


async def _reset_token(client, mailbox, email: str) -> str:
    response = await client.post("/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    (mail,) = await mailbox.wait_for(email, RESET)
    return token_in(mail)


async def test_reset_end_to_end_changes_the_password_and_ends_every_session(client, alice, mailbox):
    token = await _reset_token(client, mailbox, "alice@example.com")

    confirmed = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert confirmed.status_code == 204 and confirmed.content == b""
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    old = await client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    new_token = await login(client, "alice@example.com", NEW_PASSWORD)
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {new_token}"})
    assert me.json()["is_verified"] is True  # the token came from the mailbox
    again = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "yet another one"}
    )
    assert (again.status_code, again.json()) == (400, {"detail": "Invalid or expired token"})


async def test_the_mail_has_a_text_and_an_html_part_and_only_the_hash_is_stored(
    client, alice, mailbox
):
    token = await _reset_token(client, mailbox, "alice@example.com")

    (mail,) = mailbox.to("alice@example.com", RESET)
    assert mail["From"] == get_settings().email_from
    assert token in mail.get_body(preferencelist=("html",)).get_content()
    (stored,) = await AccountToken.filter(user_id=alice.id, purpose=RESET)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(await AccountToken.filter(user_id=alice.id).values())


async def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, alice, mailbox):
    known = await client.post("/auth/password-reset", json={"email": "alice@example.com"})
    unknown = await client.post("/auth/password-reset", json={"email": "nobody@example.com"})

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert known.status_code == 202
    await mailbox.wait_for("alice@example.com", RESET)  # sent after the unknown one's request
    assert mailbox.to("nobody@example.com") == []
    assert not await AccountToken.filter(email="nobody@example.com").exists()


async def test_a_repeated_request_for_one_email_is_429_however_it_is_typed(client, alice):
    first = await client.post("/auth/password-reset", json={"email": "alice@example.com"})
    again = await client.post("/auth/password-reset", json={"email": "ALICE@Example.COM"})
    unknown = [
        await client.post("/auth/password-reset", json={"email": "ghost@example.com"})
        for _ in range(2)
    ]

    assert first.status_code == 202
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    assert [r.status_code for r in unknown] == [202, 429]  # the same for any email
    assert await AccountToken.filter(user_id=alice.id).count() == 2  # sign-up's, this one


async def test_two_workers_share_the_throttle(client, alice, mailbox):
    """Another process of the service on the same database (a real server) and this one."""
    async with serving() as server:
        import httpx

        async with httpx.AsyncClient(base_url=server.url) as other_worker:
            there = await other_worker.post(
                "/auth/password-reset", json={"email": "alice@example.com"}
            )
            here = await client.post("/auth/password-reset", json={"email": "Alice@example.com"})
            bob_here = await client.post("/auth/password-reset", json={"email": "b@example.com"})
            bob_there = await other_worker.post(
                "/auth/password-reset", json={"email": "B@example.com"}
            )
        (mail,) = await mailbox.wait_for("alice@example.com", RESET)  # sent by the other worker

    assert (there.status_code, here.status_code) == (202, 429)
    assert (bob_here.status_code, bob_there.status_code) == (202, 429)
    assert token_in(mail)


@pytest.mark.parametrize("case", ["altered", "unknown", "expired", "verification", "inactive"])
async def test_a_bad_token_is_400_and_changes_nothing(client, alice, admin, mailbox, case):
    token = await _reset_token(client, mailbox, "alice@example.com")
    if case == "altered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "unknown":
        token = "x" * 43
    elif case == "expired":
        await AccountToken.filter(user_id=alice.id).update(expires_at=timezone.now())
    elif case == "verification":  # the sign-up's mail: a token of another purpose
        token = await _verification_token(alice.id)
    else:
        deactivated = await client.patch(
            f"/users/{alice.id}", json={"is_active": False}, headers=admin.headers
        )
        assert deactivated.status_code == 200

    response = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert (response.status_code, response.json()) == (400, {"detail": "Invalid or expired token"})
    user = await User.get(id=alice.id)
    assert user.token_version == 0 or case == "inactive"
    assert not await AccountToken.filter(user_id=alice.id, used_at__not_isnull=True).exists()


async def _verification_token(user_id: int) -> str:
    user = await User.get(id=user_id)
    async with in_transaction(PRIMARY) as connection:
        return await AccountToken.mail_to(user, "verify_email", connection)


async def test_a_token_resets_only_its_own_account(client, alice, bob, mailbox):
    token = await _reset_token(client, mailbox, "bob@example.com")

    response = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert await login(client, "alice@example.com")  # alice's password is as it was
    assert await login(client, "bob@example.com", NEW_PASSWORD)


@pytest.mark.parametrize("password", ["short", "x" * 129])
async def test_a_bad_password_is_422_and_keeps_the_token(client, alice, mailbox, password):
    token = await _reset_token(client, mailbox, "alice@example.com")

    refused = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": password}
    )
    accepted = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert (refused.status_code, accepted.status_code) == (422, 204)


async def test_two_concurrent_confirms_of_one_token_succeed_exactly_once(client, alice):
    user = await User.get(id=alice.id)
    for round_ in range(25):
        async with in_transaction(PRIMARY) as connection:
            token = await AccountToken.mail_to(user, RESET, connection)
        answers = await asyncio.gather(
            *(
                client.post(
                    "/auth/password-reset/confirm",
                    json={"token": token, "password": f"{NEW_PASSWORD} {round_} {n}"},
                )
                for n in range(2)
            )
        )
        assert sorted(a.status_code for a in answers) == [204, 400], round_
        user = await User.get(id=alice.id)
    assert user.token_version == 25


async def test_a_reset_lets_an_unverified_account_in_when_verification_is_required(
    client, alice, mailbox, monkeypatch
):
    monkeypatch.setattr(get_settings(), "require_verified_email", True)
    form = {"username": "alice@example.com", "password": NEW_PASSWORD}
    token = await _reset_token(client, mailbox, "alice@example.com")

    confirmed = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert confirmed.status_code == 204, confirmed.text
    signed_in = await client.post("/auth/token", data=form)
    assert signed_in.status_code == 200, signed_in.text
