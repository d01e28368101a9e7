"""GET /transactions and DELETE /transactions/{id}."""

from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select, update

from spending_api import errors
from spending_api.models import Account, Category, Transaction
from spending_api.transactions.repository import (
    NewTransaction,
    insert_transactions,
    transactions_by_id,
)
from spending_api.transactions.schemas import TransactionOut

ROWS = [
    ("2024-01-31T23:59:59", "10.00", "Food", "Corner bakery"),
    ("2024-02-01T00:00:00", "25.50", "Travel", "Train ticket"),
    ("2024-02-29T12:00:00", "0.10", "Food", "Gum at the BAKERY"),
    ("2024-02-29T18:30:00", "0.20", "Fun", "Arcade 100% fun_time"),
    ("2024-03-15T09:00:00", "-5.00", "Food", "Refund: bakery"),
    ("2024-03-16T09:00:00", "120.00", "Rent", None),
]


@pytest.fixture
def alice(make_user, add_transactions):
    user = make_user("alice")
    add_transactions(user, ROWS)
    return user


@pytest.fixture
def default_account(database):
    def first(user) -> int:
        with database.session() as session:
            return session.scalar(
                select(Account.id).where(Account.user_id == user.id).order_by(Account.id)
            )

    return first


# (timestamp, amount, category, description, account): kinds from KINDS.
LEDGER = [
    ("2024-05-01T09:00:00", "-3000.00", "Salary", "ACME payroll", "Checking"),
    ("2024-05-02T10:00:00", "500.00", "Savings", "To savings", "Checking"),
    ("2024-05-02T10:00:00", "-500.00", "Savings", "From checking", "Savings"),
    ("2024-05-03T12:00:00", "42.10", "Groceries", "Corner shop", "Card"),
    ("2024-05-04T12:00:00", "-12.00", "Groceries", "Refund: corner shop", "Card"),
    ("2024-05-05T12:00:00", "-1.25", "Interest", "Interest", "Savings"),
]
KINDS = {
    "Salary": "income",
    "Interest": "income",
    "Savings": "transfer",
    "Groceries": "spending",
}


@pytest.fixture
def ledger(database, make_user):
    """A user with three accounts and LEDGER; returns (user, {account name: id})."""
    user = make_user("ledger")
    with database.session() as session:
        accounts = {}
        for name in ("Checking", "Savings", "Card"):
            account = Account(user_id=user.id, name=name)
            session.add(account)
            session.flush()
            accounts[name] = account.id
        session.add_all(Category(user_id=user.id, name=n, kind=k) for n, k in KINDS.items())
        session.flush()
        for name, account_id in accounts.items():
            insert_transactions(
                session,
                user_id=user.id,
                account_id=account_id,
                rows=[
                    NewTransaction(datetime.fromisoformat(ts), Decimal(a), c, d, line, notes=d)
                    for line, (ts, a, c, d, account) in enumerate(LEDGER, start=1)
                    if account == name
                ],
            )
        session.commit()
    return user, accounts


def _expected(accounts, *, account=(), kind=()):
    return {
        row[3]
        for row in LEDGER
        if (not account or accounts[row[4]] in account) and (not kind or KINDS[row[2]] in kind)
    }


@pytest.mark.parametrize(
    "names, kinds",
    [
        (["Savings"], []),
        (["Checking", "Card"], []),
        ([], ["income"]),
        ([], ["transfer", "spending"]),
        (["Checking"], ["transfer"]),
        (["Card"], ["income"]),
    ],
)
def test_account_and_kind_filters(client, ledger, auth_headers, names, kinds):
    user, accounts = ledger
    params = {"account": [accounts[name] for name in names], "kind": kinds}
    expected = _expected(accounts, account=params["account"], kind=kinds)
    response = get(client, auth_headers(user), **params)
    base = get(client, auth_headers(user), **params, min_amount="-9999999999.99")

    assert response.status_code == 200, response.text
    assert set(descriptions(response)) == expected
    # The count comes from the rollup, and from the base table with an amount bound.
    assert response.headers["X-Total-Count"] == base.headers["X-Total-Count"]
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_rows_carry_account_kind_notes_and_suggestion(database, client, ledger, auth_headers):
    user, accounts = ledger
    with database.session() as session:
        session.execute(
            update(Transaction)
            .where(Transaction.user_id == user.id, Transaction.description == "Corner shop")
            .values(
                suggested_category="Dining out",
                suggestion_confidence=Decimal("0.875"),
                category_source="bank",
            )
        )
        session.commit()
    rows = {row["description"]: row for row in get(client, auth_headers(user)).json()}

    assert rows["Corner shop"]["suggestion"] == {"category": "Dining out", "confidence": 0.875}
    assert rows["Corner shop"]["category_source"] == "bank"
    assert rows["Corner shop"]["account_id"] == accounts["Card"]
    assert rows["ACME payroll"]["suggestion"] is None
    assert {d: row["kind"] for d, row in rows.items()} == {row[3]: KINDS[row[2]] for row in LEDGER}
    assert all(row["notes"] == d for d, row in rows.items())


def test_transactions_by_id_gives_the_listed_shape(database, client, ledger, alice, auth_headers):
    user, _ = ledger
    listed = get(client, auth_headers(user), sort="timestamp").json()
    theirs = get(client, auth_headers(alice)).json()[0]["id"]
    with database.session() as session:
        rows = transactions_by_id(
            session, user_id=user.id, ids=[listed[2]["id"], listed[0]["id"], theirs]
        )
    answer = TypeAdapter(list[TransactionOut]).validate_python(rows, from_attributes=True)
    assert [row.model_dump(mode="json") for row in answer] == [listed[0], listed[2]]


# What the database writes into the page's JSON differently from pydantic: fractions of
# a second, trailing zeros of an amount, quotes, backslashes, control and non-ASCII text.
AWKWARD = [
    ("2024-06-01T08:00:00.120000", "39.00", "Food", 'Say "cheese" \\ back\\slash'),
    ("2024-06-01T08:00:01.000001", "-0.50", "Café & Co", "tab\tnew\nline \u0001 é 💶"),
    ("2024-06-01T08:00:02", "1234567.89", "Food", None),
]


def test_the_page_is_what_transactionout_makes_of_the_same_rows(
    database, client, make_user, add_transactions, auth_headers
):
    user = make_user("awkward")
    add_transactions(user, AWKWARD)
    response = get(client, auth_headers(user), sort="timestamp")
    listed = TypeAdapter(list[TransactionOut]).validate_json(response.content)
    with database.session() as session:
        rows = transactions_by_id(session, user_id=user.id, ids=[row.id for row in listed])
    assert listed == TypeAdapter(list[TransactionOut]).validate_python(rows, from_attributes=True)
    assert [(r.timestamp, r.amount, r.category, r.description) for r in listed] == [
        (datetime.fromisoformat(ts), Decimal(amount), category, text)
        for ts, amount, category, text in AWKWARD
    ]
    assert [row["amount"] for row in response.json()] == [39.0, -0.5, 1234567.89]


def test_the_export_takes_the_account_and_kind_filters(client, ledger, auth_headers):
    user, accounts = ledger
    params = {"account": [accounts["Checking"], accounts["Savings"]], "kind": ["transfer"]}
    response = client.get("/transactions/export", headers=auth_headers(user), params=params)

    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "timestamp,amount,category,description"
    assert {line.split(",")[3] for line in lines[1:]} == _expected(
        accounts, account=params["account"], kind=["transfer"]
    )


def test_another_users_account_matches_nothing(client, ledger, alice, auth_headers):
    _, accounts = ledger
    response = get(client, auth_headers(alice), account=accounts["Checking"])
    assert response.status_code == 200
    assert response.json() == [] and response.headers["X-Total-Count"] == "0"


def get(client, headers, **params):
    return client.get("/transactions", headers=headers, params=params)


def descriptions(response):
    return [row["description"] for row in response.json()]


def test_lists_newest_first_with_total_count(client, alice, auth_headers, default_account):
    response = get(client, auth_headers(alice))
    assert response.status_code == 200
    body = response.json()
    assert response.headers["X-Total-Count"] == str(len(ROWS))
    assert [row["timestamp"] for row in body] == sorted((r[0] for r in ROWS), reverse=True)
    assert set(body[0]) == {
        "id",
        "account_id",
        "amount",
        "category",
        "kind",
        "timestamp",
        "description",
        "notes",
        "category_source",
        "suggestion",
    }
    assert body[0]["amount"] == 120.0 and body[1]["amount"] == -5.0
    # Categories the rows brought get a kind by sign: Food had purchases, so spending.
    assert {row["kind"] for row in body} == {"spending"}
    assert {row["account_id"] for row in body} == {default_account(alice)}
    assert {(row["notes"], row["category_source"], row["suggestion"]) for row in body} == {
        (None, "default", None)
    }


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"start": "2024-02-01", "end": "2024-02-29"},
            {"Train ticket", "Gum at the BAKERY", "Arcade 100% fun_time"},
        ),
        ({"end": "2024-01-31"}, {"Corner bakery"}),  # end covers the whole day
        ({"start": "2024-03-16"}, {None}),
        ({"category": ["Food"]}, {"Corner bakery", "Gum at the BAKERY", "Refund: bakery"}),
        ({"category": ["Fun", "Rent"]}, {"Arcade 100% fun_time", None}),
        (
            {"min_amount": "0.10", "max_amount": "10"},
            {"Corner bakery", "Gum at the BAKERY", "Arcade 100% fun_time"},
        ),
        ({"max_amount": "0"}, {"Refund: bakery"}),
        ({"q": "bakery"}, {"Corner bakery", "Gum at the BAKERY", "Refund: bakery"}),
        ({"q": "100%"}, {"Arcade 100% fun_time"}),  # % and _ are literal, not wildcards
        ({"q": "0% f"}, {"Arcade 100% fun_time"}),
        ({"q": "_"}, {"Arcade 100% fun_time"}),
        (
            {"q": "bakery", "category": ["Food"], "start": "2024-02-01"},
            {"Gum at the BAKERY", "Refund: bakery"},
        ),
    ],
)
def test_filters(client, alice, auth_headers, params, expected):
    response = get(client, auth_headers(alice), **params)
    assert response.status_code == 200, response.text
    assert set(descriptions(response)) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "sort, key, reverse",
    [("amount", 1, False), ("-amount", 1, True), ("timestamp", 0, False)],
)
def test_sort(client, alice, auth_headers, sort, key, reverse):
    from decimal import Decimal

    response = get(client, auth_headers(alice), sort=sort)
    expected = sorted(ROWS, key=lambda r: Decimal(r[key]) if key == 1 else r[key], reverse=reverse)
    assert descriptions(response) == [r[3] for r in expected]


# Ties on purpose: the same text in another case, the same category, the same moment.
TEXT_SORT_ROWS = ROWS + [
    ("2024-03-16T09:00:00", "3.00", "food", "corner BAKERY"),
    ("2024-03-16T09:00:00", "4.00", "Food", "Corner bakery"),
    ("2024-01-01T08:00:00", "7.00", "Zoo", "zebra"),
    ("2024-01-02T08:00:00", "8.00", "rent", None),
    ("2024-01-03T08:00:00", "9.00", "Élan", "Éclair"),
]


def expected_text_order(rows, column, descending):
    """Python's own order: by the column ignoring case (code points, missing last), then
    newest first, then the highest id (sorts are stable, so sort by the tiebreaks first)."""
    tiebroken = sorted(rows, key=lambda row: (row["timestamp"], row["id"]), reverse=True)
    present = [row for row in tiebroken if row[column] is not None]
    missing = [row for row in tiebroken if row[column] is None]
    present.sort(key=lambda row: row[column].lower(), reverse=descending)
    return [row["id"] for row in present + missing]


@pytest.mark.parametrize("column", ["description", "category"])
@pytest.mark.parametrize("descending", [False, True])
def test_text_sort_ignores_case_with_a_stable_tiebreak(
    client, make_user, add_transactions, auth_headers, column, descending
):
    user = make_user("texts")
    add_transactions(user, TEXT_SORT_ROWS)
    headers = auth_headers(user)
    every_row = get(client, headers, limit=1000).json()
    assert len(every_row) == len(TEXT_SORT_ROWS)
    sort = f"-{column}" if descending else column

    response = get(client, headers, sort=sort, limit=1000)

    assert response.status_code == 200, response.text
    assert [row["id"] for row in response.json()] == expected_text_order(
        every_row, column, descending
    )
    pages = [get(client, headers, sort=sort, limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [row["id"] for page in pages for row in page.json()] == [
        row["id"] for row in response.json()
    ]
    assert {page.headers["X-Total-Count"] for page in pages} == {str(len(TEXT_SORT_ROWS))}


def test_pagination_keeps_the_total(client, alice, auth_headers):
    headers = auth_headers(alice)
    first = get(client, headers, limit=4, offset=0, sort="timestamp")
    rest = get(client, headers, limit=4, offset=4, sort="timestamp")
    assert len(first.json()) == 4 and len(rest.json()) == 2
    assert first.headers["X-Total-Count"] == rest.headers["X-Total-Count"] == "6"
    assert descriptions(first) + descriptions(rest) == [r[3] for r in ROWS]


@pytest.mark.parametrize(
    "params, named",
    [
        ({"start": "2024-03-01", "end": "2024-02-01"}, "start"),
        ({"min_amount": "5", "max_amount": "1"}, "min_amount"),
        ({"sort": "merchant"}, "sort"),
        ({"sort": "-Description"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"start": "2024-02-30"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"min_amount": "ten"}, "min_amount"),
        ({"max_amount": "NaN"}, "max_amount"),
        ({"q": "a\x00b"}, "q"),
        ({"category": ""}, "category"),
        ({"account": "0"}, "account"),
        ({"account": "main"}, "account"),
        ({"account": str(2**31)}, "account"),
        ({"kind": "savings"}, "kind"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, alice, auth_headers, params, named):
    response = get(client, auth_headers(alice), **params)
    assert response.status_code == 422
    assert named in response.text


def test_users_never_see_each_other(client, make_user, add_transactions, auth_headers):
    alice, bob = make_user("alice"), make_user("bob")
    add_transactions(alice, ROWS)
    add_transactions(bob, [("2024-02-10T10:00:00", "99.99", "Secret", "bob only")])
    bob_rows = get(client, auth_headers(bob)).json()
    assert [r["description"] for r in bob_rows] == ["bob only"]
    for params in ({}, {"category": ["Food"]}, {"q": "bakery"}, {"min_amount": "0"}):
        response = get(client, auth_headers(bob), **params)
        assert all(r["description"] == "bob only" for r in response.json())
    categories = client.get("/categories", headers=auth_headers(bob)).json()
    assert [(c["name"], c["count"]) for c in categories] == [("Secret", 1)]
    alice_id = get(client, auth_headers(alice)).json()[0]["id"]
    deleted = client.delete(f"/transactions/{alice_id}", headers=auth_headers(bob))
    assert deleted.status_code == 404
    assert deleted.json() == {"detail": errors.TRANSACTION_NOT_FOUND}
    assert get(client, auth_headers(alice)).headers["X-Total-Count"] == str(len(ROWS))


def test_delete_removes_the_row_and_its_share_of_the_metrics(client, alice, auth_headers):
    headers = auth_headers(alice)
    rent = get(client, headers, category=["Rent"]).json()[0]
    assert client.delete(f"/transactions/{rent['id']}", headers=headers).status_code == 204
    assert get(client, headers).headers["X-Total-Count"] == "5"
    metrics = client.get("/metrics", headers=headers).json()
    assert "Rent" not in [c["category"] for c in metrics["top_categories"]]
    assert client.delete(f"/transactions/{rent['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize("path", ["/transactions", "/metrics"])
def test_every_read_needs_a_token(client, path):
    assert client.get(path).status_code == 401
