"""Database engines, sessions, the declarative base and the API's read executors."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import psycopg
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


class ReadPoolTimeout(psycopg.OperationalError):
    """Every connection of the async read pool stayed busy for the whole timeout."""


class AsyncReadPool:
    """psycopg async connections for one-statement reads on the event loop (autocommit).

    The per-request identity lookup runs here: raw psycopg on the event loop costs a
    fraction of a SQLAlchemy session in a worker thread. Like SQLAlchemy's pool it
    connects on demand and fails fast: with the database down, a request gets its error
    (a 503) in the time one connection attempt takes, instead of waiting on a
    background reconnect loop. A connection that comes back broken, or inside a
    transaction, is closed instead of reused.
    """

    def __init__(
        self, conninfo: str, *, max_size: int, timeout: float, recycle_seconds: float, **kwargs
    ) -> None:
        self.conninfo = conninfo
        self.timeout = timeout
        self.recycle_seconds = recycle_seconds
        self.kwargs = kwargs
        self._slots = asyncio.Semaphore(max_size)
        self._idle: list[tuple[psycopg.AsyncConnection, float]] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self._slots.locked():  # wait_for costs a task and a timer: only when waiting
            try:
                await asyncio.wait_for(self._slots.acquire(), self.timeout)
            except TimeoutError:
                raise ReadPoolTimeout("no database connection free") from None
        else:
            await self._slots.acquire()  # a free slot: taken at once
        try:
            connection, born = await self._checkout()
            try:
                yield connection
            finally:
                await self._checkin(connection, born)
        finally:
            self._slots.release()

    async def _checkout(self) -> tuple[psycopg.AsyncConnection, float]:
        while self._idle:
            connection, born = self._idle.pop()
            if time.monotonic() - born < self.recycle_seconds:
                return connection, born
            await connection.close()
        connection = await psycopg.AsyncConnection.connect(
            self.conninfo, **{"autocommit": True, **self.kwargs}
        )
        return connection, time.monotonic()

    async def _checkin(self, connection: psycopg.AsyncConnection, born: float) -> None:
        if connection.broken:
            # The server went away: the idle ones are as dead as this one (like
            # SQLAlchemy's pool invalidation), so the next requests connect afresh.
            await connection.close()
            await self.close()
            return
        idle = connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if connection.closed or not idle:
            await connection.close()
            return
        self._idle.append((connection, born))

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await connection.close()


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
    pool: AsyncReadPool | None = None

    async def run(self, read: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        if self.pool is not None:
            async with self.pool.connection() as connection:
                return await read(connection)
        connection = await psycopg.AsyncConnection.connect(
            libpq_url(self.database.read_engine.url), **_connection_kwargs(self.settings)
        )
        async with connection:
            return await read(connection)


def make_async_read_pool(database: Database, settings: Settings) -> AsyncReadPool:
    """The async read pool for the read engine's database."""
    return AsyncReadPool(
        libpq_url(database.read_engine.url),
        max_size=settings.db_pool_size,
        timeout=settings.db_connect_timeout_seconds,
        recycle_seconds=POOL_RECYCLE_SECONDS,
        **_connection_kwargs(settings),
    )
