"""The import's write path (transactions/repository.py insert_transactions). Its two paths:
an account with no keys yet takes the rows in one COPY straight into transactions (keyed in
Python), any other through staging and the SQL numbering; the same rows must come out the
same either way. On both, a category the file names is created only for a row actually
stored, so a re-import after a merge or a delete does not bring the category back empty."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spending_api.accounts.repository import default_account_id
from spending_api.categories.repository import create_default_categories
from spending_api.models import Category, RemovedImportKey, Transaction
from spending_api.transactions import repository
from spending_api.transactions.repository import FileKeys, NewTransaction, insert_transactions

HEADER = "Date,Description,Amount,Category\n"
DINING = "2025-04-01,NOODLE BAR,-12.00,Dining\n"
HOBBY = "2025-04-02,MODEL KIT,-30.00,Hobby\n"


@pytest.fixture
def api(client, auth_headers, make_user, upload, database):
    """(user, send(method, path, **kw) -> response, take(content) -> import answer)"""
    user = make_user()
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        session.commit()
    headers = auth_headers(user)

    def send(method: str, path: str, **kwargs):
        return client.request(method, path, headers=headers, **kwargs)

    def take(content: str) -> dict:
        answer = upload(user, content.encode(), amount_sign="spend_negative")
        assert answer.status_code == 200, answer.text
        return answer.json()

    return user, send, take


def _kinds(send) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in send("GET", "/categories").json()}


def _merge(send, source: str, target: str) -> None:
    ids = {c["name"]: c["id"] for c in send("GET", "/categories").json()}
    merged = send("POST", f"/categories/{ids[source]}/merge", json={"into": ids[target]})
    assert merged.status_code == 200, merged.text


def test_a_reimport_after_a_merge_and_a_delete_brings_no_category_back(api):
    user, send, take = api
    assert take(HEADER + DINING + HOBBY)["inserted"] == 2
    assert {"Dining", "Hobby"} <= set(_kinds(send))
    _merge(send, "Dining", "Groceries")
    rows = {r["description"]: r for r in send("GET", "/transactions").json()}
    assert send("DELETE", f"/transactions/{rows['MODEL KIT']['id']}").status_code == 204
    ids = {c["name"]: c["id"] for c in send("GET", "/categories").json()}
    assert send("DELETE", f"/categories/{ids['Hobby']}").status_code == 204
    before = _kinds(send)

    again = take(HEADER + DINING + HOBBY)

    # One a duplicate, one the user deleted: both skipped.
    assert (again["inserted"], again["skipped_duplicates"]) == (0, 2)
    assert _kinds(send) == before
    assert [(r["description"], r["category"]) for r in send("GET", "/transactions").json()] == [
        ("NOODLE BAR", "Groceries")
    ]


def test_only_the_rows_stored_create_categories_with_their_kind(api):
    user, send, take = api
    take(HEADER + DINING)
    _merge(send, "Dining", "Groceries")

    # One duplicate (Dining) and two new rows of a new category (income, by its name).
    answer = take(
        HEADER + DINING + "2025-04-03,TUTORING,40.00,Gehalt\n2025-04-04,TUTORING,25.00,Gehalt\n"
    )

    assert answer["inserted"] == 2
    kinds = _kinds(send)
    assert "Dining" not in kinds and kinds["Gehalt"] == "income"


def test_a_second_identical_row_is_stored_and_brings_its_category(api):
    user, send, take = api
    take(HEADER + "2025-04-05,PET SHOP,-9.00,Pets\n")
    _merge(send, "Pets", "Shopping")

    # The same purchase twice in the new file: the first is stored, the second is new.
    answer = take(HEADER + "2025-04-05,PET SHOP,-9.00,Pets\n" * 2)

    assert (answer["inserted"], answer["skipped_duplicates"]) == (1, 1)
    assert _kinds(send)["Pets"] == "spending"
    listed = sorted(r["category"] for r in send("GET", "/transactions").json())
    assert listed == ["Pets", "Shopping"]


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


def _stored_kinds(database, user) -> dict[str, str]:
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
    assert _stored_kinds(database, fresh) == _stored_kinds(database, through_staging)


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
    # Only a stored row makes a category, as through staging: the dropped repeat's does not.
    assert "Later" not in _stored_kinds(database, user)


def test_new_categories_get_the_kind_the_import_chose(database, make_user, no_staging):
    user = make_user()
    rows = [
        NewTransaction(START, Decimal("100.00"), "Moves", "Out", 1, category_kind="transfer"),
        NewTransaction(START, Decimal("-100.00"), "Moves", "In", 2, category_kind="transfer"),
        NewTransaction(START, Decimal("-9.00"), "Refunds", "Back", 3),
        NewTransaction(START, Decimal("3.00"), "Snacks", "Bar", 4),
    ]
    _insert(database, user, rows, keyed=False)
    assert _stored_kinds(database, user) == {
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
    assert _stored_kinds(database, user) == {"Moves": "spending"}


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
    assert _stored_kinds(database, user) == {}


def test_rows_out_of_line_order_are_refused():
    keys = FileKeys()
    keys.key(NewTransaction(START, Decimal("1.00"), "Food", "a", 2))
    with pytest.raises(ValueError, match="line_no order"):
        keys.key(NewTransaction(START, Decimal("1.00"), "Food", "a", 1))
