"""Runs the Alembic migrations, the single source of the schema."""

from pathlib import Path

from alembic import command
from alembic.config import Config

BACKEND_DIR = Path(__file__).resolve().parents[1]
INIT_SQL_HEADER = (
    "-- Generated from the Alembic migrations by `make init-sql`; do not edit by hand.\n"
    "-- Docker Compose mounts it into the PostgreSQL container, which runs it on first start.\n"
)


def alembic_config(database_url: str) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BACKEND_DIR / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def offline_sql(revision: str = "head") -> str:
    """The PostgreSQL DDL of all migrations, as `db/init.sql` holds it."""
    import contextlib
    import io

    config = alembic_config("postgresql+psycopg://")
    buffer = io.StringIO()
    config.output_buffer = buffer
    with contextlib.redirect_stdout(buffer):
        command.upgrade(config, revision, sql=True)
    return INIT_SQL_HEADER + buffer.getvalue()


def main() -> None:
    import argparse
    import sys

    from spending_api.embedded import database_url
    from spending_api.settings import get_settings

    parser = argparse.ArgumentParser(description="Apply, or print as SQL, the migrations.")
    parser.add_argument("--sql", action="store_true", help="print PostgreSQL DDL instead")
    if parser.parse_args().sql:
        sys.stdout.write(offline_sql())
    else:
        upgrade(database_url(get_settings()))


if __name__ == "__main__":
    main()
