"""spending-admin: clear messages and a non-zero exit on error."""

import io

import pytest

from spending_api import cli
from spending_api.auth.security import verify_password
from spending_api.settings import get_settings


@pytest.fixture
def cli_env(database, postgresql_url, monkeypatch):
    """The CLI on the test database (init-db migrates it again: a no-op); `database`
    has the tables emptied after the test."""
    monkeypatch.setenv("DATABASE_URL", postgresql_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_init_db_then_create_user_from_stdin(cli_env, monkeypatch, capsys):
    from spending_api.auth.repository import get_user_by_username
    from spending_api.db import Database

    assert cli.main(["init-db"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("hunter2-hunter2\n"))
    assert cli.main(["create-user", "carol", "--password-stdin"]) == 0
    assert "Created user 'carol'" in capsys.readouterr().out
    database = Database.from_settings(get_settings())
    with database.session() as session:
        user = get_user_by_username(session, username="carol")
        assert verify_password("hunter2-hunter2", user.password_hash)
    database.dispose()


def test_duplicate_user_and_empty_password_exit_non_zero(cli_env, monkeypatch, capsys):
    cli.main(["init-db"])
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    cli.main(["create-user", "carol", "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert cli.main(["create-user", "carol", "--password-stdin"]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert cli.main(["create-user", "dave", "--password-stdin"]) == 1
    assert "must not be empty" in capsys.readouterr().err


def test_import_of_a_missing_file_is_an_error(cli_env, capsys):
    cli.main(["init-db"])
    assert cli.main(["import-csv", "nobody", "/does/not/exist.csv"]) == 1
    assert "No such file" in capsys.readouterr().err
