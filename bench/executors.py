"""Hot-path reads on three executors, in-process on one event loop (issue 12's comparison).

The same SQL text (the repositories' prebuilt statements) for a typical user (two years of
demo data): the per-request identity lookup, the /metrics aggregate and one /transactions
page with its count, each timed as the median of many awaited calls, on
  - the app's `AsyncReadPool` (spending_api.db.make_async_read_pool),
  - SQLAlchemy's async engine over psycopg (`exec_driver_sql`, statements built once),
  - psycopg_pool's `AsyncConnectionPool`, when that package is installed (it is not a
    dependency: see docs/ARCHITECTURE.md for why it was measured and not kept).

    .venv/bin/python -m bench.executors            # prints a table, in microseconds
"""

import argparse
import asyncio
import statistics
import time
from datetime import date

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import pg
from spending_api.auth.repository import create_user
from spending_api.db import Database, libpq_url, make_async_read_pool
from spending_api.demo import generate_transactions
from spending_api.metrics import repository as metrics
from spending_api.migrate import upgrade
from spending_api.settings import Settings
from spending_api.transactions import repository as transactions
from spending_api.transactions.filters import TransactionFilters
from spending_api.transactions.repository import insert_transactions

IDENTITY = "SELECT id, username, data_version FROM users WHERE id = %s"


def _statements(user_id: int) -> dict[str, list[tuple[str, object]]]:
    """Each hot-path request as the statements it runs."""
    filters = TransactionFilters()
    metrics_sql = metrics._query(user_id=user_id, filters=filters, granularity="month")
    page = transactions._list_query(
        user_id=user_id, filters=filters, sort="-timestamp", limit=100, offset=0
    )
    count = transactions._count_query(user_id=user_id, filters=filters)
    return {
        "identity": [(IDENTITY, (user_id,))],
        "metrics": [metrics_sql],
        "transactions": [page, count],
    }


async def _timed(run, rounds: int) -> float:
    for _ in range(rounds // 10):  # warm: connections open, plans cached
        await run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


async def _measure(database, settings, sqlalchemy_url: str, user_id: int, rounds: int) -> dict:
    statements = _statements(user_id)
    results: dict[str, dict[str, float]] = {}

    pool = make_async_read_pool(database, settings)

    async def on_pool(batch):
        async with pool.connection() as connection:
            for sql, params in batch:
                await (await connection.execute(sql, params)).fetchall()

    executors = [("AsyncReadPool", on_pool)]
    try:
        from psycopg_pool import AsyncConnectionPool
    except ImportError:
        other = None
    else:
        other = AsyncConnectionPool(
            libpq_url(database.read_engine.url),
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
        )
        await other.open(wait=True)

        async def on_other(batch):
            async with other.connection() as connection:
                for sql, params in batch:
                    await (await connection.execute(sql, params)).fetchall()

        executors.append(("psycopg_pool", on_other))

    engine = create_async_engine(
        sqlalchemy_url, pool_size=4, isolation_level="AUTOCOMMIT", pool_pre_ping=False
    )

    async def on_engine(batch):
        async with engine.connect() as connection:
            for sql, params in batch:
                (await connection.exec_driver_sql(sql, params)).fetchall()

    for executor, run in [*executors, ("SQLAlchemy async", on_engine)]:
        results[executor] = {
            name: await _timed(lambda batch=batch: run(batch), rounds)
            for name, batch in statements.items()
        }
    await pool.close()
    if other is not None:
        await other.close()
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    name = pg.new_database_name("executors")
    url = make_url(pg.create_database(name))
    try:
        upgrade(url.render_as_string(False))
        settings = Settings(
            _env_file=None, database_url=url.render_as_string(False), db_pool_size=4
        )
        database = Database.from_settings(settings)
        with database.session() as session:
            user = create_user(session, username="typical", password_hash="x")
            rows = generate_transactions(seed=1, end=date.today(), days=730, persona="demo")
            insert_transactions(session, user_id=user.id, rows=rows)
            session.commit()
            user_id = user.id
        async_url = url.set(drivername="postgresql+psycopg_async").render_as_string(False)
        results = asyncio.run(_measure(database, settings, async_url, user_id, args.rounds))
        database.dispose()
    finally:
        pg.drop_database(name)
    names = list(next(iter(results.values())))
    print(f"{'median µs':<18}" + "".join(f"{n:>14}" for n in names))
    for executor, row in results.items():
        print(f"{executor:<18}" + "".join(f"{row[n]:>14.0f}" for n in names))


if __name__ == "__main__":
    main()
