"""The async read pool as the app configures it: reuses clean connections, drops broken
ones, and fails within the connect timeout."""

import asyncio

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from spending_api.db import Database, make_async_read_pool


@pytest.fixture
def tight(settings):
    """The app's read pool with one connection and a one-second timeout."""
    return settings.model_copy(update={"db_pool_size": 1, "db_connect_timeout_seconds": 1})


def _run(settings, scenario):
    database = Database.from_settings(settings)

    async def main():
        pool = make_async_read_pool(database, settings)
        await pool.open(wait=False)
        try:
            return await scenario(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(main())
    finally:
        database.dispose()


def test_a_clean_connection_is_reused_and_a_failed_transaction_rolled_back(tight):
    async def scenario(pool):
        pids = []
        for _ in range(2):
            async with pool.connection() as connection:
                pids.append(connection.info.backend_pid)
        with pytest.raises(ZeroDivisionError):
            async with pool.connection() as connection:
                await connection.execute("BEGIN")
                await connection.execute("CREATE TEMPORARY TABLE scratch (n int)")
                1 / 0
        async with pool.connection() as connection:
            status = connection.info.transaction_status
            # Created inside the transaction that failed: gone with it.
            missing = await (
                await connection.execute("SELECT to_regclass('pg_temp.scratch')")
            ).fetchone()
        return pids, status, missing

    (first, reused), status, missing = _run(tight, scenario)
    assert first == reused
    assert status == psycopg.pq.TransactionStatus.IDLE
    assert missing == (None,)


def test_a_busy_pool_times_out_with_an_operational_error(tight):
    async def scenario(pool):
        async with pool.connection():
            with pytest.raises(PoolTimeout):
                async with pool.connection():
                    pass

    _run(tight, scenario)
    assert issubclass(PoolTimeout, psycopg.OperationalError)  # so the API answers 503


def test_an_unreachable_database_fails_within_the_connect_timeout(tight):
    unreachable = tight.model_copy(
        update={"database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    )

    async def scenario(pool):
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection():
                pass
        return loop.time() - started

    assert _run(unreachable, scenario) < 1 + 1  # the timeout, and room for a busy machine


def test_a_connection_lost_on_the_server_side_is_dropped_and_replaced(tight, postgresql_url):
    admin_dsn = psycopg.conninfo.make_conninfo(
        postgresql_url.replace("postgresql+psycopg", "postgresql")
    )

    async def scenario(pool):
        async with pool.connection() as connection:
            pid = connection.info.backend_pid
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection() as connection:
                await connection.execute("SELECT 1")
        async with pool.connection() as connection:
            await connection.execute("SELECT 1")
            return pid, connection.info.backend_pid

    dead, fresh = _run(tight, scenario)
    assert fresh != dead
