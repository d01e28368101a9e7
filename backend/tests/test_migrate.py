"""Alembic is the one source of the schema; db/init.sql is generated from it."""

from pathlib import Path

from sqlalchemy import create_engine, inspect

from spending_api.db import Base
from spending_api.migrate import offline_sql, upgrade

INIT_SQL = Path(__file__).resolve().parents[2] / "db" / "init.sql"


def test_init_sql_is_generated_from_the_migrations():
    assert (
        INIT_SQL.read_text() == offline_sql()
    ), "db/init.sql is out of date with the migrations: run `make init-sql`"


def test_migrations_create_every_table_of_the_models(postgresql_url):
    upgrade(postgresql_url)  # already at head: a no-op that must not fail
    engine = create_engine(postgresql_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
