"""The benchmark's own PostgreSQL database: created fresh, dropped at the end."""

import os
import shutil
import subprocess
import uuid

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL as a libpq URL, for psycopg and psql."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def unavailable_reason(url: str = ADMIN_URL) -> str | None:
    try:
        with psycopg.connect(libpq_dsn(url), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return f"{make_url(url).render_as_string()}: {str(exc).strip()}"
    if shutil.which("psql") is None:
        return "psql is not on PATH"
    return None


def new_database_name(kind: str) -> str:
    return f"spending_bench_{kind}_{uuid.uuid4().hex[:8]}"


def create_database(name: str) -> str:
    with psycopg.connect(libpq_dsn(ADMIN_URL), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(libpq_dsn(ADMIN_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq_dsn(url), *args],
        input=input_text,
        capture_output=True,
        text=True,
        check=True,
    )
