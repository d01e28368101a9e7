"""spending-admin import-sqlite: an older version's SQLite file, copied into PostgreSQL once."""

import sqlite3
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from spending_api import cli
from spending_api.auth.security import hash_password, verify_password
from spending_api.models import DailyCategorySpend, Transaction, User
from spending_api.settings import get_settings

# The schema the SQLite versions created (migrations 0001-0002 on SQLite): money in cents.
OLD_SCHEMA = """
CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(150) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    data_version BIGINT DEFAULT '0' NOT NULL
);
CREATE TABLE transactions (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount BIGINT NOT NULL,
    category VARCHAR(100) NOT NULL,
    timestamp DATETIME NOT NULL,
    description TEXT,
    dedup_key VARCHAR(64) NOT NULL,
    UNIQUE (user_id, dedup_key)
);
CREATE TABLE daily_category_spend (
    user_id INTEGER NOT NULL, day DATE NOT NULL, category VARCHAR(100) NOT NULL,
    total BIGINT NOT NULL, transaction_count INTEGER NOT NULL,
    PRIMARY KEY (user_id, day, category)
);
CREATE TABLE login_failures (
    id INTEGER NOT NULL PRIMARY KEY, username_key VARCHAR(150) NOT NULL,
    failed_at DATETIME NOT NULL
);
"""

# (username, [(timestamp as SQLAlchemy wrote it on SQLite, cents, category, description)])
OLD_DATA = {
    "ana": [
        ("2024-02-29 12:00:00.000000", 10, "Food", "Bakery"),
        ("2024-02-29 18:30:00.250000", 20, "Food", None),
        ("2024-03-01 09:00:00.000000", 123456789, "Rent", "Flat ünïcode"),
        ("2024-03-02 10:00:00.000000", -550, "Refunds", "returned"),
    ],
    "ben": [("2023-12-31 23:59:59.999999", 999, "Travel", "Train")],
    "cleo": [],
}


@pytest.fixture
def old_file(tmp_path):
    """A data/spending.db as the SQLite versions left it, with real password hashes."""
    path = tmp_path / "spending.db"
    connection = sqlite3.connect(path)
    connection.executescript(OLD_SCHEMA)
    for username, rows in OLD_DATA.items():
        cursor = connection.execute(
            "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
            (username, hash_password(f"pw-{username}"), "2024-01-05 08:00:00"),
        )
        for number, (timestamp, cents, category, description) in enumerate(rows):
            connection.execute(
                "INSERT INTO transactions (user_id, amount, category, timestamp, description,"
                " dedup_key) VALUES (?, ?, ?, ?, ?, ?)",
                (cursor.lastrowid, cents, category, timestamp, description, f"key{number}:1"),
            )
    connection.execute(
        "INSERT INTO login_failures (username_key, failed_at) VALUES ('ana', '2024-01-01')"
    )
    connection.commit()
    connection.close()
    return path


@pytest.fixture
def cli_env(database, postgresql_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgresql_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _stored(database) -> dict:
    with database.session() as session:
        rows = session.execute(
            select(
                User.username,
                Transaction.timestamp,
                Transaction.amount,
                Transaction.category,
                Transaction.description,
            )
            .join(User, User.id == Transaction.user_id)
            .order_by(User.username, Transaction.timestamp)
        ).all()
    stored: dict = {}
    for username, timestamp, amount, category, description in rows:
        stored.setdefault(username, []).append(
            (timestamp.isoformat(sep=" ", timespec="microseconds"), amount, category, description)
        )
    return stored


def test_every_user_hash_and_transaction_is_copied_exactly(cli_env, old_file, database, capsys):
    assert cli.main(["import-sqlite", str(old_file)]) == 0
    assert "Copied 3 users and 5 transactions" in capsys.readouterr().out

    expected = {
        username: [(ts, Decimal(cents) / 100, category, text) for ts, cents, category, text in rows]
        for username, rows in OLD_DATA.items()
        if rows
    }
    assert _stored(database) == expected
    with database.session() as session:
        for username in OLD_DATA:
            user = session.scalars(select(User).where(User.username == username)).one()
            assert verify_password(f"pw-{username}", user.password_hash)
            assert not verify_password("wrong", user.password_hash)
        # The rollup triggers ran: per user and category, the exact sum of the cents.
        rollup = dict(
            session.execute(
                select(User.username, func.sum(DailyCategorySpend.total))
                .join(User, User.id == DailyCategorySpend.user_id)
                .group_by(User.username)
            ).all()
        )
    assert rollup == {
        username: sum((Decimal(row[1]) for row in rows), Decimal(0)) / 100
        for username, rows in OLD_DATA.items()
        if rows
    }


def test_a_second_copy_changes_nothing(cli_env, old_file, database, capsys):
    assert cli.main(["import-sqlite", str(old_file)]) == 0
    before = _stored(database)
    # What `make run` does on every start: a no-op once the database has users.
    assert cli.main(["import-sqlite", "--if-found", str(old_file)]) == 0
    assert cli.main(["import-sqlite", str(old_file)]) == 1
    assert "exists already in PostgreSQL; nothing was imported" in capsys.readouterr().err
    assert _stored(database) == before


def test_if_found_copies_into_an_empty_database_and_skips_a_missing_file(
    cli_env, old_file, database, tmp_path, capsys
):
    assert cli.main(["import-sqlite", "--if-found", str(tmp_path / "none.db")]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["import-sqlite", "--if-found", str(old_file)]) == 0
    assert "Copied 3 users" in capsys.readouterr().out


def test_a_file_that_is_not_an_old_database_is_refused(cli_env, tmp_path, database, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert cli.main(["import-sqlite", str(junk)]) == 1
    assert "is not an SQLite database" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert cli.main(["import-sqlite", str(empty)]) == 1
    assert "has no users and transactions tables" in capsys.readouterr().err
    assert cli.main(["import-sqlite", str(tmp_path / "missing.db")]) == 1
    assert "No such file" in capsys.readouterr().err
    assert _stored(database) == {}
