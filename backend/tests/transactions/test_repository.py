"""The bulk insert's two paths: an account with no keys yet takes the rows in one COPY
straight into transactions (keyed in Python), any other through staging and the SQL
numbering; the same rows must come out the same either way."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spending_api.accounts.repository import default_account_id
from spending_api.models import Category, RemovedImportKey, Transaction
from spending_api.transactions import repository
from spending_api.transactions.repository import FileKeys, NewTransaction, insert_transactions

START = datetime(2024, 3, 1, 9, 30)


def _random_rows(rng: random.Random, count: int) -> list[NewTransaction]:
    """Rows with many repeats: identical purchases (also written in another case or
    spacing), a bank id given twice with other values, new categories with a kind."""
    rows = []
    for line_no in range(1, count + 1):
        day = START + timedelta(days=rng.randrange(4))
        amount = Decimal(rng.choice(["-1200.00", "4.50", "4.50", "19.99", "250.00"]))
        description = rng.choice(["Bakery", "BAKERY ", "  bakery", "Rent", None])
        category, kind = rng.choice(
            [("Food", None), ("Moves", "transfer"), ("Pay", "income"), ("Misc", "spending")]
        )
        external_id = rng.choice([None, None, f"bank-{rng.randrange(30)}"])
        rows.append(
            NewTransaction(
                day,
                amount,
                category,
                description,
                line_no,
                external_id=external_id,
                notes=rng.choice([None, f"note {line_no}"]),
                category_source=rng.choice(["default", "bank"]),
                category_kind=kind,
            )
        )
    return rows


def _insert(database, user, rows: list[NewTransaction], *, keyed: bool):
    """Insert for the user; `keyed` first gives the account a removed key no row has,
    so it is not fresh and the rows go through staging."""
    with database.session() as session:
        account_id = default_account_id(session, user_id=user.id)
        if keyed:
            session.add(RemovedImportKey(account_id=account_id, dedup_key="never-a-row"))
            session.flush()
        counts = insert_transactions(session, user_id=user.id, rows=iter(rows))
        session.commit()
    return counts


def _stored_rows(database, user) -> list[tuple]:
    with database.session() as session:
        statement = select(
            Transaction.dedup_key,
            Transaction.timestamp,
            Transaction.amount,
            Transaction.category,
            Transaction.category_source,
            Transaction.description,
            Transaction.notes,
        ).where(Transaction.user_id == user.id)
        return sorted(tuple(row) for row in session.execute(statement))


def _kinds(database, user) -> dict[str, str]:
    with database.session() as session:
        found = session.execute(
            select(Category.name, Category.kind).where(Category.user_id == user.id)
        )
        return dict(found.all())


@pytest.fixture
def no_staging(monkeypatch):
    """Fails the test if the rows go through the staging table."""

    def refuse(connection, rows):
        raise AssertionError("the rows went through staging")

    monkeypatch.setattr(repository, "_stage", refuse)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fresh_account_keys_rows_exactly_as_the_staging_insert(seed, database, make_user):
    rows = _random_rows(random.Random(seed), 400)
    through_staging = make_user()
    staged = _insert(database, through_staging, rows, keyed=True)

    fresh = make_user()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repository, "_stage", None)  # the fresh path must not stage
        copied = _insert(database, fresh, rows, keyed=False)

    assert (copied.inserted, copied.total) == (staged.inserted, staged.total)
    assert staged.skipped > 0  # the file repeats bank ids: some rows were left out
    assert _stored_rows(database, fresh) == _stored_rows(database, through_staging)
    assert _kinds(database, fresh) == _kinds(database, through_staging)


def test_a_repeated_bank_id_keeps_the_first_row_and_repeats_are_numbered(
    database, make_user, no_staging
):
    user = make_user()
    rows = [
        NewTransaction(START, Decimal("5.00"), "Food", "Bakery", 1, external_id="A"),
        NewTransaction(START, Decimal("9.00"), "Later", "Other", 2, external_id="A"),
        NewTransaction(START, Decimal("4.50"), "Food", "Coffee", 3),
        NewTransaction(START, Decimal("4.50"), "Food", " COFFEE", 4),
        NewTransaction(START, Decimal("4.50"), "Food", "Coffee", 5),
    ]
    counts = _insert(database, user, rows, keyed=False)
    assert (counts.inserted, counts.skipped) == (4, 1)
    stored = _stored_rows(database, user)
    by_key = {key: (amount, description) for key, _, amount, _, _, description, _ in stored}
    coffee = repository.dedup_base(rows[2])
    assert by_key == {
        repository.dedup_base(rows[0]): (Decimal("5.00"), "Bakery"),
        f"{coffee}:1": (Decimal("4.50"), "Coffee"),
        f"{coffee}:2": (Decimal("4.50"), " COFFEE"),
        f"{coffee}:3": (Decimal("4.50"), "Coffee"),
    }
    # A category only the dropped repeat named still gets its record, as through staging.
    assert _kinds(database, user)["Later"] == "spending"


def test_new_categories_get_the_kind_the_import_chose(database, make_user, no_staging):
    user = make_user()
    rows = [
        NewTransaction(START, Decimal("100.00"), "Moves", "Out", 1, category_kind="transfer"),
        NewTransaction(START, Decimal("-100.00"), "Moves", "In", 2, category_kind="transfer"),
        NewTransaction(START, Decimal("-9.00"), "Refunds", "Back", 3),
        NewTransaction(START, Decimal("3.00"), "Snacks", "Bar", 4),
    ]
    _insert(database, user, rows, keyed=False)
    assert _kinds(database, user) == {
        "Moves": "transfer",
        "Refunds": "income",
        "Snacks": "spending",
    }


def test_an_existing_category_keeps_its_kind(database, make_user, no_staging):
    user = make_user()
    with database.session() as session:
        session.add(Category(user_id=user.id, name="Moves", kind="spending"))
        session.commit()
    rows = [NewTransaction(START, Decimal("-5.00"), "Moves", "x", 1, category_kind="transfer")]
    _insert(database, user, rows, keyed=False)
    assert _kinds(database, user) == {"Moves": "spending"}


def test_the_rollup_equals_a_group_by_after_a_fresh_import(database, make_user, no_staging):
    user = make_user()
    _insert(database, user, _random_rows(random.Random(7), 500), keyed=False)
    group_by = """
        SELECT CAST("timestamp" AS date), account_id, category, sum(amount), count(*)
        FROM transactions WHERE user_id = :user_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    rollup = """
        SELECT day, account_id, category, total, transaction_count FROM daily_category_spend
        WHERE user_id = :user_id ORDER BY 1, 2, 3"""
    with database.session() as session:
        expected = session.execute(text(group_by), {"user_id": user.id}).all()
        maintained = session.execute(text(rollup), {"user_id": user.id}).all()
    assert len(expected) > 10
    assert maintained == expected


def test_a_failure_mid_copy_stores_nothing(database, make_user, no_staging):
    user = make_user()
    rows = _random_rows(random.Random(5), 200)

    def rows_then_fail():
        yield from rows
        raise ValueError("the file went bad at the end")

    with database.session() as session:
        with pytest.raises(ValueError, match="went bad"):
            insert_transactions(session, user_id=user.id, rows=rows_then_fail())
        session.rollback()
    assert _stored_rows(database, user) == []
    assert _kinds(database, user) == {}


def test_rows_out_of_line_order_are_refused():
    keys = FileKeys()
    keys.key(NewTransaction(START, Decimal("1.00"), "Food", "a", 2))
    with pytest.raises(ValueError, match="line_no order"):
        keys.key(NewTransaction(START, Decimal("1.00"), "Food", "a", 1))
