"""Fixtures: one migrated database per test session for each engine, emptied after every test.

Every API and repository test runs twice, on SQLite and on PostgreSQL. PostgreSQL
comes from TEST_DATABASE_URL, else the server on 127.0.0.1:5432, else a private
server started with pytest-postgresql's executor; with none of them the
PostgreSQL half is skipped, or fails under CI=true.
"""

import glob
import importlib.util
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from spending_api.auth.security import create_access_token, hash_password
from spending_api.db import Database
from spending_api.main import create_app
from spending_api.migrate import upgrade
from spending_api.models import User
from spending_api.settings import Settings
from spending_api.transactions.repository import NewTransaction, insert_transactions

# Test helpers for real server processes (the tests run in importlib mode: no package imports).
_spec = importlib.util.spec_from_file_location(
    "spending_test_processes", Path(__file__).with_name("reliability") / "processes.py"
)
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TABLES = ("login_failures", "daily_category_spend", "transactions", "users")


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"no PostgreSQL server available: {reason}")


def _reachable(url: str) -> str | None:
    try:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory) -> Iterator[str]:
    """A URL to a PostgreSQL server on which the tests may create databases."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    problem = _reachable(url)
    if problem is None:
        yield url
        return
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl")]
    if not pg_ctl[-1] or os.geteuid() == 0:
        # pg_ctl refuses to run as root, and without it there is nothing to start.
        _unavailable(f"{url}: {problem}")
    from pytest_postgresql.executor import PostgreSQLExecutor

    port = 55432 + os.getpid() % 1000
    executor = PostgreSQLExecutor(
        executable=pg_ctl[-1],
        host="127.0.0.1",
        port=port,
        datadir=str(tmp_path_factory.mktemp("pgdata")),
        unixsocketdir=tempfile.gettempdir(),
        logfile=str(tmp_path_factory.mktemp("pglog") / "postgresql.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
    )
    with executor:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def postgresql_url(postgres_admin_url) -> Iterator[str]:
    """A fresh, migrated database for this test session; dropped at the end."""
    name = f"spending_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = make_url(postgres_admin_url).set(drivername="postgresql")
    admin = admin_dsn.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'spending.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Each database-backed test runs once per engine."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=TEST_SECRET,
        database_url=database_url,
        db_connect_timeout_seconds=2,
    )


@pytest.fixture(scope="session")
def database(settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request) -> Iterator[None]:
    """Leave every table empty for the next test (only for database tests)."""
    yield
    if "database" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("database")
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


@pytest.fixture
def app(settings, database):
    return create_app(settings=settings, database=database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@lru_cache
def _password_hash(password: str) -> str:
    # Argon2 is slow on purpose; hash each test password once per run.
    return hash_password(password)


@pytest.fixture
def make_user(database) -> Callable[..., User]:
    def make(username: str | None = None, password: str = "correct horse") -> User:
        with database.session() as session:
            user = User(
                username=username or f"user-{uuid.uuid4().hex[:8]}",
                password_hash=_password_hash(password),
            )
            session.add(user)
            session.commit()
            return user

    return make


def _new_transaction(row: tuple, line_no: int) -> NewTransaction:
    timestamp, amount, *rest = row
    category = rest[0] if rest else "Food"
    description = rest[1] if len(rest) > 1 else None
    if isinstance(timestamp, str):
        timestamp = datetime.fromisoformat(timestamp)
    return NewTransaction(timestamp, Decimal(amount), category, description, line_no)


@pytest.fixture
def add_transactions(database) -> Callable[..., int]:
    """Store rows for a user through the import path (so the rollup is maintained).

    add_transactions(user, [("2024-02-29T12:00", "12.30", "Food", "Bakery"), ...])
    """

    def add(user: User, rows: list[tuple]) -> int:
        numbered = [_new_transaction(row, line_no) for line_no, row in enumerate(rows, start=1)]
        with database.session() as session:
            counts = insert_transactions(session, user_id=user.id, rows=numbered)
            session.commit()
        return counts.inserted

    return add


@pytest.fixture
def auth_headers(settings) -> Callable[[User], dict[str, str]]:
    from datetime import timedelta

    def headers(user: User) -> dict[str, str]:
        token = create_access_token(
            user_id=user.id, secret_key=settings.secret_key, lifetime=timedelta(minutes=5)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def api_server(tmp_path) -> Iterator[Callable[..., object]]:
    """Start the API under uvicorn: api_server(database_url=..., workers=2, extra_env={...})."""
    started = []

    def start(**kwargs):
        server = processes.start_api(log_dir=tmp_path, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
