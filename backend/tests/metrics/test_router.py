"""GET /metrics, checked against a plain-Python computation over the same rows."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from spending_api.models import Account, Category
from spending_api.transactions.repository import NewTransaction, insert_transactions
from testkit.metrics_reference import as_params, reference_metrics

CENT = Decimal("0.01")


# The seeded user's categories and their kinds (created before the rows).
KINDS = {
    "Groceries": "spending",
    "Rent": "spending",
    "Dining": "spending",
    "Transport": "spending",
    "Travel": "spending",
    "Fun & Games": "spending",
    "Salary": "income",
    "Other income": "income",
    "Transfer": "transfer",
    "Credit card payment": "transfer",
}
ACCOUNTS = ("Checking", "Savings", "Card")
# The seeded user's groups (category: parent), four levels deep: Groceries > Dining >
# Fun & Games > Travel (whose refunds exceed its purchases one week); an income category
# under a spending group and a transfer category under a spending one.
PARENTS = {
    "Dining": "Groceries",
    "Fun & Games": "Dining",
    "Travel": "Fun & Games",
    "Transport": "Rent",
    "Other income": "Rent",
    "Credit card payment": "Rent",
}


def random_rows(seed, count=400):
    """Spending with refunds on the card and the checking account, a monthly salary and
    some other income (now and then money out under it: a reversed payment), transfers to
    savings and card payments, both sides of each, as a bank would export them."""
    rng = random.Random(seed)
    spending = [name for name, kind in KINDS.items() if kind == "spending"]
    start = datetime(2023, 11, 20)
    rows = []
    for _ in range(count):
        ts = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 500))
        cents = rng.randrange(-2000, 30000) if rng.random() < 0.1 else rng.randrange(1, 30000)
        rows.append(
            (
                ts.isoformat(),
                str(Decimal(cents) / 100),
                rng.choice(spending),
                rng.choice(["Shop", "shop online", "Café crème", "Taxi", None]),
                rng.choice(["Checking", "Card"]),
            )
        )
    for month in range(17):
        payday = datetime(2023 + (10 + month) // 12, (10 + month) % 12 + 1, 25, 8)
        salary = Decimal(rng.randrange(400000, 420000)) / 100
        rows.append((payday.isoformat(), str(-salary), "Salary", "ACME payroll", "Checking"))
        moved = Decimal(rng.randrange(20000, 90000)) / 100
        moment = payday + timedelta(days=1, hours=3)
        rows.append((moment.isoformat(), str(moved), "Transfer", "To savings", "Checking"))
        rows.append((moment.isoformat(), str(-moved), "Transfer", "From checking", "Savings"))
        paid = Decimal(rng.randrange(10000, 150000)) / 100
        moment = payday + timedelta(days=3)
        rows.append((moment.isoformat(), str(paid), "Credit card payment", "Card", "Checking"))
        rows.append((moment.isoformat(), str(-paid), "Credit card payment", "Thanks", "Card"))
        if rng.random() < 0.5:
            other = Decimal(rng.randrange(-20000, 3000)) / 100
            moment = payday - timedelta(days=rng.randrange(1, 20))
            rows.append((moment.isoformat(), str(other), "Other income", "Interest", "Savings"))
    # Month ends, a leap day and cents that binary floating point cannot add; a week in
    # which Travel's refund exceeds its purchases.
    rows += [
        ("2024-02-29T23:59:59", "0.10", "Groceries", "leap", "Checking"),
        ("2024-03-01T00:00:00", "0.20", "Groceries", "leap+1", "Card"),
        ("2024-12-31T23:59:59.5", "0.70", "Dining", "new year's eve", "Card"),
        ("2025-01-01T00:00:00", "-0.30", "Dining", "refund", "Card"),
        ("2025-02-03T10:00:00", "120.00", "Travel", "Train", "Card"),
        ("2025-02-05T10:00:00", "-2480.00", "Travel", "Refund: cancelled flight", "Card"),
    ]
    return rows


@pytest.fixture
def seeded(database, make_user):
    """A user with three accounts, the categories of KINDS and the rows of random_rows;
    returns (user, rows, {account name: id})."""
    user = make_user("alice")
    rows = random_rows(seed=20241125)
    with database.session() as session:
        accounts = {}
        for name in ACCOUNTS:
            account = Account(user_id=user.id, name=name)
            session.add(account)
            session.flush()
            accounts[name] = account.id
        made = {n: Category(user_id=user.id, name=n, kind=k) for n, k in KINDS.items()}
        session.add_all(made.values())
        session.flush()
        for child, parent in PARENTS.items():
            made[child].parent_id = made[parent].id
        session.flush()
        for name, account_id in accounts.items():
            insert_transactions(
                session,
                user_id=user.id,
                account_id=account_id,
                rows=[
                    NewTransaction(datetime.fromisoformat(ts), Decimal(a), c, d, line)
                    for line, (ts, a, c, d, account) in enumerate(rows, start=1)
                    if account == name
                ],
            )
        session.commit()
    return user, rows, accounts


FILTERS = [
    {},
    {"granularity": "week"},
    {"granularity": "day", "start": date(2024, 2, 20), "end": date(2024, 3, 10)},
    {"start": date(2024, 2, 29), "end": date(2024, 2, 29)},
    {"categories": ("Groceries", "Fun & Games")},
    {"min_amount": Decimal("0"), "max_amount": Decimal("100.5")},
    {"max_amount": Decimal("0")},
    {"q": "SHOP"},
    {"q": "café", "granularity": "week", "start": date(2024, 6, 1)},
    {"categories": ("Travel",), "start": date(2024, 1, 1), "end": date(2024, 12, 31)},
    {"categories": ("Travel",), "start": date(2025, 2, 3), "end": date(2025, 2, 9)},
    {"start": date(2030, 1, 1)},
    {"accounts": ("Savings",)},
    {"accounts": ("Checking", "Card"), "granularity": "week", "start": date(2024, 9, 1)},
    {"accounts": ("Card",), "max_amount": Decimal("0")},
    {"kind": ("income",)},
    {"kind": ("transfer",)},
    {"kind": ("spending", "income"), "accounts": ("Checking",)},
    {"kind": ("spending",), "q": "shop", "granularity": "day", "end": date(2024, 1, 31)},
    {"kind": ("income",), "categories": ("Groceries",)},
]
# Any amount is inside this bound: with it the same rows come from the base table.
ALL_AMOUNTS = {"min_amount": "-9999999999.99"}


@pytest.mark.parametrize("spec", FILTERS, ids=lambda spec: ",".join(spec) or "all")
def test_metrics_match_an_independent_computation(client, seeded, auth_headers, spec):
    user, rows, accounts = seeded
    params = as_params(spec, accounts)
    response = client.get("/metrics", headers=auth_headers(user), params=params)
    assert response.status_code == 200, response.text
    assert response.json() == reference_metrics(rows, KINDS, parents=PARENTS, **spec)
    if "min_amount" not in params and "max_amount" not in params and "q" not in params:
        base = client.get("/metrics", headers=auth_headers(user), params=params | ALL_AMOUNTS)
        assert base.json() == response.json()  # the rollup answers as the base table does


def test_the_seeded_data_has_what_the_metrics_must_handle(client, seeded, auth_headers):
    """Guard for the comparison above: income, transfers, refunds, a negative category."""
    user, rows, accounts = seeded
    body = client.get("/metrics", headers=auth_headers(user)).json()
    assert body["total_income"] > body["total_spend"] > 0
    assert 0 < body["savings_rate"] < 1
    assert [c["category"] for c in body["income_categories"]] == ["Salary", "Other income"]
    assert {c["category"] for c in body["top_categories"]} == {
        name for name, kind in KINDS.items() if kind == "spending"
    }
    assert body["transaction_count"] == len(rows)
    week = client.get(
        "/metrics",
        headers=auth_headers(user),
        params={"start": "2025-02-03", "end": "2025-02-09"},
    ).json()
    travel = next(c for c in week["top_categories"] if c["category"] == "Travel")
    assert travel["total"] < 0
    assert week["top_categories"][-1] == travel  # ranked last, below zero
    transfers = client.get(
        "/metrics", headers=auth_headers(user), params={"kind": "transfer"}
    ).json()
    assert transfers["total_spend"] == transfers["total_income"] == 0
    assert transfers["savings_rate"] is None and transfers["transaction_count"] > 30


def test_cents_add_up_exactly(client, make_user, add_transactions, auth_headers):
    user = make_user()
    add_transactions(
        user,
        [
            ("2024-05-01T10:00", "0.10"),
            ("2024-05-02T10:00", "0.20"),
            ("2024-05-03T10:00", "0.10"),
            ("2024-05-04T10:00", "0.20"),
        ],
    )
    for params in ({}, {"min_amount": "0"}):  # rollup and base-table paths
        body = client.get("/metrics", headers=auth_headers(user), params=params).json()
        assert body["total_spend"] == 0.6  # 0.1 + 0.2 + 0.1 + 0.2 in floats is 0.6000000000000001
        assert body["average_transaction"] == 0.15


def test_weeks_start_on_monday_and_gaps_are_zero_filled(
    client, make_user, add_transactions, auth_headers
):
    user = make_user()
    add_transactions(user, [("2024-09-01T10:00", "5"), ("2024-09-16T10:00", "7")])  # Sun, Mon
    body = client.get("/metrics", headers=auth_headers(user), params={"granularity": "week"})
    assert body.json()["spend_over_time"] == [
        {"period_start": "2024-08-26", "total": 5.0, "income": 0.0, "count": 1},
        {"period_start": "2024-09-02", "total": 0.0, "income": 0.0, "count": 0},
        {"period_start": "2024-09-09", "total": 0.0, "income": 0.0, "count": 0},
        {"period_start": "2024-09-16", "total": 7.0, "income": 0.0, "count": 1},
    ]


def test_average_monthly_counts_empty_months(client, make_user, add_transactions, auth_headers):
    user = make_user()
    add_transactions(user, [("2024-01-31T10:00", "100"), ("2024-04-01T10:00", "33.33")])
    body = client.get("/metrics", headers=auth_headers(user)).json()
    # All time: 31 Jan .. 1 Apr 2024 = 1/31 + 1 + 1 + 1/30 months (empty months count).
    months = 2 + Fraction(1, 31) + Fraction(1, 30)
    expected = (Decimal("133.33") * months.denominator / months.numerator).quantize(CENT)
    assert body["average_monthly_spend"] == float(expected) == 64.55
    assert len(body["spend_over_time"]) == 4


def test_average_monthly_divides_by_the_months_of_the_selected_period(
    client, make_user, add_transactions, auth_headers
):
    user = make_user()
    add_transactions(user, [("2024-06-15T10:00", "1299.00", "Laptop")])
    headers = auth_headers(user)

    def average(**params):
        return client.get("/metrics", headers=headers, params=params).json()[
            "average_monthly_spend"
        ]

    # A whole year: twelve months, not "1,299.00 monthly" for a single laptop.
    assert average(start="2024-01-01", end="2024-12-31") == 108.25
    # "Last 12 months" on 2024-12-01: 2 Dec 2023 .. 1 Dec 2024 = 30/31 + 11 + 1/31 = 12.
    assert average(start="2023-12-02", end="2024-12-01") == 108.25
    # Half of June (15 of 30 days) is less than a month: at least one month.
    assert average(start="2024-06-01", end="2024-06-15") == 1299.00
    # A month and a half: 1 June .. 15 July = 1 + 15/31 months.
    assert average(start="2024-06-01", end="2024-07-15") == round(1299 / (1 + 15 / 31), 2)
    # All time: the only match's own day, counted as one month.
    assert average() == 1299.00
    # Open at one end only: from the start to the last match.
    assert average(start="2024-04-16") == round(1299 / (15 / 30 + 1 + 15 / 30), 2)


def test_no_data_is_all_zeros(client, make_user, auth_headers):
    body = client.get("/metrics", headers=auth_headers(make_user())).json()
    assert body["total_spend"] == 0 and body["transaction_count"] == 0
    assert body["first_transaction"] is None and body["spend_over_time"] == []


def test_another_users_data_changes_nothing(client, make_user, add_transactions, auth_headers):
    alice, bob = make_user("alice"), make_user("bob")
    add_transactions(alice, [("2024-05-01T10:00", "10", "Food")])
    before = client.get("/metrics", headers=auth_headers(alice)).json()
    add_transactions(bob, [("2024-05-01T10:00", "1000", "Food"), ("2023-01-01T10:00", "5", "X")])
    assert client.get("/metrics", headers=auth_headers(alice)).json() == before


@pytest.mark.parametrize(
    "params",
    [
        {"granularity": "year"},
        {"start": "2024-13-01"},
        {"start": "2024-05-02", "end": "2024-05-01"},
    ],
)
def test_bad_metrics_parameters_are_422(client, make_user, auth_headers, params):
    response = client.get("/metrics", headers=auth_headers(make_user()), params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.text


def test_the_seeded_groups_have_what_the_rollup_must_handle(client, seeded, auth_headers):
    """Guard for the group comparison: several levels, refunds, an income category under a
    spending group, transfers under one; and the totals add up to the kinds' totals."""
    user, rows, accounts = seeded
    body = client.get("/metrics", headers=auth_headers(user)).json()
    spending = {g["category"]: g for g in body["category_groups"]}
    assert set(spending) == {"Groceries", "Rent"}
    assert [g["category"] for g in body["income_groups"]] == ["Salary", "Rent"]
    assert sum(Decimal(str(g["total"])) for g in spending.values()) == Decimal(
        str(body["total_spend"])
    )
    # Rent's spending group holds Rent and Transport only: its card payments count nowhere.
    categories = {c["category"]: c for c in body["top_categories"]}
    assert (
        spending["Rent"]["count"] == categories["Rent"]["count"] + categories["Transport"]["count"]
    )
    week = client.get(
        "/metrics",
        headers=auth_headers(user),
        params={"start": "2025-02-03", "end": "2025-02-09"},
    ).json()
    travel = next(c for c in week["top_categories"] if c["category"] == "Travel")
    groceries = next(g for g in week["category_groups"] if g["category"] == "Groceries")
    assert travel["total"] < 0 and groceries["total"] < 0  # the refund lowers its group


def test_a_group_filter_matches_only_its_own_name(client, seeded, auth_headers):
    """category=<group> selects what is filed under that very name, not its children."""
    user, rows, accounts = seeded
    params = {"category": "Groceries", "account": [accounts["Card"]]}
    body = client.get("/metrics", headers=auth_headers(user), params=params).json()
    assert [c["category"] for c in body["top_categories"]] == ["Groceries"]
    assert body["category_groups"] == body["top_categories"]
    assert body == reference_metrics(
        rows, KINDS, categories=("Groceries",), accounts=("Card",), parents=PARENTS
    )


def test_groups_follow_a_change_of_parent(client, make_user, add_transactions, auth_headers):
    user = make_user()
    headers = auth_headers(user)
    add_transactions(
        user,
        [
            ("2024-05-01T10:00", "10.10", "Bakery"),
            ("2024-05-02T10:00", "20.20", "Butcher"),
            ("2024-05-03T10:00", "-5.05", "Butcher", "refund"),
            ("2024-05-04T10:00", "0.01", "Food"),
        ],
    )
    ids = {c["name"]: c["id"] for c in client.get("/categories", headers=headers).json()}

    def groups():
        body = client.get("/metrics", headers=headers).json()
        return [
            (g["category"], g["total"], g["count"], g["share"]) for g in body["category_groups"]
        ]

    assert groups() == [
        ("Butcher", 15.15, 2, 0.5998),
        ("Bakery", 10.1, 1, 0.3998),
        ("Food", 0.01, 1, 0.0004),
    ]
    for child, parent in (("Butcher", "Bakery"), ("Bakery", "Food")):
        response = client.patch(
            f"/categories/{ids[child]}", headers=headers, json={"parent_id": ids[parent]}
        )
        assert response.status_code == 200, response.text
    assert groups() == [("Food", 25.26, 4, 1.0)]
    client.patch(f"/categories/{ids['Bakery']}", headers=headers, json={"parent_id": None})
    assert groups() == [("Bakery", 25.25, 3, 0.9996), ("Food", 0.01, 1, 0.0004)]


def test_groups_are_the_users_own(client, make_user, add_transactions, auth_headers):
    """Another user's same names under other parents change nothing."""
    alice, bob = make_user("alice"), make_user("bob")
    add_transactions(alice, [("2024-05-01T10:00", "7.00", "Bakery")])
    add_transactions(
        bob, [("2024-05-01T10:00", "9.00", "Bakery"), ("2024-05-01T11:00", "1", "Food")]
    )
    bob_ids = {
        c["name"]: c["id"] for c in client.get("/categories", headers=auth_headers(bob)).json()
    }
    client.patch(
        f"/categories/{bob_ids['Bakery']}",
        headers=auth_headers(bob),
        json={"parent_id": bob_ids["Food"]},
    )
    mine = client.get("/metrics", headers=auth_headers(alice)).json()["category_groups"]
    assert mine == [{"category": "Bakery", "total": 7.0, "count": 1, "share": 1.0}]
    theirs = client.get("/metrics", headers=auth_headers(bob)).json()["category_groups"]
    assert theirs == [{"category": "Food", "total": 10.0, "count": 2, "share": 1.0}]
