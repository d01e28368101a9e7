"""The daily rollup equals the base table to the cent, whatever happens to the rows.

Random data (seeded) goes through the import path, is re-imported (all skipped),
partly deleted (random rows and a whole day), updated (amount, category, day) and
re-imported again; after every step each `daily_category_spend` row must equal
`GROUP BY user_id, date(timestamp), category` over `transactions`, and /metrics and
the X-Total-Count of /transactions must give the same answers from the rollup as
from the base table (an amount bound that matches every row forces the base table).
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from spending_api.models import Transaction
from spending_api.transactions.repository import NewTransaction, insert_transactions
from testkit.rollup import DAY, assert_rollup_matches, rollup_groups

CATEGORIES = ["Groceries", "Dining", "Café ☕", "Transport", "Rent", "Ünïcode", "Refunds"]
DESCRIPTIONS = ["Bakery", "Metro", "Corner shop", "Pizzeria", None, "Café  Central", "ATM"]
FIRST_DAY = date(2024, 1, 25)  # spans month ends, a leap day and a year end
DAYS = 420
# Any amount is inside this bound, so adding it selects the same rows from the base table.
ALL_AMOUNTS = {"min_amount": "-9999999999.99"}


def random_rows(rng: random.Random, count: int) -> list[NewTransaction]:
    rows = []
    for line_no in range(1, count + 1):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        moment = rng.choice(
            [
                time.min,
                time(23, 59, 59, 999999),
                time(rng.randrange(24), rng.randrange(60), rng.randrange(60)),
            ]
        )
        cents = rng.choice([rng.randrange(1, 20000), rng.randrange(-5000, 0), 0, 1, 99999999])
        rows.append(
            NewTransaction(
                timestamp=datetime.combine(day, moment),
                amount=Decimal(cents).scaleb(-2),
                category=rng.choice(CATEGORIES),
                description=rng.choice(DESCRIPTIONS),
                line_no=line_no,
            )
        )
    # Identical purchases within one file stay separate rows.
    rows.extend(
        NewTransaction(row.timestamp, row.amount, row.category, row.description, count + i + 1)
        for i, row in enumerate(rng.sample(rows, count // 20))
    )
    return rows


def import_rows(database, user_id: int, rows: list[NewTransaction]):
    with database.session() as session:
        counts = insert_transactions(session, user_id=user_id, rows=iter(rows))
        session.commit()
    return counts


def filter_sets(rng: random.Random) -> list[dict]:
    def some_day() -> date:
        return FIRST_DAY + timedelta(days=rng.randrange(DAYS))

    start, end = sorted([some_day(), some_day()])
    return [
        {},
        {"start": start.isoformat(), "end": end.isoformat()},
        {"start": start.isoformat()},
        {"end": end.isoformat()},
        {"category": rng.sample(CATEGORIES, 2)},
        {"category": ["Café ☕"], "start": start.isoformat()},
        {"category": ["no such category"]},
        {"start": "2030-01-01"},
        {"kind": ["spending"], "start": start.isoformat()},
        {"kind": ["income", "transfer"]},
    ]


def assert_api_paths_agree(client, headers, rng: random.Random, step: str) -> None:
    for filters in filter_sets(rng):
        for granularity in ("day", "week", "month"):
            params = {**filters, "granularity": granularity}
            rollup = client.get("/metrics", params=params, headers=headers)
            base = client.get("/metrics", params={**params, **ALL_AMOUNTS}, headers=headers)
            assert rollup.status_code == base.status_code == 200, (rollup.text, base.text)
            assert rollup.json() == base.json(), f"{step}: /metrics {params}"
        rollup = client.get("/transactions", params={**filters, "limit": 1}, headers=headers)
        base = client.get(
            "/transactions", params={**filters, **ALL_AMOUNTS, "limit": 1}, headers=headers
        )
        assert rollup.status_code == base.status_code == 200
        assert (
            rollup.headers["X-Total-Count"] == base.headers["X-Total-Count"]
        ), f"{step}: X-Total-Count {filters}"


def random_ids(database, rng: random.Random, user_id: int, count: int) -> list[int]:
    with database.session() as session:
        ids = session.scalars(
            select(Transaction.id).where(Transaction.user_id == user_id).order_by(Transaction.id)
        ).all()
    return rng.sample(ids, min(count, len(ids)))


@pytest.mark.parametrize("seed", [7, 2024])
def test_rollup_equals_base_table(database, make_user, client, auth_headers, seed):
    rng = random.Random(seed)
    users = [make_user() for _ in range(3)]
    files = {user.id: random_rows(rng, rng.randrange(150, 300)) for user in users}

    # 1. Imports, in two parts per user so conflicts between statements happen too.
    for user in users:
        rows = files[user.id]
        half = len(rows) // 2
        first = import_rows(database, user.id, rows[:half])
        second = import_rows(database, user.id, rows)
        assert first.inserted == half
        assert first.inserted + second.inserted == len(rows)
    assert_rollup_matches(database, "after imports")

    # 2. Re-import of the same files: every row is skipped, nothing changes.
    with database.session() as session:
        before = rollup_groups(session)
    for user in users:
        counts = import_rows(database, user.id, files[user.id])
        assert counts.inserted == 0 and counts.skipped == len(files[user.id])
    with database.session() as session:
        assert rollup_groups(session) == before
    assert_rollup_matches(database, "after re-imports")

    # 3. Deletes: random rows (one statement), then a whole day.
    target = users[0]
    with database.session() as session:
        session.execute(
            delete(Transaction).where(
                Transaction.user_id == target.id,
                Transaction.id.in_(random_ids(database, rng, target.id, 40)),
            )
        )
        session.commit()
    assert_rollup_matches(database, "after deleting random rows")
    with database.session() as session:
        busiest = max(
            session.execute(
                select(DAY, func.count()).where(Transaction.user_id == users[1].id).group_by(DAY)
            ),
            key=lambda row: (row[1], row[0]),
        )[0]
        start = datetime.combine(busiest, time.min)
        session.execute(
            delete(Transaction).where(
                Transaction.user_id == users[1].id,
                Transaction.timestamp >= start,
                Transaction.timestamp < start + timedelta(days=1),
            )
        )
        session.commit()
    assert_rollup_matches(database, "after deleting a whole day")

    # 4. Updates: amounts, categories, moves to another day (and across users' groups).
    for user in users:
        ids = random_ids(database, rng, user.id, 30)
        with database.session() as session:
            for transaction_id in ids[:10]:
                session.execute(
                    update(Transaction)
                    .where(Transaction.id == transaction_id)
                    .values(amount=Decimal(rng.randrange(-10000, 10000)).scaleb(-2))
                )
            session.execute(
                update(Transaction)
                .where(Transaction.id.in_(ids[10:20]))
                .values(category=rng.choice(CATEGORIES))
            )
            session.execute(
                update(Transaction)
                .where(Transaction.id.in_(ids[20:]))
                .values(timestamp=datetime(2024, 2, 29, 23, 59, 59))
            )
            session.commit()
    assert_rollup_matches(database, "after updates")

    # 5. Re-imports after the deletes: the deleted rows come back, the rest is skipped.
    for user in users:
        import_rows(database, user.id, files[user.id])
    assert_rollup_matches(database, "after re-imports following deletes")

    # 6. /metrics and X-Total-Count: the rollup path equals the base-table path.
    for user in users:
        assert_api_paths_agree(client, auth_headers(user), rng, f"user {user.id}")

    # 7. A rolled-back import leaves no trace in the rollup.
    with database.session() as session:
        insert_transactions(session, user_id=users[2].id, rows=iter(random_rows(rng, 50)))
        session.rollback()
    assert_rollup_matches(database, "after a rolled-back import")
