"""Reads from a streaming replica (DATABASE_READ_URL), writes to the primary."""

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest

from spending_api.auth.security import create_access_token, hash_password
from spending_api.db import Database
from spending_api.models import User
from spending_api.settings import Settings
from spending_api.processes import wait_until
from spending_api.transactions.repository import NewTransaction, insert_transactions

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault

SECRET = "replica-test-secret-key-0123456789abcdef"


def _wait_for(predicate, timeout: float = 15.0) -> None:
    wait_until(predicate, timeout=timeout, what="the replica")


def _seed(url: str) -> tuple[int, str]:
    database = Database.from_settings(Settings(_env_file=None, database_url=url))
    try:
        with database.session() as session:
            user = User(username="reader", password_hash=hash_password("correct horse"))
            session.add(user)
            session.flush()
            rows = [
                NewTransaction(datetime(2024, 1, 1 + i, 12), Decimal("10.00"), "Food", f"r{i}", i)
                for i in range(3)
            ]
            insert_transactions(session, user_id=user.id, rows=rows)
            session.commit()
            user_id = user.id
    finally:
        database.dispose()
    token = create_access_token(user_id=user_id, secret_key=SECRET, lifetime=timedelta(minutes=10))
    return user_id, token


@pytest.mark.slow
@pytest.mark.postgres
def test_reads_go_to_the_replica_and_writes_to_the_primary(replicated_clusters, api_server):
    """With replay paused on the replica, a delete through the API succeeds (so it went to the
    primary: a standby refuses writes) while the listing still shows the row (so it was read
    from the replica); once replay resumes, the listing catches up."""
    primary, replica = replicated_clusters
    user_id, token = _seed(primary.url)
    with psycopg.connect(replica.dsn, autocommit=True) as standby:
        assert standby.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        _wait_for(
            lambda: standby.execute(
                "SELECT count(*) FROM transactions WHERE user_id = %s", (user_id,)
            ).fetchone()[0]
            == 3
        )
    server = api_server(
        database_url=primary.url,
        workers=2,
        extra_env={"SECRET_KEY": SECRET, "DATABASE_READ_URL": replica.url},
    )
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, timeout=10, headers=headers) as http:
        listed = http.get("/transactions")
        assert listed.status_code == 200
        assert listed.headers["X-Total-Count"] == "3"

        with psycopg.connect(replica.dsn, autocommit=True) as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            _wait_for(
                lambda: standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
                == "paused"
            )
            victim = listed.json()[0]["id"]
            deleted = http.delete(f"/transactions/{victim}")
            assert deleted.status_code == 204, deleted.text
            with psycopg.connect(primary.dsn) as on_primary:
                left = on_primary.execute(
                    "SELECT count(*) FROM transactions WHERE user_id = %s", (user_id,)
                ).fetchone()[0]
            assert left == 2
            # Served by the replica: the deleted row is still listed, everywhere.
            stale = http.get("/transactions")
            assert stale.headers["X-Total-Count"] == "3"
            assert victim in {row["id"] for row in stale.json()}
            assert http.get("/metrics").json()["transaction_count"] == 3
            # Login writes (the failure log) and reads the user on the primary.
            login = http.post("/login", json={"username": "reader", "password": "wrong"})
            assert login.status_code == 401

            standby.execute("SELECT pg_wal_replay_resume()")

        def caught_up() -> bool:
            return http.get("/transactions").headers["X-Total-Count"] == "2"

        _wait_for(caught_up)
        assert victim not in {row["id"] for row in http.get("/transactions").json()}
        assert http.get("/metrics").json()["transaction_count"] == 2
