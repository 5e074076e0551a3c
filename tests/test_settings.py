"""Settings: no token signed with a key from the code, the docs or the image is accepted."""

import re
import secrets
import stat
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from app.core.config import PUBLISHED_SECRET_KEYS, Settings
from tests.support import BESIDE_DATABASE_URL, manage

REPO = Path(__file__).resolve().parents[1]
PUBLISHED_KEY = next(iter(PUBLISHED_SECRET_KEYS))


@pytest.fixture(autouse=True)
def _only_the_database_given(monkeypatch):
    """These settings name their own DATABASE_URL: none of the run's other databases
    (the cluster pass sets replicas beside it)."""
    for name in BESIDE_DATABASE_URL:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("secret", ["", PUBLISHED_KEY, "short-secret", "k" * 48])
def test_production_refuses_a_missing_published_short_or_repetitive_secret(secret):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_a_published_key_is_refused_in_every_environment(environment, tmp_path):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            environment=environment,
            secret_key=PUBLISHED_KEY,
            database_url=f"sqlite://{tmp_path}/app.sqlite3",
        )


def test_production_accepts_a_long_random_secret():
    settings = Settings(environment="production", secret_key=secrets.token_urlsafe(48))

    assert settings.environment == "production"


def test_development_generates_one_private_key_per_installation(tmp_path):
    url = f"sqlite://{tmp_path}/app.sqlite3"

    first = Settings(environment="development", secret_key="", database_url=url)
    second = Settings(environment="development", secret_key="", database_url=url)
    elsewhere = Settings(
        environment="development", secret_key="", database_url=f"sqlite://{tmp_path}/b/x.db"
    )

    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 32 and elsewhere.secret_key != first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert list(tmp_path.glob(".secret_key*")) == []  # no scratch files left


def test_no_key_is_written_in_the_code_docs_or_image():
    """The places a user copies settings from carry no key to copy."""
    example = (REPO / ".env.example").read_text()
    assert re.search(r"^SECRET_KEY=$", example, flags=re.MULTILINE)
    for name in ("README.md", "Dockerfile", "SECURITY.md", ".env.example"):
        text = (REPO / name).read_text()
        assert not re.search(r"SECRET_KEY=[A-Za-z0-9_\-]{8,}", text), name
    assert "/data/" in (REPO / ".gitignore").read_text().splitlines()  # the generated key


async def test_serving_in_production_without_a_key_refuses_to_start(tmp_path):
    code, out, err = await manage(
        "serve",
        ENVIRONMENT="production",
        SECRET_KEY="",
        DATABASE_URL=f"sqlite://{tmp_path}/app.sqlite3",
        PORT="1",
    )

    assert code != 0 and "SECRET_KEY" in out + err


async def test_a_token_signed_with_the_published_key_is_refused(client, alice):
    (session,) = (await client.get("/auth/sessions", headers=alice.headers)).json()
    claims = {"sub": str(alice.id), "ver": 0, "sid": session["id"], "exp": 4102444800}
    forged = jwt.encode(claims, PUBLISHED_KEY, algorithm="HS256")
    forged_refresh = jwt.encode(
        {"typ": "refresh", "sid": session["id"], "jti": "x"}, PUBLISHED_KEY, algorithm="HS256"
    )

    response = await client.patch(
        f"/users/{alice.id}",
        json={"is_superuser": True},
        headers={"Authorization": f"Bearer {forged}"},
    )
    refreshed = await client.post("/auth/refresh", json={"refresh_token": forged_refresh})

    assert response.status_code == 401
    assert refreshed.status_code == 401
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 200


def test_an_access_token_may_not_outlive_the_refresh_token():
    with pytest.raises(ValidationError, match="ACCESS_TOKEN_EXPIRE_MINUTES"):
        Settings(access_token_expire_minutes=24 * 60 + 1, refresh_token_days=1)
    assert Settings(access_token_expire_minutes=24 * 60, refresh_token_days=1)


def test_cors_origins_are_read_as_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")

    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_env_example_documents_every_setting():
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert documented == {name.upper() for name in Settings.model_fields}


def test_a_refused_setting_shows_no_input_value(tmp_path):
    """`aerich` or a bare `uvicorn app.main:app` print the ValidationError as it is."""
    tail = "TAIL" + secrets.token_hex(4)
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production", secret_key=f"weak-{tail}")

    assert "SECRET_KEY" in str(refused.value)
    assert tail not in str(refused.value) and "input_value" not in str(refused.value)


async def test_a_bare_uvicorn_start_shows_no_part_of_the_secret_key(tmp_path):
    tail = "TAIL" + secrets.token_hex(4)
    code, out, err = await manage(
        "shell",
        "-c",
        "pass",
        ENVIRONMENT="production",
        SECRET_KEY=f"weak-{tail}",
        DATABASE_URL=f"sqlite://{tmp_path}/app.sqlite3",
    )
    code_uvicorn, _, err_uvicorn = await run_uvicorn(tmp_path, f"weak-{tail}")

    assert code != 0 and code_uvicorn != 0
    assert "SECRET_KEY" in err_uvicorn
    assert tail not in out + err + err_uvicorn
    assert "input_value" not in err + err_uvicorn


async def run_uvicorn(tmp_path: Path, secret_key: str) -> tuple[int, str, str]:
    import sys

    from tests.support import run

    return await run(
        sys.executable,
        "-c",
        "import app.main",  # what `uvicorn app.main:app` does first
        ENVIRONMENT="production",
        SECRET_KEY=secret_key,
        DATABASE_URL=f"sqlite://{tmp_path}/app.sqlite3",
    )


def test_no_secret_in_the_settings_repr():
    password, replica_password = "Pw" + secrets.token_hex(6), "Rp" + secrets.token_hex(6)
    settings = Settings(
        environment="production",
        secret_key=secrets.token_urlsafe(48),
        database_url=f"postgres://app:{password}@db.internal:5432/app",
        migrations_database_url=f"postgres://owner:{password}@db.internal:5432/app",
        database_replica_urls=f"postgres://app:{replica_password}@replica:5432/app",
    )

    for shown in (repr(settings), str(settings)):
        assert password not in shown and replica_password not in shown
        assert settings.secret_key not in shown
        assert "postgres://app:***@db.internal:5432/app" in shown
