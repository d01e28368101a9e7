"""The one settings object, read from the environment and the `.env` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

# The value committed in `.env`: good enough on a laptop, refused in production.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production-0000"
MIN_SECRET_KEY_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(str(REPO_ROOT / ".env"), ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["local", "test", "production"] = "local"
    secret_key: str = DEV_SECRET_KEY
    access_token_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)

    # Unset: the embedded PostgreSQL server under data/ (spending_api.embedded).
    database_url: str | None = None
    # Optional read replica for GET endpoints; writes always go to `database_url`.
    database_read_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_connect_timeout_seconds: int = Field(default=3, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    # Finished /metrics, /transactions and /categories answers kept per worker, keyed
    # by user and data version (exact); 0 turns the cache off.
    response_cache_mb: int = Field(default=32, ge=0)

    cors_origins: list[str] = ["http://localhost:8501", "http://127.0.0.1:8501"]
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_production_secrets(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEV_SECRET_KEY:
                raise ValueError(
                    "SECRET_KEY is the committed development value; "
                    "set a secret of your own to run with ENVIRONMENT=production"
                )
            if len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
                raise ValueError(
                    f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes "
                    "with ENVIRONMENT=production"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
