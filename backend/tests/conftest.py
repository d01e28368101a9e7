"""Fixtures: one migrated PostgreSQL database per test process, emptied after every test.

The server is TEST_DATABASE_URL, else the one on 127.0.0.1:5432, else the embedded
server in data/test-postgresql/ (spending_api.embedded.server_for_tests), so a machine
without PostgreSQL skips nothing (TEST_DATABASE_URL=embedded picks the embedded one).
Each pytest-xdist worker gets its own database, copied from a template that is migrated
once per migration state (CREATE DATABASE ... TEMPLATE is a file copy, much faster than
running the migrations again).
"""

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from spending_api.auth import security
from spending_api.auth.security import create_access_token, hash_password
from spending_api.auth.service import utcnow
from spending_api.db import Database
from spending_api.deps import get_clock
from spending_api.embedded import server_for_tests
from spending_api.main import create_app
from spending_api.migrate import upgrade
from spending_api.models import User
from spending_api.settings import REPO_ROOT, Settings
from spending_api.transactions.repository import NewTransaction, insert_transactions
from testkit import processes

MIGRATIONS_DIR = REPO_ROOT / "backend" / "migrations" / "versions"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Above this many rows in a table, TRUNCATE (a file swap) beats DELETE (row by row).
DELETE_MAX_ROWS = 10_000


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Argon2 at its cheapest for the tests: a hash costs microseconds, not 64 MiB and
    tens of milliseconds. Hashes keep their parameters, so verification is cheap too;
    servers started as processes keep the real cost."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    saved = security._hasher, security._DUMMY_HASH
    security._hasher, security._DUMMY_HASH = cheap, cheap.hash("timing-equaliser")
    yield
    security._hasher, security._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[tuple[str, object]]:
    """(admin URL, the embedded server or None): see spending_api.embedded.server_for_tests."""
    url, embedded_server = server_for_tests(os.environ.get("TEST_DATABASE_URL"))
    yield url, embedded_server
    if embedded_server is not None:
        embedded_server.stop()  # unless another xdist worker still uses it


@pytest.fixture(scope="session")
def postgres_admin_url(_postgres_server) -> str:
    """A URL to a PostgreSQL server on which the tests may create databases."""
    return _postgres_server[0]


def _template_name() -> str:
    """Named after the migrations' text: a changed migration gets a fresh template."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.glob("*.py")):
        digest.update(path.read_bytes())
    return f"spending_template_{digest.hexdigest()[:12]}"


def _ensure_template(admin: str) -> str:
    name = _template_name()
    with psycopg.connect(admin, autocommit=True) as connection:
        # One worker migrates; the others wait on the lock, then find it done.
        connection.execute("SELECT pg_advisory_lock(hashtext('spending_test_template'))")
        try:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                building = f"{name}_building"
                connection.execute(f'DROP DATABASE IF EXISTS "{building}"')
                connection.execute(f'CREATE DATABASE "{building}"')
                upgrade(
                    make_url(admin)
                    .set(drivername="postgresql+psycopg", database=building)
                    .render_as_string(hide_password=False)
                )
                connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('spending_test_template'))")
    return name


@pytest.fixture(scope="session")
def postgresql_url(postgres_admin_url, _postgres_server) -> Iterator[str]:
    """A fresh, migrated database for this test process; dropped at the end."""
    name = f"spending_test_{uuid.uuid4().hex[:12]}"
    admin = _libpq(postgres_admin_url)
    template = _ensure_template(admin)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        processes.drop_database(admin, name, wait=_postgres_server[1] is not None)


@pytest.fixture(scope="session")
def database_url(postgresql_url) -> str:
    return postgresql_url


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


@dataclass(frozen=True)
class _Tables:
    """The schema's tables, read from the database itself (new tables are covered as the
    migrations add them), the sequences they own, and whether this role may switch off
    triggers and foreign keys (a superuser, as on the local and the embedded server)."""

    names: tuple[str, ...]
    sequences: tuple[str, ...]
    superuser: bool

    @classmethod
    def of(cls, engine) -> "_Tables":
        with engine.connect() as connection:
            names = connection.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            ).all()
            superuser = connection.scalar(text("SELECT current_setting('is_superuser')")) == "on"
            sequences = connection.scalars(
                text(
                    "SELECT quote_literal(quote_ident(s.relname)) FROM pg_class s"
                    " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                    " JOIN pg_class t ON t.oid = d.refobjid"
                    " WHERE s.relkind = 'S' AND t.relname = ANY(:names)"
                ),
                {"names": names},
            ).all()
        return cls(tuple(names), tuple(sequences), superuser)


@pytest.fixture(scope="session")
def _tables(database) -> _Tables:
    return _Tables.of(database.engine)


@pytest.fixture(autouse=True)
def _empty_tables(request) -> Iterator[None]:
    """Leave every table empty, its ids restarted, for the next test (only for database
    tests). DELETE of the few rows a test leaves takes about a millisecond, with triggers
    and foreign keys off (replica role), so no trigger writes a row back and the order does
    not matter; TRUNCATE swaps files (50-180 ms per test), so it is kept for tests that
    leave many rows and for a role that may not switch triggers off."""
    if "database" not in request.fixturenames:
        yield
        return
    database: Database = request.getfixturevalue("database")
    tables: _Tables = request.getfixturevalue("_tables")
    yield
    quoted = [f'"{name}"' for name in tables.names]
    counts = " UNION ALL ".join(
        f"SELECT {i}, count(*) FROM (SELECT FROM {table} LIMIT {DELETE_MAX_ROWS + 1}) rows"
        for i, table in enumerate(quoted)
    )
    with database.engine.begin() as connection:
        rows = dict(connection.execute(text(counts)).all())
        dirty = [table for i, table in enumerate(quoted) if rows[i]]
        if not tables.superuser or any(count > DELETE_MAX_ROWS for count in rows.values()):
            if dirty:
                connection.execute(text(f"TRUNCATE {', '.join(dirty)} RESTART IDENTITY CASCADE"))
        elif dirty:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in dirty:
                connection.execute(text(f"DELETE FROM {table}"))
        if tables.sequences:
            connection.execute(
                text("SELECT " + ", ".join(f"setval({s}, 1, false)" for s in tables.sequences))
            )


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


@pytest.fixture(scope="session")
def _session_app(settings, database):
    """The test process's app for the session settings: built once, because FastAPI builds
    each app's routes (their models and dependencies) on its first requests, about 50 ms
    of CPU per app, which was a third of the backend tests' own CPU with an app per test."""
    return create_app(settings=settings, database=database)


@pytest.fixture
def app(_session_app):
    """The app as create_app(settings, database) returns it: every test starts from the
    state create_app left (no dependency overrides, an empty response cache, the state's
    own values), whatever the test before it set or cached; each TestClient still runs the
    lifespan (pool opened, closed, engine disposed) as before."""
    app = _session_app
    state = dict(app.state._state)
    cache = state["response_cache"]
    app.state.response_cache = None if cache is None else type(cache)(cache.max_bytes)
    app.dependency_overrides.clear()
    routes = list(app.router.routes)
    yield app
    app.dependency_overrides.clear()
    app.state._state.clear()
    app.state._state.update(state)
    assert list(app.router.routes) == routes, "a test changed the shared app's routes"


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


class Clock:
    """A clock that moves only when told: `install(app)` makes the app's routes read it
    (spending_api.deps.get_clock), `advance(seconds=...)` moves it."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def install(self, app) -> None:
        app.dependency_overrides[get_clock] = lambda: self


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth_headers(settings) -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        token = create_access_token(
            user_id=user.id, secret_key=settings.secret_key, lifetime=timedelta(minutes=5)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


def _api_servers(log_dir: Path) -> Iterator[Callable[..., object]]:
    started = []

    def start(**kwargs):
        server = processes.start_api(log_dir=log_dir, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def api_server(tmp_path) -> Iterator[Callable[..., object]]:
    """Start the API under uvicorn: api_server(database_url=..., workers=2, extra_env={...})."""
    yield from _api_servers(tmp_path)


@pytest.fixture(scope="module")
def module_api_server(tmp_path_factory) -> Iterator[Callable[..., object]]:
    """api_server for a test module: a start (seconds) shared by the tests that need no
    process of their own; stopped after the module."""
    yield from _api_servers(tmp_path_factory.mktemp("api"))


@pytest.fixture
def new_user(database) -> Callable[..., User]:
    """A user as signing up makes one (auth.repository.create_user): the default account
    and the default categories."""
    from spending_api.auth.repository import create_user

    def make(username: str | None = None, password: str = "correct horse") -> User:
        with database.session() as session:
            user = create_user(
                session,
                username=username or f"user-{uuid.uuid4().hex[:8]}",
                password_hash=_password_hash(password),
            )
            session.commit()
            return user

    return make


@pytest.fixture
def assert_rollup_exact(database) -> Callable[[str], None]:
    """assert_rollup_exact(step): every daily_category_spend row equals GROUP BY user, day,
    account and category over transactions, and no rollup row is left without rows."""
    grouped = (
        'SELECT user_id, CAST("timestamp" AS date), account_id, category, sum(amount), count(*) '
        "FROM transactions GROUP BY 1, 2, 3, 4"
    )
    rolled = (
        "SELECT user_id, day, account_id, category, total, transaction_count "
        "FROM daily_category_spend"
    )

    def check(step: str) -> None:
        with database.session() as session:
            base = {tuple(r[:4]): tuple(r[4:]) for r in session.execute(text(grouped))}
            rollup = {tuple(r[:4]): tuple(r[4:]) for r in session.execute(text(rolled))}
        assert rollup == base, f"{step}: the rollup differs from the base table"

    return check
