"""What /metrics must answer, computed in plain Python from the rows (independently of
the application's SQL and arithmetic): metrics/test_router.py and
metrics/test_random_ledger.py check the API against it."""

import calendar
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def reference_metrics(
    rows,
    kinds,
    granularity="month",
    start=None,
    end=None,
    categories=(),
    min_amount=None,
    max_amount=None,
    q=None,
    accounts=(),
    kind=(),
    parents=None,
):
    """What /metrics must answer, computed independently of the application's code:
    spending categories make the spend (refunds lower it), income categories the income
    (money in, positive), transfers neither; every matching row counts. `parents` (name:
    parent name) make the groups: a category counts in its top-level ancestor's."""
    parents = parents or {}

    def group(category):
        while category in parents:
            category = parents[category]
        return category

    matching = []
    for timestamp, amount, category, description, account in rows:
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
        if accounts and account not in accounts:
            continue
        if kind and kinds[category] not in kind:
            continue
        matching.append((ts, amount, category, kinds[category]))
    if not matching:
        return {
            "total_spend": 0.0,
            "total_income": 0.0,
            "net_savings": 0.0,
            "savings_rate": None,
            "transaction_count": 0,
            "average_monthly_spend": 0.0,
            "average_transaction": 0.0,
            "first_transaction": None,
            "last_transaction": None,
            "top_categories": [],
            "income_categories": [],
            "category_groups": [],
            "income_groups": [],
            "spend_over_time": [],
        }

    spent = [(ts, amount, c) for ts, amount, c, k in matching if k == "spending"]
    earned = [(ts, -amount, c) for ts, amount, c, k in matching if k == "income"]
    total = sum((amount for _, amount, _ in spent), Decimal(0))
    income = sum((amount for _, amount, _ in earned), Decimal(0))
    first = min(ts for ts, *_ in matching).date()
    last = max(ts for ts, *_ in matching).date()
    # Each day of the period is 1/(days in its month) of a month; open ends are the matches.
    months, day = Fraction(0), start or first
    while day <= (end or last):
        months += Fraction(1, calendar.monthrange(day.year, day.month)[1])
        day += timedelta(days=1)
    months = max(months, Fraction(1))

    def share(part, whole):
        if not whole:
            return 0.0
        return float((part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))

    def ranked(amounts, whole):
        per_category = defaultdict(lambda: [Decimal(0), 0])
        for _, amount, category in amounts:
            per_category[category][0] += amount
            per_category[category][1] += 1
        return [
            {"category": name, "total": float(t), "count": n, "share": share(t, whole)}
            for name, (t, n) in sorted(per_category.items(), key=lambda i: (-i[1][0], i[0]))
        ]

    def bucket(day):
        if granularity == "day":
            return day
        if granularity == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    per_period = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for ts, amount, _, k in matching:
        entry = per_period[bucket(ts.date())]
        entry[0] += amount if k == "spending" else 0
        entry[1] -= amount if k == "income" else 0
        entry[2] += 1
    timeline, day = [], first
    while day <= last:
        if not timeline or timeline[-1]["period_start"] != bucket(day).isoformat():
            spend_p, income_p, count_p = per_period.get(bucket(day), (0, 0, 0))
            timeline.append(
                {
                    "period_start": bucket(day).isoformat(),
                    "total": float(spend_p),
                    "income": float(income_p),
                    "count": count_p,
                }
            )
        day += timedelta(days=1)

    def money(value):
        return float(value.quantize(CENT, rounding=ROUND_HALF_UP))

    return {
        "total_spend": float(total),
        "total_income": float(income),
        "net_savings": float(income - total),
        "savings_rate": share(income - total, income) if income else None,
        "transaction_count": len(matching),
        "average_monthly_spend": money(Decimal(total) * months.denominator / months.numerator),
        "average_transaction": money(total / len(spent)) if spent else 0.0,
        "first_transaction": first.isoformat(),
        "last_transaction": last.isoformat(),
        "top_categories": ranked(spent, total),
        "income_categories": ranked(earned, income),
        "category_groups": ranked([(ts, a, group(c)) for ts, a, c in spent], total),
        "income_groups": ranked([(ts, a, group(c)) for ts, a, c in earned], income),
        "spend_over_time": timeline,
    }


def as_params(spec, accounts):
    params = {}
    for key, value in spec.items():
        if key == "categories":
            params["category"] = list(value)
        elif key == "accounts":
            params["account"] = [accounts[name] for name in value]
        elif key == "kind":
            params["kind"] = list(value)
        else:
            params[key] = str(value)
    return params
