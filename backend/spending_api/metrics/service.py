"""Turns the database's aggregates into the /metrics answer (exact Decimal arithmetic)."""

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from psycopg import AsyncConnection

from spending_api.metrics import repository
from spending_api.metrics.schemas import CategoryTotal, Granularity, Metrics, PeriodTotal
from spending_api.transactions.filters import TransactionFilters

CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")
SPENDING, INCOME = "spending", "income"


def months_covered(first: date, last: date) -> Fraction:
    """The calendar months from `first` to `last` (both included), a partial month by its
    share of days; at least one month, so a single purchase is not a monthly figure."""
    if first > last:
        return Fraction(1)
    first_days = calendar.monthrange(first.year, first.month)[1]
    if (first.year, first.month) == (last.year, last.month):
        months = Fraction((last - first).days + 1, first_days)
    else:
        # The rest of the first month, the whole months between, the start of the last.
        whole = (last.year - first.year) * 12 + last.month - first.month - 1
        last_days = calendar.monthrange(last.year, last.month)[1]
        months = (
            Fraction(first_days - first.day + 1, first_days) + whole + Fraction(last.day, last_days)
        )
    return max(months, Fraction(1))


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


def monthly_average(total: Decimal, months: Fraction) -> Decimal:
    """`total / months` to the cent, exact (the division is done on integers)."""
    cents = Fraction(total) * 100 / months
    whole, remainder = divmod(abs(cents.numerator), cents.denominator)
    if 2 * remainder >= cents.denominator:  # half up, away from zero
        whole += 1
    return (Decimal(whole if cents >= 0 else -whole) / 100).quantize(CENT)


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP) if whole else Decimal(0)


def _ranked(totals: list[tuple[str, Decimal, int]], whole: Decimal) -> list[CategoryTotal]:
    """Largest first, then by name; each with its share of `whole`."""
    return [
        CategoryTotal(category=name, total=total, count=count, share=_share(total, whole))
        for name, total, count in sorted(totals, key=lambda item: (-item[1], item[0]))
    ]


def build_metrics(
    categories: list[repository.CategoryAggregate],
    periods: list[repository.PeriodAggregate],
    granularity: Granularity,
    *,
    groups: Sequence[repository.GroupAggregate] = (),
    start: date | None = None,
    end: date | None = None,
) -> Metrics:
    """The /metrics answer; `start`/`end` are the requested period (open ends: the matches);
    `groups` the per-group sums (category_groups and income_groups).

    Spending categories make the spend (money out minus refunds), income categories the
    income (money in, as a positive number); transfers count in neither, but in
    `transaction_count` and the dates like every matching transaction."""
    if not categories:
        return Metrics(
            total_spend=ZERO,
            total_income=ZERO,
            net_savings=ZERO,
            savings_rate=None,
            transaction_count=0,
            average_monthly_spend=ZERO,
            average_transaction=ZERO,
            first_transaction=None,
            last_transaction=None,
            top_categories=[],
            income_categories=[],
            category_groups=[],
            income_groups=[],
            spend_over_time=[],
        )
    spending = [c for c in categories if c.kind == SPENDING]
    income = [c for c in categories if c.kind == INCOME]
    total_spend = sum((c.total for c in spending), ZERO)
    # ZERO minus, not negation: no -0.00 in the answer.
    total_income = ZERO - sum((c.total for c in income), ZERO)
    net_savings = total_income - total_spend
    spending_count = sum(c.count for c in spending)
    first = min(c.first_day for c in categories)
    last = max(c.last_day for c in categories)

    by_start: dict[date, list[Decimal | int]] = {}
    for p in periods:
        spend, money_in, count = by_start.setdefault(p.period_start, [ZERO, ZERO, 0])
        if p.kind == SPENDING:
            spend += p.total
        elif p.kind == INCOME:
            money_in -= p.total
        by_start[p.period_start] = [spend, money_in, count + p.count]
    timeline = []
    current, last_period = period_start(first, granularity), period_start(last, granularity)
    while current <= last_period:
        spend, money_in, count = by_start.get(current, (ZERO, ZERO, 0))
        timeline.append(
            PeriodTotal(period_start=current, total=spend, income=money_in, count=count)
        )
        current = next_period(current, granularity)

    return Metrics(
        total_spend=total_spend,
        total_income=total_income,
        net_savings=net_savings,
        savings_rate=_share(net_savings, total_income) if total_income else None,
        transaction_count=sum(c.count for c in categories),
        average_monthly_spend=monthly_average(
            total_spend, months_covered(start or first, end or last)
        ),
        average_transaction=_money(total_spend / spending_count) if spending_count else ZERO,
        first_transaction=first,
        last_transaction=last,
        top_categories=_ranked([(c.category, c.total, c.count) for c in spending], total_spend),
        income_categories=_ranked(
            [(c.category, ZERO - c.total, c.count) for c in income], total_income
        ),
        category_groups=_ranked(
            [(g.group, g.total, g.count) for g in groups if g.kind == SPENDING], total_spend
        ),
        income_groups=_ranked(
            [(g.group, ZERO - g.total, g.count) for g in groups if g.kind == INCOME],
            total_income,
        ),
        spend_over_time=timeline,
    )


async def get_metrics_async(
    connection: AsyncConnection,
    *,
    user_id: int,
    token_version: int,
    session_id: str,
    filters: TransactionFilters,
    granularity: Granularity,
) -> Metrics | None:
    """The answer, read in the statement that checks the token (None: no longer valid)."""
    checked = await repository.aggregate_async(
        connection,
        user_id=user_id,
        token_version=token_version,
        session_id=session_id,
        filters=filters,
        granularity=granularity,
    )
    if checked is None:
        return None
    found = checked.aggregates
    return build_metrics(
        found.categories,
        found.periods,
        granularity,
        groups=found.groups,
        start=filters.start,
        end=filters.end,
    )
