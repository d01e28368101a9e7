"""The metrics query: one statement, aggregated in the database.

When the filters allow it (no amount or text filter) it reads the exact daily
rollup instead of the transactions, which keeps a million-row user instant.

The statement is prebuilt SQL per filter shape with GROUPING SETS: one pass over
the rows gives both the per-category and the per-period sums, and no SQLAlchemy
expression is built per request (the API's hot path).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from psycopg import AsyncConnection

from spending_api.db import run_postgresql_async
from spending_api.metrics.schemas import Granularity
from spending_api.transactions.filters import TransactionFilters


@dataclass(frozen=True)
class CategoryAggregate:
    category: str
    total: Decimal
    count: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class PeriodAggregate:
    period_start: date
    total: Decimal
    count: int


_PERIOD = {
    "day": "{day}",
    "week": "CAST(date_trunc('week', {timestamp}) AS date)",
    "month": "CAST(date_trunc('month', {timestamp}) AS date)",
}
_ROLLUP = """
SELECT GROUPING(category) AS by_period, category, {period} AS period_start,
       sum(total) AS total, sum(transaction_count) AS n,
       min(day) AS first_day, max(day) AS last_day
FROM daily_category_spend
WHERE {where}
GROUP BY GROUPING SETS ((category), ({period}))
"""
_BASE = """
SELECT GROUPING(category) AS by_period, category, {period} AS period_start,
       sum(amount) AS total, count(*) AS n,
       CAST(min("timestamp") AS date) AS first_day, CAST(max("timestamp") AS date) AS last_day
FROM transactions
WHERE {where}
GROUP BY GROUPING SETS ((category), ({period}))
"""


@lru_cache(maxsize=256)
def _sql(rollup: bool, where: str, granularity: Granularity) -> str:
    if rollup:
        period = _PERIOD[granularity].format(day="day", timestamp="CAST(day AS timestamp)")
        return _ROLLUP.format(period=period, where=where)
    period = _PERIOD[granularity].format(day='CAST("timestamp" AS date)', timestamp='"timestamp"')
    return _BASE.format(period=period, where=where)


def _query(
    *, user_id: int, filters: TransactionFilters, granularity: Granularity
) -> tuple[str, dict]:
    rollup = filters.uses_rollup
    where, params = filters.postgresql_where(user_id=user_id, rollup=rollup)
    return _sql(rollup, where, granularity), params


def _split_grouping_sets(rows) -> tuple[list[CategoryAggregate], list[PeriodAggregate]]:
    categories: list[CategoryAggregate] = []
    periods: list[PeriodAggregate] = []
    for by_period, category, start, total, count, first_day, last_day in rows:
        if by_period:
            periods.append(PeriodAggregate(period_start=start, total=total, count=int(count)))
        else:
            categories.append(
                CategoryAggregate(
                    category=category,
                    total=total,
                    count=int(count),
                    first_day=first_day,
                    last_day=last_day,
                )
            )
    return categories, periods


async def aggregate_async(
    connection: AsyncConnection,
    *,
    user_id: int,
    filters: TransactionFilters,
    granularity: Granularity,
) -> tuple[list[CategoryAggregate], list[PeriodAggregate]]:
    """Per-category and per-period sums of the matching transactions."""
    sql, params = _query(user_id=user_id, filters=filters, granularity=granularity)
    return _split_grouping_sets(await run_postgresql_async(connection, sql, params))
