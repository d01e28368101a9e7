"""The metrics query: one statement, aggregated in the database, by category kind.

When the filters allow it (no amount or text filter) it reads the exact daily
rollup instead of the transactions, which keeps a million-row user instant.

The statement is prebuilt SQL per filter shape: one pass over the rows sums them per
category and period, and GROUPING SETS over those sums, joined with the categories'
kinds, give the per-category and the per-period-and-kind totals; the per-category ones,
summed by group, the per-group totals. No SQLAlchemy expression is built per request
(the API's hot path).

A category's group is its top-level ancestor (the category with no parent above it; a
top-level category is its own group); a group's total is its own and all its
descendants', each counted under its own kind.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from psycopg import AsyncConnection

from spending_api.auth.identity import UserIdentity, identity_cte, identity_params
from spending_api.db import run_postgresql_async
from spending_api.metrics.schemas import Granularity
from spending_api.transactions.filters import TransactionFilters


# Named tuples: a few hundred per request, built far faster than frozen dataclasses.
class CategoryAggregate(NamedTuple):
    category: str
    kind: str
    total: Decimal
    count: int
    first_day: date
    last_day: date


class GroupAggregate(NamedTuple):
    group: str
    kind: str
    total: Decimal
    count: int


class PeriodAggregate(NamedTuple):
    period_start: date
    kind: str
    total: Decimal
    count: int


_PERIOD = {
    "day": "{day}",
    "week": "CAST(date_trunc('week', {timestamp}) AS date)",
    "month": "CAST(date_trunc('month', {timestamp}) AS date)",
}
# The matching rows are first summed per category and period (unqualified columns: the
# shared WHERE is written for one table), then joined with the user's categories for
# the kind: the join sees a few hundred groups, never the rows.
_MATCHED_ROLLUP = """
SELECT category, {period} AS period_start, sum(total) AS total, sum(transaction_count) AS n,
       min(day) AS first_day, max(day) AS last_day
FROM daily_category_spend
WHERE {where}
GROUP BY 1, 2
"""
_MATCHED_BASE = """
SELECT category, {period} AS period_start, sum(amount) AS total, count(*) AS n,
       CAST(min("timestamp") AS date) AS first_day, CAST(max("timestamp") AS date) AS last_day
FROM transactions
WHERE {where}
GROUP BY 1, 2
"""
# The token's user (auth.identity) comes first: no row at all, and nothing summed, for a
# token that is no longer valid; one row with no sums for a user with no matches.
# Every category name in use has a record (the write paths and the rollup trigger create
# missing ones), so the inner join loses no row. The per-group sums add up the
# per-category ones (a few hundred rows), each category under its group from `tree`,
# which walks down from the top-level categories (their write rules forbid loops; a
# category it did not reach would count as its own group, never be lost).
_BY_KIND = """
WITH RECURSIVE {me}, matched AS ({matched}),
sets AS (
    SELECT GROUPING(m.category) AS grouping_set, m.category AS name, c.id, c.kind,
           m.period_start, sum(m.total) AS total, sum(m.n) AS n,
           min(m.first_day) AS first_day, max(m.last_day) AS last_day
    FROM matched AS m
    JOIN categories AS c ON c.user_id = %(user_id)s AND c.name = m.category
    GROUP BY GROUPING SETS ((m.category, c.id, c.kind), (m.period_start, c.kind))
),
tree(id, root) AS (
    SELECT id, name FROM categories WHERE user_id = %(user_id)s AND parent_id IS NULL
    UNION ALL
    SELECT c.id, tree.root FROM categories AS c JOIN tree ON c.parent_id = tree.id
    WHERE c.user_id = %(user_id)s
),
answer AS (
    SELECT grouping_set, name, kind, period_start, total, n, first_day, last_day FROM sets
    UNION ALL
    SELECT 2, coalesce(t.root, s.name), s.kind, NULL, sum(s.total), sum(s.n), NULL, NULL
    FROM sets AS s LEFT JOIN tree AS t ON t.id = s.id
    WHERE s.grouping_set = 0
    GROUP BY 2, 3
)
SELECT me.id, me.username, me.data_version, answer.* FROM me LEFT JOIN answer ON true
"""
_PER_CATEGORY, _PER_PERIOD, _PER_GROUP = 0, 1, 2


@lru_cache(maxsize=256)
def _sql(rollup: bool, where: str, granularity: Granularity) -> str:
    if rollup:
        period = _PERIOD[granularity].format(day="day", timestamp="CAST(day AS timestamp)")
        matched = _MATCHED_ROLLUP.format(period=period, where=where)
    else:
        period = _PERIOD[granularity].format(
            day='CAST("timestamp" AS date)', timestamp='"timestamp"'
        )
        matched = _MATCHED_BASE.format(period=period, where=where)
    return _BY_KIND.format(me=identity_cte(), matched=matched)


def _query(
    *, user_id: int, filters: TransactionFilters, granularity: Granularity
) -> tuple[str, dict]:
    rollup = filters.uses_rollup
    where, params = filters.postgresql_where(user_id=user_id, rollup=rollup)
    return _sql(rollup, where, granularity), params


class Aggregates(NamedTuple):
    categories: list[CategoryAggregate]
    periods: list[PeriodAggregate]
    groups: list[GroupAggregate]


def _split_grouping_sets(rows) -> Aggregates:
    categories: list[CategoryAggregate] = []
    periods: list[PeriodAggregate] = []
    groups: list[GroupAggregate] = []
    for _id, _username, _version, grouping_set, *sums in rows:
        name, kind, start, total, count, first_day, last_day = sums
        if grouping_set is None:
            continue  # the user's row when nothing matches
        if grouping_set == _PER_PERIOD:
            periods.append(PeriodAggregate(start, kind, total, int(count)))
        elif grouping_set == _PER_GROUP:
            groups.append(GroupAggregate(name, kind, total, int(count)))
        else:
            categories.append(CategoryAggregate(name, kind, total, int(count), first_day, last_day))
    return Aggregates(categories, periods, groups)


class CheckedAggregates(NamedTuple):
    user: UserIdentity
    aggregates: Aggregates


async def aggregate_async(
    connection: AsyncConnection,
    *,
    user_id: int,
    token_version: int,
    session_id: str,
    filters: TransactionFilters,
    granularity: Granularity,
) -> CheckedAggregates | None:
    """Per-category, per-period-and-kind and per-group-and-kind sums of the matching
    transactions, in the statement that checks the token: None, and nothing summed, if it
    is no longer valid."""
    sql, params = _query(user_id=user_id, filters=filters, granularity=granularity)
    key = identity_params(user_id=user_id, token_version=token_version, session_id=session_id)
    rows = await run_postgresql_async(connection, sql, {**params, **key})
    if not rows:
        return None
    return CheckedAggregates(UserIdentity(*rows[0][:3]), _split_grouping_sets(rows))
