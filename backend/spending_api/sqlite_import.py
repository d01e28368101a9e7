"""One-time copy of a database file from the versions that ran on SQLite into PostgreSQL.

Earlier versions kept their data in `data/spending.db` (money as integer cents). This
copies every user with their password hash and every transaction with its dedup key,
in one transaction: all of it or nothing. Users get new ids (old tokens name the old
ids, so they stop working and everyone logs in again); the rollup triggers rebuild the
daily totals and data versions as the rows go in. Failed-login records are not copied.
"""

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from spending_api.accounts.repository import default_account_id
from spending_api.auth import repository as users
from spending_api.settings import REPO_ROOT

logger = logging.getLogger(__name__)

LEGACY_SQLITE_PATH = REPO_ROOT / "data" / "spending.db"
_COPY_COLUMNS = 'user_id, account_id, amount, category, "timestamp", description, dedup_key'


class LegacyImportError(Exception):
    """The file cannot be copied; nothing was written."""


@dataclass(frozen=True)
class LegacyImportCounts:
    users: int
    transactions: int


def _parse_timestamp(value: str) -> datetime:
    # SQLAlchemy stored "YYYY-MM-DD HH:MM:SS.ffffff"; SQLite's CURRENT_TIMESTAMP no fraction.
    return datetime.fromisoformat(value)


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LegacyImportError(f"No such file: {path}")
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise LegacyImportError(f"{path} is not an SQLite database: {error}") from None
    if not {"users", "transactions"} <= tables:
        source.close()
        raise LegacyImportError(f"{path} has no users and transactions tables.")
    return source


def import_sqlite_file(session: Session, *, path: Path) -> LegacyImportCounts:
    """Copy `path`'s users and transactions into the session's database (the caller
    commits). Refuses if any of its usernames exists already."""
    source = _open(path)
    try:
        old_users = source.execute(
            "SELECT id, username, password_hash, created_at FROM users ORDER BY id"
        ).fetchall()
        for _, username, _, _ in old_users:
            if users.get_user_by_username(session, username=username) is not None:
                raise LegacyImportError(
                    f"User {username!r} exists already in PostgreSQL; nothing was imported."
                )
        new_ids, account_ids = {}, {}
        for old_id, username, password_hash, created_at in old_users:
            user = users.create_user(session, username=username, password_hash=password_hash)
            user.created_at = _parse_timestamp(created_at)
            new_ids[old_id] = user.id
            account_ids[old_id] = default_account_id(session, user_id=user.id)
        rows = source.execute(
            "SELECT user_id, amount, category, timestamp, description, dedup_key "
            "FROM transactions ORDER BY id"
        )
        driver = session.connection().connection.driver_connection
        copied = 0
        # One COPY: the statement-level rollup triggers run once for all the rows.
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY transactions ({_COPY_COLUMNS}) FROM STDIN") as copy:
                for user_id, cents, category, timestamp, description, dedup_key in rows:
                    amount = (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))
                    copy.write_row(
                        (
                            new_ids[user_id],
                            account_ids[user_id],
                            amount,
                            category,
                            _parse_timestamp(timestamp),
                            description,
                            dedup_key,
                        )
                    )
                    copied += 1
    finally:
        source.close()
    logger.info("copied %d users and %d transactions from %s", len(new_ids), copied, path)
    return LegacyImportCounts(users=len(new_ids), transactions=copied)
