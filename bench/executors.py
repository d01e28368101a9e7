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
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import pg
from bench.dataset import add_users, demo_rows
from spending_api.db import libpq_url, make_async_read_pool
from spending_api.metrics import repository as metrics
from spending_api.transactions import repository as transactions
from spending_api.transactions.filters import TransactionFilters

IDENTITY = "SELECT id, username, data_version FROM users WHERE id = %s"


def _statements(user_id: int) -> dict[str, list[tuple[str, object]]]:
    """Each hot-path request as the statements it runs."""
    filters = TransactionFilters()
    page = transactions._list_query(
        user_id=user_id, filters=filters, sort="-timestamp", limit=100, offset=0
    )
    return {
        "identity": [(IDENTITY, (user_id,))],
        "metrics": [metrics._query(user_id=user_id, filters=filters, granularity="month")],
        "transactions": [page, transactions._count_query(user_id=user_id, filters=filters)],
    }


@asynccontextmanager
async def _executor(connect, fetch, close):
    """A batch runner: each batch on one connection from `connect()`, each statement's
    rows by `fetch(connection, sql, params)`; `close()` afterwards."""

    async def run(batch):
        async with connect() as connection:
            for sql, params in batch:
                await fetch(connection, sql, params)

    try:
        yield run
    finally:
        await close()


async def _psycopg_rows(connection, sql, params):
    return await (await connection.execute(sql, params)).fetchall()


async def _sqlalchemy_rows(connection, sql, params):
    return (await connection.exec_driver_sql(sql, params)).fetchall()


async def _measure(url: str, user_id: int, rounds: int) -> dict[str, dict[str, float]]:
    settings = pg.settings(url, db_pool_size=4)
    with pg.database(url, db_pool_size=4) as database:
        pool = make_async_read_pool(database, settings)
        executors = {"AsyncReadPool": _executor(pool.connection, _psycopg_rows, pool.close)}
        try:
            from psycopg_pool import AsyncConnectionPool
        except ImportError:
            pass
        else:
            dsn, options = libpq_url(make_url(url)), {"autocommit": True}
            other = AsyncConnectionPool(dsn, min_size=1, max_size=4, open=False, kwargs=options)
            await other.open(wait=True)
            executors["psycopg_pool"] = _executor(other.connection, _psycopg_rows, other.close)
        async_url = make_url(url).set(drivername="postgresql+psycopg_async")
        engine = create_async_engine(async_url, pool_size=4, isolation_level="AUTOCOMMIT")
        executors["SQLAlchemy async"] = _executor(engine.connect, _sqlalchemy_rows, engine.dispose)
        results = {}
        for executor, runner in executors.items():
            async with runner as run:
                results[executor] = {
                    name: await _median_us(lambda batch=batch: run(batch), rounds)
                    for name, batch in _statements(user_id).items()
                }
    return results


async def _median_us(run, rounds: int) -> float:
    for _ in range(rounds // 10):  # warm: connections open, plans cached
        await run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    with pg.fresh_database("executors") as url:
        [user_id] = add_users(url, ["typical"], "x", rows=lambda n: demo_rows(n, ["demo"]))
        results = asyncio.run(_measure(url, user_id, args.rounds))
    names = list(next(iter(results.values())))
    print(f"{'median µs':<18}" + "".join(f"{n:>14}" for n in names))
    for executor, row in results.items():
        print(f"{executor:<18}" + "".join(f"{row[n]:>14.0f}" for n in names))


if __name__ == "__main__":
    main()
