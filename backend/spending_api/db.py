"""Database engines, sessions, the declarative base and the API's read executors."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import URL, Engine, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from spending_api import embedded
from spending_api.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Connections are replaced after this long (server-side memory, failovers behind a proxy).
POOL_RECYCLE_SECONDS = 1800


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _server_options(settings: Settings) -> str:
    return f"-c statement_timeout={settings.db_statement_timeout_ms}"


def make_engine(url: str, settings: Settings) -> Engine:
    options = _server_options(settings)
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No pre-ping round trip per request: a connection found dead raises a disconnect
        # error, which invalidates the whole pool and answers 503 (main.py), so the
        # service recovers on the next request once the database is back.
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_timeout=settings.db_connect_timeout_seconds,
        connect_args={
            "connect_timeout": settings.db_connect_timeout_seconds,
            "options": options,
        },
    )


@dataclass
class Database:
    """The primary (reads and writes) and, when configured, a read replica."""

    engine: Engine
    read_engine: Engine

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        engine = make_engine(embedded.database_url(settings), settings)
        read_engine = (
            make_engine(settings.database_read_url, settings)
            if settings.database_read_url
            else engine
        )
        return cls(engine=engine, read_engine=read_engine)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def read_session(self) -> Session:
        """Reads in one transaction (one snapshot; server-side cursors need one)."""
        return self._read_sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


async def run_postgresql_async(
    connection: psycopg.AsyncConnection, sql: str, params: dict, row_factory=None
) -> list:
    async with connection.cursor(row_factory=row_factory) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall()


def libpq_url(url: URL) -> str:
    """A SQLAlchemy URL as the libpq connection string psycopg takes."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _connection_kwargs(settings: Settings) -> dict:
    return {
        "autocommit": True,
        "connect_timeout": settings.db_connect_timeout_seconds,
        "options": _server_options(settings),
    }


@dataclass
class Reads:
    """Where a request's reads run: on a connection of the app's async pool, which its
    lifespan opens; without it (an app driven without its lifespan, as by some tests),
    on a connection of its own per call. Either way the same async repository code."""

    database: Database
    settings: Settings
    pool: AsyncConnectionPool | None = None

    async def run(self, read: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        if self.pool is not None:
            async with self.pool.connection() as connection:
                return await read(connection)
        connection = await psycopg.AsyncConnection.connect(
            libpq_url(self.database.read_engine.url), **_connection_kwargs(self.settings)
        )
        async with connection:
            return await read(connection)


def make_async_read_pool(database: Database, settings: Settings) -> AsyncConnectionPool:
    """psycopg async connections (autocommit) for the reads on the event loop: raw
    psycopg costs a fraction of a SQLAlchemy session in a worker thread.

    Opened by the app's lifespan (`open()`), it connects on demand (min_size 0). Fail
    fast: a request waits at most the connect timeout for a connection, then gets a
    PoolTimeout (an OperationalError: a 503). A connection that comes back broken is
    dropped; a failed reconnect is not retried for longer than the connect timeout, so
    once the database is back the next requests connect at once instead of waiting out
    a growing back-off.
    """
    timeout = settings.db_connect_timeout_seconds
    return AsyncConnectionPool(
        libpq_url(database.read_engine.url),
        min_size=0,
        max_size=settings.db_pool_size,
        timeout=timeout,
        reconnect_timeout=timeout,
        max_lifetime=POOL_RECYCLE_SECONDS,
        kwargs=_connection_kwargs(settings),
        open=False,
    )
