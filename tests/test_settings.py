"""Settings refuse to run production on a guessable secret."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import DEFAULT_SECRET_KEY, Settings


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret"])
def test_production_refuses_default_or_short_secret(secret):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret)


def test_production_accepts_a_long_random_secret():
    settings = Settings(environment="production", secret_key="k" * 48)

    assert settings.environment == "production"


def test_cors_origins_are_read_as_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")

    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_env_example_documents_every_setting():
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert documented == {name.upper() for name in Settings.model_fields}
