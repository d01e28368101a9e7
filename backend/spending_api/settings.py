"""The one settings object, read from the environment and the `.env` file."""

import math
import os
import secrets
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data"

# Once committed in `.env`, so known to everyone: refused in production.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production-0000"
# The database password committed in `.env` for Docker Compose: refused in production.
DEV_POSTGRES_PASSWORD = "spending-dev-password"
MIN_SECRET_KEY_BYTES = 32
# A key's length times the Shannon entropy of its characters: 'a' * 32 has 0 bits, a
# `secrets.token_urlsafe(32)` about 200. A cheap check for keys typed by hand.
MIN_SECRET_KEY_ENTROPY_BITS = 96
SECRET_KEY_FILE_NAME = "secret_key"


def estimated_entropy_bits(key: str) -> float:
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def load_or_create_secret_key(data_dir: Path) -> str:
    """The install's own signing key: generated on first start, then read by every process.

    The file is written under a temporary name and hard-linked into place, so when several
    workers start at once exactly one key wins and every process reads that one.
    """
    path = data_dir / SECRET_KEY_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            draft.unlink()
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(str(REPO_ROOT / ".env"), ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["local", "test", "production"] = "local"
    # Empty: the key generated into `data_dir` on first start (see load_or_create_secret_key).
    secret_key: str = ""
    # Where the install keeps what it generates for itself (the signing key).
    data_dir: Path = DEFAULT_DATA_DIR
    # Short on purpose: the dashboard renews its token with POST /refresh while in use.
    access_token_expire_minutes: int = Field(default=15, ge=1, le=60 * 24 * 30)
    # However often it is refreshed, a session ends this long after its password check.
    session_max_hours: int = Field(default=12, ge=1, le=24 * 90)

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
    # All request headers together (431 above it); the API itself needs well under 1 KiB.
    max_header_bytes: int = Field(default=8 * 1024, ge=1024)
    # A request body that pauses this long gets 408: slow clients cannot hold a worker.
    body_idle_timeout_seconds: float = Field(default=10.0, gt=0)
    # The whole request head (line and headers) must arrive within this (408), see server.py.
    header_timeout_seconds: float = Field(default=10.0, gt=0)

    # Failures per (username, client address) within the window before that pair is locked.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    # Failures of one name from all addresses before it is locked for everyone; from
    # login_max_failures on, each failure doubles the wait for the next try (up to the max).
    login_max_failures_per_username: int = Field(default=100, ge=1)
    login_delay_max_seconds: int = Field(default=60, ge=1)
    # Failures from one address over all names (password spraying) before it is locked.
    login_max_failures_per_address: int = Field(default=20, ge=1)
    # Addresses or networks of reverse proxies whose X-Forwarded-For names the client;
    # from anyone else the header is ignored and the socket peer is the client. Loopback:
    # the dashboard of `make run`, which forwards its browser's address on login.
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_production_secrets(self) -> "Settings":
        if not self.secret_key:
            self.secret_key = load_or_create_secret_key(self.data_dir)
        if self.environment != "production":
            return self
        if self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "SECRET_KEY is the once-committed development value; unset it (a key is "
                "generated per install) or set a secret of your own"
            )
        if len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes "
                "with ENVIRONMENT=production"
            )
        if estimated_entropy_bits(self.secret_key) < MIN_SECRET_KEY_ENTROPY_BITS:
            raise ValueError(
                "SECRET_KEY is too predictable (repeated characters); generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        # The credential in use: Docker Compose builds DATABASE_URL from POSTGRES_PASSWORD.
        if self.database_url and make_url(self.database_url).password == DEV_POSTGRES_PASSWORD:
            raise ValueError(
                "POSTGRES_PASSWORD (in DATABASE_URL) is the committed development value; "
                "set a password of your own with ENVIRONMENT=production"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
