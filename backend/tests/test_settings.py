"""The one Settings object and its refusal of development secrets in production."""

import pytest
from pydantic import ValidationError

from spending_api import embedded
from spending_api.settings import DEV_SECRET_KEY, Settings


def test_production_refuses_the_committed_dev_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY is the committed development value"):
        Settings(_env_file=None, environment="production", secret_key=DEV_SECRET_KEY)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None, environment="production", secret_key="short-but-not-dev")


def test_production_accepts_a_real_secret():
    settings = Settings(_env_file=None, environment="production", secret_key="x" * 32)
    assert settings.environment == "production"


def test_the_committed_env_file_is_the_dev_value_and_local():
    settings = Settings()
    assert settings.secret_key == DEV_SECRET_KEY or settings.environment != "production"


def test_app_refuses_to_start_in_production_with_the_env_file(monkeypatch):
    from spending_api.main import create_app

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError):
        create_app(Settings())


def test_an_unset_database_url_means_the_embedded_server_but_never_in_production():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/spending"
    assert embedded.database_url(Settings(_env_file=None, database_url=url)) == url
    production = Settings(_env_file=None, environment="production", secret_key="s" * 40)
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        embedded.database_url(production)
