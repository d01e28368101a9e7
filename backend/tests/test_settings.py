"""The one Settings object and its refusal of development secrets in production."""

import secrets

import pytest
from pydantic import ValidationError

from spending_api import embedded
from spending_api.settings import DEV_SECRET_KEY, Settings


def test_production_refuses_the_committed_dev_secret():
    with pytest.raises(ValidationError, match="once-committed development value"):
        Settings(_env_file=None, environment="production", secret_key=DEV_SECRET_KEY)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None, environment="production", secret_key="short-but-not-dev")


def test_production_accepts_a_real_secret():
    key = secrets.token_urlsafe(32)
    settings = Settings(_env_file=None, environment="production", secret_key=key)
    assert settings.environment == "production"


def test_app_refuses_to_start_in_production_with_the_committed_database_password(
    monkeypatch, tmp_path
):
    """Docker Compose builds the backend's DATABASE_URL from .env's POSTGRES_PASSWORD."""
    from dotenv import dotenv_values

    from spending_api.main import create_app
    from spending_api.settings import REPO_ROOT

    committed = dotenv_values(REPO_ROOT / ".env")["POSTGRES_PASSWORD"]
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://spending:{committed}@db/spending")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="POSTGRES_PASSWORD"):
        create_app(Settings())


def test_an_unset_database_url_means_the_embedded_server_but_never_in_production():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/spending"
    assert embedded.database_url(Settings(_env_file=None, database_url=url)) == url
    production = Settings(
        _env_file=None, environment="production", secret_key=secrets.token_urlsafe(48)
    )
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        embedded.database_url(production)
