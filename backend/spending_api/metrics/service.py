"""Turns the database's aggregates into the /metrics answer (exact Decimal arithmetic)."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from psycopg import AsyncConnection

from spending_api.metrics import repository
from spending_api.metrics.schemas import CategoryTotal, Granularity, Metrics, PeriodTotal
from spending_api.transactions.filters import TransactionFilters

CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


def months_spanned(first: date, last: date) -> int:
    """Calendar months from first's month to last's month, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, granularity: Granularity) -> date:
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def build_metrics(
    categories: list[repository.CategoryAggregate],
    periods: list[repository.PeriodAggregate],
    granularity: Granularity,
) -> Metrics:
    if not categories:
        return Metrics(
            total_spend=ZERO,
            transaction_count=0,
            average_monthly_spend=ZERO,
            average_transaction=ZERO,
            first_transaction=None,
            last_transaction=None,
            top_categories=[],
            spend_over_time=[],
        )
    total = sum((c.total for c in categories), ZERO)
    count = sum(c.count for c in categories)
    first = min(c.first_day for c in categories)
    last = max(c.last_day for c in categories)

    ranked = sorted(categories, key=lambda c: (-c.total, c.category))
    top = [
        CategoryTotal(
            category=c.category,
            total=c.total,
            count=c.count,
            share=(
                (c.total / total).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)
                if total
                else Decimal(0)
            ),
        )
        for c in ranked
    ]

    by_start = {p.period_start: p for p in periods}
    timeline = []
    current, last_period = period_start(first, granularity), period_start(last, granularity)
    while current <= last_period:
        found = by_start.get(current)
        timeline.append(
            PeriodTotal(
                period_start=current,
                total=found.total if found else ZERO,
                count=found.count if found else 0,
            )
        )
        current = next_period(current, granularity)

    return Metrics(
        total_spend=total,
        transaction_count=count,
        average_monthly_spend=_money(total / months_spanned(first, last)),
        average_transaction=_money(total / count) if count else ZERO,
        first_transaction=first,
        last_transaction=last,
        top_categories=top,
        spend_over_time=timeline,
    )


async def get_metrics_async(
    connection: AsyncConnection,
    *,
    user_id: int,
    filters: TransactionFilters,
    granularity: Granularity,
) -> Metrics:
    categories, periods = await repository.aggregate_async(
        connection, user_id=user_id, filters=filters, granularity=granularity
    )
    return build_metrics(categories, periods, granularity)
