"""An import that dies half-way stores nothing; the same import afterwards stores everything."""

import io
import os
import signal
import subprocess
import sys
import textwrap

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from spending_api.models import DailyCategorySpend, Transaction
from spending_api.transactions import importer

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault

ROWS = 5000
KILL_AFTER = 2500


def _csv(rows: int = ROWS) -> bytes:
    lines = ["timestamp,amount,category,description"]
    lines += [
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00,"
        f"{i % 500 + 1}.{i % 100:02d},Cat{i % 9},purchase {i}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _stored(database, user_id: int) -> tuple[int, int]:
    """Rows in the base table and the rollup's count for the user."""
    with database.session() as session:
        rows = session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.user_id == user_id)
        )
        rolled = session.scalar(
            select(func.coalesce(func.sum(DailyCategorySpend.transaction_count), 0)).where(
                DailyCategorySpend.user_id == user_id
            )
        )
    return rows, int(rolled)


def _upload(client, headers, body: bytes):
    return client.post(
        "/transactions/import",
        files={"file": ("bank.csv", io.BytesIO(body), "text/csv")},
        headers=headers,
    )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_connection_killed_mid_copy(
    client, make_user, auth_headers, database, settings, monkeypatch
):
    """The server-side backend of the import is terminated (pg_terminate_backend) after half
    the rows went into COPY: the request fails with 503 and nothing of it is stored."""
    user = make_user()
    real_insert = importer.insert_transactions
    killed = []

    def insert_then_die(session, *, user_id, rows, **where):
        backend_pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def rows_with_a_kill():
            for n, row in enumerate(rows, start=1):
                if n == KILL_AFTER:
                    with psycopg.connect(_libpq(settings.database_url), autocommit=True) as c:
                        c.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
                    killed.append(backend_pid)
                yield row

        return real_insert(session, user_id=user_id, rows=rows_with_a_kill(), **where)

    monkeypatch.setattr(importer, "insert_transactions", insert_then_die)
    response = _upload(client, auth_headers(user), _csv())
    assert killed, "the kill never happened: the test proves nothing"
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "Database unavailable"}
    assert _stored(database, user.id) == (0, 0)

    monkeypatch.setattr(importer, "insert_transactions", real_insert)
    again = _upload(client, auth_headers(user), _csv())
    assert again.status_code == 200, again.text
    assert {
        key: value
        for key, value in again.json().items()
        if key not in ("import_id", "account_id", "profile_used")
    } == {
        "inserted": ROWS,
        "skipped_duplicates": 0,
        "total_rows": ROWS,
        "skipped_rows": [],
        "skipped_row_count": 0,
    }
    assert _stored(database, user.id) == (ROWS, ROWS)


# Runs the real importer in a child process that stops, transaction open, half-way
# through COPY and waits there to be killed.
_CHILD = textwrap.dedent("""
    import sys, time
    from spending_api.db import Database
    from spending_api.settings import Settings
    from spending_api.transactions import importer

    url, user_id, path, kill_after = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    real_insert = importer.insert_transactions

    def insert_and_hang(session, *, user_id, rows, **where):
        def rows_then_hang():
            for n, row in enumerate(rows, start=1):
                if n == kill_after:
                    print("MID-IMPORT", flush=True)
                    time.sleep(120)
                yield row
        return real_insert(session, user_id=user_id, rows=rows_then_hang(), **where)

    importer.insert_transactions = insert_and_hang
    database = Database.from_settings(Settings(_env_file=None, database_url=url))
    with database.session() as session, open(path, "rb") as stream:
        importer.import_csv(
            session, user_id=user_id, stream=stream, options=importer.ImportOptions()
        )
        session.commit()
    print("COMMITTED", flush=True)
    """)


@pytest.mark.slow
def test_process_killed_mid_import(make_user, database, settings, tmp_path):
    """SIGKILL to the importing process half-way through the rows: its transaction never
    commits, so nothing is stored; the same file imported afterwards stores every row."""
    user = make_user()
    path = tmp_path / "bank.csv"
    path.write_bytes(_csv())
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            settings.database_url,
            str(user.id),
            str(path),
            str(KILL_AFTER),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = child.stdout.readline().strip()
        assert line == "MID-IMPORT", child.stderr.read()
        with psycopg.connect(_libpq(settings.database_url), autocommit=True) as c:
            copying = c.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY transactions%'"
            ).fetchone()[0]
        assert copying == 1, "the child is not inside COPY"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _stored(database, user.id) == (0, 0)

    with database.session() as session, open(path, "rb") as stream:
        # The killed process's locks must be gone, or this blocks until the timeout.
        result = importer.import_csv(
            session, user_id=user.id, stream=stream, options=importer.ImportOptions()
        )
        session.commit()
    assert (result.inserted, result.skipped_duplicates, result.total_rows) == (ROWS, 0, ROWS)
    assert _stored(database, user.id) == (ROWS, ROWS)
