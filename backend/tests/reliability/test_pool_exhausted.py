"""When every pooled connection is busy, requests wait a bounded time, then get a JSON 503."""

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from spending_api import errors
from spending_api.auth.security import create_access_token
from spending_api.db import Database
from spending_api.main import create_app

# Fault and load suite: `make test-slow` (it stops servers and waits on real processes).
pytestmark = pytest.mark.fault


@pytest.mark.postgres
def test_pool_exhaustion_is_a_fast_503_then_recovers(settings, make_user):
    tight = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_connect_timeout_seconds": 1}
    )
    database = Database.from_settings(tight)
    user = make_user()
    token = create_access_token(
        user_id=user.id, secret_key=tight.secret_key, lifetime=timedelta(minutes=5)
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(settings=tight, database=database)) as client:
            assert client.get("/transactions", headers=headers).status_code == 200
            # Writes go through SQLAlchemy's pool: hold its only connection.
            held = database.engine.connect()
            try:
                started = time.monotonic()
                response = client.delete("/transactions/1", headers=headers)
                waited = time.monotonic() - started
            finally:
                held.close()
            assert_fast_503(response, waited)
            assert client.delete("/transactions/1", headers=headers).status_code == 404

            # Reads (and every request's user lookup) go through the async read pool.
            held_async = client.app.state.read_pool.connection()
            client.portal.call(held_async.__aenter__)
            try:
                started = time.monotonic()
                response = client.get("/transactions?offset=1", headers=headers)
                waited = time.monotonic() - started
            finally:
                client.portal.call(held_async.__aexit__, None, None, None)
            assert_fast_503(response, waited)
            assert client.get("/transactions?offset=1", headers=headers).status_code == 200
    finally:
        database.dispose()


def assert_fast_503(response, waited: float) -> None:
    assert response.status_code == 503
    assert response.json() == {"detail": errors.DATABASE_UNAVAILABLE}
    assert response.headers["Retry-After"] == "1"
    assert waited < 3
