"""The metrics query: one statement, aggregated in the database.

When the filters allow it (no amount or text filter) it reads the exact daily
rollup instead of the transactions, which keeps a million-row user instant.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, String, cast, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

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


def aggregate(
    session: Session,
    *,
    user_id: int,
    filters: TransactionFilters,
    granularity: Granularity,
) -> tuple[list[CategoryAggregate], list[PeriodAggregate]]:
    """Per-category and per-period sums of the matching transactions."""
    dialect = session.get_bind().dialect.name
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
