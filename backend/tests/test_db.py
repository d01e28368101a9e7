"""The async read pool: reuses clean connections, drops the rest, fails fast."""

import asyncio

import psycopg
import pytest

from sqlalchemy.engine import make_url

from spending_api.db import (
    AsyncReadPool,
    ReadPoolTimeout,
    libpq_url,
)


@pytest.fixture
def pool(postgresql_url) -> AsyncReadPool:
    return AsyncReadPool(
        libpq_url(make_url(postgresql_url)), max_size=1, timeout=0.5, recycle_seconds=60
    )


def test_a_clean_connection_is_reused_and_one_left_in_a_transaction_is_not(pool):
    async def scenario() -> list[int]:
        pids = []
        for _ in range(2):
            async with pool.connection() as connection:
                pids.append(connection.info.backend_pid)
        async with pool.connection() as connection:
            await connection.execute("BEGIN")
        assert pool.idle_count == 0
        async with pool.connection() as connection:
            pids.append(connection.info.backend_pid)
        await pool.close()
        return pids

    first, reused, fresh = asyncio.run(scenario())
    assert first == reused
    assert fresh != first


def test_a_busy_pool_times_out_with_an_operational_error(pool):
    async def scenario() -> None:
        async with pool.connection():
            with pytest.raises(ReadPoolTimeout):
                async with pool.connection():
                    pass
        await pool.close()

    asyncio.run(scenario())
    assert issubclass(ReadPoolTimeout, psycopg.OperationalError)  # so the API answers 503


def test_an_unreachable_database_fails_at_once(postgresql_url):
    url = libpq_url(make_url(postgresql_url).set(port=1))  # nothing listens there
    pool = AsyncReadPool(url, max_size=1, timeout=5, recycle_seconds=60, connect_timeout=5)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection():
                pass
        return loop.time() - started

    assert asyncio.run(scenario()) < 2


def test_after_a_lost_server_connection_the_idle_ones_are_dropped_too(postgresql_url):
    pool = AsyncReadPool(
        libpq_url(make_url(postgresql_url)), max_size=2, timeout=1, recycle_seconds=60
    )

    async def scenario() -> None:
        async with pool.connection() as first, pool.connection() as second:
            pids = [first.info.backend_pid, second.info.backend_pid]
        assert pool.idle_count == 2
        with psycopg.connect(libpq_url(make_url(postgresql_url)), autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            async with pool.connection() as connection:
                await connection.execute("SELECT 1")
        assert pool.idle_count == 0  # the other dead one is gone as well
        async with pool.connection() as connection:
            await connection.execute("SELECT 1")
        await pool.close()

    asyncio.run(scenario())
