"""No working secret in the repository: a signing key per install, and the production guard."""

import os
import secrets
import stat
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic import ValidationError
from sqlalchemy import create_engine, func, select

from spending_api.models import User
from spending_api.settings import DEV_SECRET_KEY, REPO_ROOT, Settings, get_settings

# The committed values, spelled out: the test must not trust the code's own constants.
DEV_POSTGRES_PASSWORD = "spending-dev-password"
SECRET_KEY_FILE_NAME = "secret_key"
REAL_KEY = secrets.token_urlsafe(48)


def _key_of_a_new_process(data_dir: str) -> str:
    return Settings(_env_file=None, data_dir=Path(data_dir)).secret_key


def test_without_secret_key_each_install_generates_its_own_and_keeps_it(tmp_path):
    first = Settings(_env_file=None, data_dir=tmp_path / "install-1")
    key_file = tmp_path / "install-1" / SECRET_KEY_FILE_NAME
    assert first.secret_key != DEV_SECRET_KEY
    assert len(first.secret_key) >= 43 and key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The next start reads the same key; another install has another one.
    assert Settings(_env_file=None, data_dir=tmp_path / "install-1").secret_key == first.secret_key
    assert Settings(_env_file=None, data_dir=tmp_path / "install-2").secret_key != first.secret_key
    # A key from the environment wins and nothing is written.
    assert Settings(_env_file=None, data_dir=tmp_path / "i3", secret_key=REAL_KEY).secret_key == (
        REAL_KEY
    )
    assert not (tmp_path / "i3").exists()


def test_workers_starting_at_once_agree_on_one_key(tmp_path):
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(_key_of_a_new_process, [str(tmp_path)] * 8))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE_NAME]  # no drafts left


def test_the_committed_env_file_holds_no_usable_key(tmp_path, monkeypatch):
    committed = dotenv_values(REPO_ROOT / ".env")
    assert not committed.get("SECRET_KEY")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert Settings().secret_key not in ("", DEV_SECRET_KEY)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"secret_key": "a" * 32}, "too predictable"),
        ({"secret_key": "ab" * 40}, "too predictable"),
        ({"secret_key": DEV_SECRET_KEY}, "once-committed development value"),
        (
            {"database_url": f"postgresql+psycopg://spending:{DEV_POSTGRES_PASSWORD}@db/spending"},
            "POSTGRES_PASSWORD",
        ),
    ],
)
def test_production_refuses_weak_or_committed_secrets(tmp_path, overrides, message):
    values = {
        "environment": "production",
        "secret_key": REAL_KEY,
        "data_dir": tmp_path,
        **overrides,
    }
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **values)


def test_production_accepts_a_random_key_and_a_generated_one(tmp_path):
    assert Settings(_env_file=None, environment="production", secret_key=REAL_KEY)
    generated = Settings(_env_file=None, environment="production", data_dir=tmp_path)
    assert generated.secret_key == (tmp_path / SECRET_KEY_FILE_NAME).read_text().strip()


def _user_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(User))
    finally:
        engine.dispose()


def _production_env(postgresql_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SECRET_"))},
        "ENVIRONMENT": "production",
        "DATABASE_URL": postgresql_url,
        "DATA_DIR": str(tmp_path),
    }


def test_seed_demo_is_refused_in_production(postgresql_url, tmp_path, monkeypatch, capsys):
    from spending_api import cli

    for key, value in _production_env(postgresql_url, tmp_path).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        assert cli.main(["seed-demo"]) == 1
        assert cli.main(["seed-demo", "--if-empty"]) == 1
    finally:
        get_settings.cache_clear()
    assert "Demo users are refused with ENVIRONMENT=production" in capsys.readouterr().err
    assert _user_count(postgresql_url) == 0


def test_make_run_refuses_demo_users_in_production(postgresql_url, tmp_path):
    """scripts/run.py (what `make run` runs) stops before serving anything."""
    from spending_api.migrate import upgrade

    upgrade(postgresql_url)
    env = _production_env(postgresql_url, tmp_path)
    # Ports nobody uses: should the script get as far as serving, nothing else is disturbed.
    env.update(
        {"API_PORT": "1", "UI_PORT": "2", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    )
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Demo users are refused with ENVIRONMENT=production" in result.stderr
    assert "spending-dashboard is running" not in result.stdout + result.stderr
    assert _user_count(postgresql_url) == 0
