"""Settings refuse to run production on a guessable secret."""

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
