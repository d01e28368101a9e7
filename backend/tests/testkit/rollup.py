"""The daily rollup against the base table: every `daily_category_spend` row must equal
`GROUP BY user_id, date(timestamp), category` over `transactions`, to the cent."""

from decimal import Decimal

from sqlalchemy import Date, cast, func, select

from spending_api.models import DailyCategorySpend, Transaction

DAY = cast(Transaction.timestamp, Date)


def base_groups(session) -> dict:
    day = DAY
    statement = select(
        Transaction.user_id,
        day,
        Transaction.category,
        func.sum(Transaction.amount),
        func.count(),
    ).group_by(Transaction.user_id, day, Transaction.category)
    return {(u, d, c): (total, n) for u, d, c, total, n in session.execute(statement)}


def rollup_groups(session) -> dict:
    statement = select(
        DailyCategorySpend.user_id,
        DailyCategorySpend.day,
        DailyCategorySpend.category,
        DailyCategorySpend.total,
        DailyCategorySpend.transaction_count,
    )
    return {(u, d, c): (total, n) for u, d, c, total, n in session.execute(statement)}


def assert_rollup_matches(database, step: str) -> None:
    with database.session() as session:
        base, rollup = base_groups(session), rollup_groups(session)
    assert base, f"{step}: no transactions"
    missing = base.keys() - rollup.keys()
    extra = rollup.keys() - base.keys()
    assert not missing, f"{step}: groups missing from the rollup: {sorted(missing)[:5]}"
    assert not extra, f"{step}: rollup groups without transactions: {sorted(extra)[:5]}"
    for key, (total, count) in base.items():
        assert isinstance(rollup[key][0], Decimal)
        assert rollup[key] == (total, count), f"{step}: {key}: rollup {rollup[key]} != base"
        assert total == total.quantize(Decimal("0.01"))
