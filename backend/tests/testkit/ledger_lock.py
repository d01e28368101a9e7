"""Helpers for the ledger-lock tests: an import left open in one session, a second write
in a thread, and a wait until that write blocks on the user's ledger lock (both in one:
while_importing)."""

import io
import threading
import time

from sqlalchemy import text

from spending_api.ingest import ParseOptions
from spending_api.transactions.importer import import_csv
from spending_api.transactions.repository import LEDGER_LOCK_SPACE

SHORT_FILE = ParseOptions(amount_sign="spend_negative")  # a short file cannot tell


def open_import(session, *, user_id: int, account_id: int, csv: str) -> None:
    """Import `csv` in `session`, left uncommitted (the lock stays held)."""
    import_csv(
        session,
        user_id=user_id,
        stream=io.BytesIO(csv.encode()),
        options=SHORT_FILE,
        filename="bank.csv",
        account_id=account_id,
    )


class InThread:
    """Run `work(session)` in a thread with its own session, committing after; keeps what
    it raised."""

    def __init__(self, database, work) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                with database.session() as session:
                    work(session)
                    session.commit()
            except BaseException as error:  # reported by the test
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the second write never finished"


def while_importing(database, *, user_id: int, account_id: int, csv: str, work) -> InThread:
    """Run `work(session)` in a thread while an import of `csv` is open, and wait until
    it blocks on the ledger lock; the thread, finished, once the import has committed."""
    with database.session() as importing:
        open_import(importing, user_id=user_id, account_id=account_id, csv=csv)
        other = InThread(database, work)
        wait_until_blocked(database, user_id=user_id)
        importing.commit()
    other.join()
    return other


def wait_until_blocked(database, *, user_id: int, seconds: float = 10) -> None:
    """Until another backend waits for the user's ledger lock (fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    with database.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND classid = :space AND objid = :user_id AND objsubid = 2"
                ),
                {"space": LEDGER_LOCK_SPACE, "user_id": user_id},
            )
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second write did not wait for the ledger lock")
