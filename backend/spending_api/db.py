"""Database engines, sessions, the declarative base and the exact money type."""

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, Engine, MetaData, Numeric, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from spending_api.settings import Settings

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator):
    """NUMERIC on PostgreSQL; integer cents on SQLite, whose NUMERIC is a float.

    SQLite would store 0.1 as a binary float and sum it inexactly, so there the
    value travels as a whole number of cents and comes back as a Decimal.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 12, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(CENT)
        if dialect.name == "sqlite":
            return int(value * 100)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


def _configure_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute("PRAGMA journal_mode = WAL")
    dbapi_connection.execute("PRAGMA busy_timeout = 10000")
    # SQLite's own lower() folds ASCII only; the description search must be
    # case-insensitive for every script, as it is on PostgreSQL.
    dbapi_connection.create_function(
        "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
    )


def make_engine(url: str, settings: Settings) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    options = f"-c statement_timeout={settings.db_statement_timeout_ms}"
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No pre-ping round trip per request: a connection found dead raises a disconnect
        # error, which invalidates the whole pool and answers 503 (main.py), so the
        # service recovers on the next request once the database is back.
        pool_pre_ping=False,
        pool_recycle=1800,
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
        engine = make_engine(settings.database_url, settings)
        read_engine = (
            make_engine(settings.database_read_url, settings)
            if settings.database_read_url
            else engine
        )
        return cls(engine=engine, read_engine=read_engine)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        # A request's reads are single statements: without a transaction they save the
        # BEGIN and ROLLBACK round trips. SQLite keeps its own default.
        autocommit = self.read_engine
        if self.read_engine.dialect.name == "postgresql":
            autocommit = self.read_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._request_read_sessions = sessionmaker(autocommit, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def read_session(self) -> Session:
        """Reads in one transaction (one snapshot; server-side cursors need one)."""
        return self._read_sessions()

    def request_read_session(self) -> Session:
        """Reads of one statement each, outside a transaction (the API's GET routes)."""
        return self._request_read_sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
