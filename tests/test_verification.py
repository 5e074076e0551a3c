"""Email verification: sign-up mails a token; it verifies the email it was sent to, once."""

import pytest
from tortoise import timezone

from app.core.config import get_settings
from app.core.mail_templates import VERIFY
from app.models import AccountToken
from tests.fixtures import PASSWORD
from tests.mail import token_in

INVALID = (400, {"detail": "Invalid or expired token"})


async def _signup_token(mailbox, email: str) -> str:
    (mail,) = await mailbox.wait_for(email, VERIFY)
    return token_in(mail)


async def test_verification_end_to_end(client, mailbox):
    created = await client.post("/users/", json={"email": "Vera@example.com", "password": PASSWORD})
    assert created.status_code == 201 and created.json()["is_verified"] is False
    token = await _signup_token(mailbox, "vera@example.com")

    verified = await client.post("/auth/verify", json={"token": token})
    again = await client.post("/auth/verify", json={"token": token})

    assert verified.status_code == 200
    assert verified.json() | {"updated_at": None} == created.json() | {
        "is_verified": True,
        "updated_at": None,
    }
    assert (again.status_code, again.json()) == INVALID


async def test_verify_request_mails_a_new_token_and_is_429_when_repeated(client, alice, mailbox):
    first = await client.post("/auth/verify/request", headers=alice.headers)
    repeated = await client.post("/auth/verify/request", headers=alice.headers)
    anonymous = await client.post("/auth/verify/request")

    assert first.status_code == 202
    assert repeated.status_code == 429 and int(repeated.headers["Retry-After"]) >= 1
    assert anonymous.status_code == 401
    signup_mail, new_mail = await mailbox.wait_for("alice@example.com", VERIFY, count=2)
    for mail in (new_mail, signup_mail):  # either token works (each once)
        response = await client.post("/auth/verify", json={"token": token_in(mail)})
        assert response.status_code == 200 and response.json()["is_verified"] is True


async def test_a_verified_account_asking_again_gets_202_and_no_mail(client, alice, mailbox):
    token = await _signup_token(mailbox, "alice@example.com")
    assert (await client.post("/auth/verify", json={"token": token})).status_code == 200

    response = await client.post("/auth/verify/request", headers=alice.headers)

    assert response.status_code == 202
    assert await AccountToken.filter(user_id=alice.id).count() == 1


async def test_changing_the_email_unverifies_and_the_old_token_no_longer_works(
    client, alice, mailbox
):
    token = await _signup_token(mailbox, "alice@example.com")
    old_token = await client.post("/auth/verify/request", headers=alice.headers)
    assert old_token.status_code == 202
    old_mails = await mailbox.wait_for("alice@example.com", VERIFY, count=2)
    assert (await client.post("/auth/verify", json={"token": token})).status_code == 200

    changed = await client.patch(
        f"/users/{alice.id}", json={"email": "alice@new.example.com"}, headers=alice.headers
    )
    stale = await client.post("/auth/verify", json={"token": token_in(old_mails[1])})

    assert changed.status_code == 200 and changed.json()["is_verified"] is False
    assert (stale.status_code, stale.json()) == INVALID
    renewed = await client.post("/auth/verify/request", headers=alice.headers)
    assert renewed.status_code == 429  # once per interval, whatever the address
    unchanged = await client.patch(
        f"/users/{alice.id}", json={"email": "alice@new.example.com"}, headers=alice.headers
    )
    assert unchanged.json()["is_verified"] is False


@pytest.mark.parametrize("case", ["altered", "expired", "reset", "too long"])
async def test_a_bad_token_is_400(client, alice, mailbox, case):
    token = await _signup_token(mailbox, "alice@example.com")
    if case == "altered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "expired":
        await AccountToken.filter(user_id=alice.id).update(expires_at=timezone.now())
    elif case == "reset":  # a password reset token is not a verification token
        assert (
            await client.post("/auth/password-reset", json={"email": "alice@example.com"})
        ).status_code == 202
        (mail,) = await mailbox.wait_for("alice@example.com", "password_reset")
        token = token_in(mail)
    else:
        token = "A" * 500

    response = await client.post("/auth/verify", json={"token": token})

    assert (response.status_code, response.json()) == INVALID
    me = await client.get("/users/me", headers=alice.headers)
    assert me.json()["is_verified"] is False


async def test_with_require_verified_email_an_unverified_account_cannot_sign_in(
    client, alice, mailbox, monkeypatch
):
    monkeypatch.setattr(get_settings(), "require_verified_email", True)
    form = {"username": "alice@example.com", "password": PASSWORD}

    refused = await client.post("/auth/token", data=form)
    wrong = await client.post("/auth/token", data={**form, "password": "wrong password"})
    token = await _signup_token(mailbox, "alice@example.com")
    await client.post("/auth/verify", json={"token": token})
    accepted = await client.post("/auth/token", data=form)

    assert (refused.status_code, refused.json()) == (400, {"detail": "Email not verified"})
    assert wrong.status_code == 401  # the password is checked first: nothing is revealed
    assert accepted.status_code == 200
