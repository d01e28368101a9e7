"""The metrics query: one statement, aggregated in the database.

When the filters allow it (no amount or text filter) it reads the exact daily
rollup instead of the transactions, which keeps a million-row user instant.

On PostgreSQL the statement is prebuilt SQL per filter shape with GROUPING SETS:
one pass over the rows gives both the per-category and the per-period sums, and
no SQLAlchemy expression is built per request (the API's hot path). SQLite gets
the same answer from a UNION of two GROUP BYs over the daily rows.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from psycopg import AsyncConnection
from sqlalchemy import Date, String, cast, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from spending_api.db import run_postgresql, run_postgresql_async
from spending_api.metrics.schemas import Granularity
from spending_api.models import DailyCategorySpend, Transaction
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


def _daily_source(dialect: str, *, user_id: int, filters: TransactionFilters):
    """Rows of (day, category, total, n) for the matching transactions."""
    if filters.uses_rollup:
        return select(
            DailyCategorySpend.day.label("day"),
            DailyCategorySpend.category.label("category"),
            DailyCategorySpend.total.label("total"),
            DailyCategorySpend.transaction_count.label("n"),
        ).where(filters.rollup_clause(user_id=user_id))
    if dialect == "sqlite":
        day = type_coerce(func.date(Transaction.timestamp), Date)
    else:
        day = cast(Transaction.timestamp, Date)
    return (
        select(
            day.label("day"),
            Transaction.category.label("category"),
            func.sum(Transaction.amount).label("total"),
            func.count().label("n"),
        )
        .where(filters.transaction_clause(user_id=user_id))
        .group_by(day, Transaction.category)
    )


def _period_start(dialect: str, day, granularity: Granularity):
    if granularity == "day":
        return day
    if dialect == "sqlite":
        if granularity == "week":  # back to the Monday on or before the day
            return type_coerce(func.date(day, "-6 days", "weekday 1"), Date)
        return type_coerce(func.strftime("%Y-%m-01", day), Date)
    return cast(func.date_trunc(granularity, day), Date)


_POSTGRES_PERIOD = {
    "day": "{day}",
    "week": "CAST(date_trunc('week', {timestamp}) AS date)",
    "month": "CAST(date_trunc('month', {timestamp}) AS date)",
}
_POSTGRES_ROLLUP = """
SELECT GROUPING(category) AS by_period, category, {period} AS period_start,
       sum(total) AS total, sum(transaction_count) AS n,
       min(day) AS first_day, max(day) AS last_day
FROM daily_category_spend
WHERE {where}
GROUP BY GROUPING SETS ((category), ({period}))
"""
_POSTGRES_BASE = """
SELECT GROUPING(category) AS by_period, category, {period} AS period_start,
       sum(amount) AS total, count(*) AS n,
       CAST(min("timestamp") AS date) AS first_day, CAST(max("timestamp") AS date) AS last_day
FROM transactions
WHERE {where}
GROUP BY GROUPING SETS ((category), ({period}))
"""


@lru_cache(maxsize=256)
def _postgresql_sql(rollup: bool, where: str, granularity: Granularity) -> str:
    if rollup:
        period = _POSTGRES_PERIOD[granularity].format(day="day", timestamp="CAST(day AS timestamp)")
        return _POSTGRES_ROLLUP.format(period=period, where=where)
    period = _POSTGRES_PERIOD[granularity].format(
        day='CAST("timestamp" AS date)', timestamp='"timestamp"'
    )
    return _POSTGRES_BASE.format(period=period, where=where)


def _postgresql_query(
    *, user_id: int, filters: TransactionFilters, granularity: Granularity
) -> tuple[str, dict]:
    rollup = filters.uses_rollup
    where, params = filters.postgresql_where(user_id=user_id, rollup=rollup)
    return _postgresql_sql(rollup, where, granularity), params


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
    """`aggregate` on PostgreSQL, on an async connection (the API's read path)."""
    sql, params = _postgresql_query(user_id=user_id, filters=filters, granularity=granularity)
    return _split_grouping_sets(await run_postgresql_async(connection, sql, params))


def aggregate(
    session: Session,
    *,
    user_id: int,
    filters: TransactionFilters,
    granularity: Granularity,
) -> tuple[list[CategoryAggregate], list[PeriodAggregate]]:
    """Per-category and per-period sums of the matching transactions."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        sql, params = _postgresql_query(user_id=user_id, filters=filters, granularity=granularity)
        return _split_grouping_sets(run_postgresql(session, sql, params))
    daily = _daily_source(dialect, user_id=user_id, filters=filters).cte("daily")
    period = _period_start(dialect, daily.c.day, granularity)
    by_category = select(
        literal("category").label("kind"),
        daily.c.category,
        cast(null(), Date).label("period_start"),
        func.sum(daily.c.total).label("total"),
        func.sum(daily.c.n).label("n"),
        func.min(daily.c.day).label("first_day"),
        func.max(daily.c.day).label("last_day"),
    ).group_by(daily.c.category)
    by_period = select(
        literal("period"),
        cast(null(), String),
        period,
        func.sum(daily.c.total),
        func.sum(daily.c.n),
        cast(null(), Date),
        cast(null(), Date),
    ).group_by(period)

    categories: list[CategoryAggregate] = []
    periods: list[PeriodAggregate] = []
    for row in session.execute(union_all(by_category, by_period)):
        if row.kind == "category":
            categories.append(
                CategoryAggregate(
                    category=row.category,
                    total=row.total,
                    count=int(row.n),
                    first_day=row.first_day,
                    last_day=row.last_day,
                )
            )
        else:
            periods.append(
                PeriodAggregate(period_start=row.period_start, total=row.total, count=int(row.n))
            )
    return categories, periods
