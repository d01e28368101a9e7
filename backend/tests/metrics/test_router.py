"""GET /metrics, checked against a plain-Python computation over the same rows."""

import calendar
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

CENT = Decimal("0.01")


def reference_metrics(
    rows,
    granularity="month",
    start=None,
    end=None,
    categories=(),
    min_amount=None,
    max_amount=None,
    q=None,
):
    """What /metrics must answer, computed independently of the application's code."""
    matching = []
    for timestamp, amount, category, description in rows:
        ts, amount = datetime.fromisoformat(timestamp), Decimal(amount)
        if start and ts.date() < start or end and ts.date() > end:
            continue
        if categories and category not in categories:
            continue
        if min_amount is not None and amount < min_amount:
            continue
        if max_amount is not None and amount > max_amount:
            continue
        if q and q.lower() not in (description or "").lower():
            continue
        matching.append((ts, amount, category))
    if not matching:
        return {
            "total_spend": 0.0,
            "transaction_count": 0,
            "average_monthly_spend": 0.0,
            "average_transaction": 0.0,
            "first_transaction": None,
            "last_transaction": None,
            "top_categories": [],
            "spend_over_time": [],
        }

    total = sum(amount for _, amount, _ in matching)
    first = min(ts for ts, _, _ in matching).date()
    last = max(ts for ts, _, _ in matching).date()
    # Each day of the period is 1/(days in its month) of a month; open ends are the matches.
    months, day = Fraction(0), start or first
    while day <= (end or last):
        months += Fraction(1, calendar.monthrange(day.year, day.month)[1])
        day += timedelta(days=1)
    months = max(months, Fraction(1))

    per_category = defaultdict(lambda: [Decimal(0), 0])
    for _, amount, category in matching:
        per_category[category][0] += amount
        per_category[category][1] += 1
    ranked = sorted(per_category.items(), key=lambda item: (-item[1][0], item[0]))

    def bucket(day):
        if granularity == "day":
            return day
        if granularity == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    per_period = defaultdict(lambda: [Decimal(0), 0])
    for ts, amount, _ in matching:
        per_period[bucket(ts.date())][0] += amount
        per_period[bucket(ts.date())][1] += 1
    timeline, day = [], first
    while day <= last:
        if not timeline or timeline[-1]["period_start"] != bucket(day).isoformat():
            total_p, count_p = per_period.get(bucket(day), (Decimal(0), 0))
            timeline.append(
                {"period_start": bucket(day).isoformat(), "total": float(total_p), "count": count_p}
            )
        day += timedelta(days=1)

    def money(value):
        return float(value.quantize(CENT, rounding=ROUND_HALF_UP))

    return {
        "total_spend": float(total),
        "transaction_count": len(matching),
        "average_monthly_spend": money(Decimal(total) * months.denominator / months.numerator),
        "average_transaction": money(total / len(matching)),
        "first_transaction": first.isoformat(),
        "last_transaction": last.isoformat(),
        "top_categories": [
            {
                "category": name,
                "total": float(t),
                "count": n,
                "share": (
                    float((t / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
                    if total
                    else 0.0
                ),
            }
            for name, (t, n) in ranked
        ],
        "spend_over_time": timeline,
    }


def random_rows(seed, count=400):
    rng = random.Random(seed)
    categories = ["Groceries", "Rent", "Dining", "Transport", "Travel", "Fun & Games"]
    start = datetime(2023, 11, 20)
    rows = []
    for _ in range(count):
        ts = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 500))
        cents = rng.randrange(-2000, 30000) if rng.random() < 0.1 else rng.randrange(1, 30000)
        rows.append(
            (
                ts.isoformat(),
                str(Decimal(cents) / 100),
                rng.choice(categories),
                rng.choice(["Shop", "shop online", "Café crème", "Taxi", None]),
            )
        )
    # Month ends, a leap day and cents that binary floating point cannot add.
    rows += [
        ("2024-02-29T23:59:59", "0.10", "Groceries", "leap"),
        ("2024-03-01T00:00:00", "0.20", "Groceries", "leap+1"),
        ("2024-12-31T23:59:59.5", "0.70", "Dining", "new year's eve"),
        ("2025-01-01T00:00:00", "-0.30", "Dining", "refund"),
    ]
    return rows


@pytest.fixture
def seeded(make_user, add_transactions):
    user = make_user("alice")
    rows = random_rows(seed=20241125)
    add_transactions(user, rows)
    return user, rows


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
    {"start": date(2030, 1, 1)},
]


def as_params(spec):
    params = {}
    for key, value in spec.items():
        params["category" if key == "categories" else key] = (
            list(value) if key == "categories" else str(value)
        )
    return params


@pytest.mark.parametrize("spec", FILTERS, ids=lambda spec: ",".join(spec) or "all")
def test_metrics_match_an_independent_computation(client, seeded, auth_headers, spec):
    user, rows = seeded
    response = client.get("/metrics", headers=auth_headers(user), params=as_params(spec))
    assert response.status_code == 200, response.text
    assert response.json() == reference_metrics(rows, **spec)


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
        {"period_start": "2024-08-26", "total": 5.0, "count": 1},
        {"period_start": "2024-09-02", "total": 0.0, "count": 0},
        {"period_start": "2024-09-09", "total": 0.0, "count": 0},
        {"period_start": "2024-09-16", "total": 7.0, "count": 1},
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
