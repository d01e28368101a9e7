"""Demo data: the deterministic generator, its personas, and the idempotent seed-demo."""

import io
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from spending_api import cli
from spending_api.categories.defaults import DEFAULT_KINDS
from spending_api.demo import (
    DEMO_SEED,
    DEMO_USERS,
    PERSONAS,
    generate_income_and_savings,
    generate_transactions,
    seed_demo_users,
)
from spending_api.models import Account, TransferPair, Transaction, User
from spending_api.transactions.exporter import write_csv

END = date(2025, 6, 30)


def _two_years(persona: str, seed: int = 1) -> list:
    return list(generate_transactions(seed=seed, end=END, days=730, persona=persona))


def test_same_seed_and_end_give_the_same_rows():
    assert _two_years("demo") == _two_years("demo")
    assert _two_years("demo") != _two_years("demo", seed=2)


def test_rows_are_realistic():
    rows = _two_years("demo")
    categories = Counter(row.category for row in rows)

    assert rows[0].timestamp.date() >= END - timedelta(days=729)
    assert rows[-1].timestamp.date() <= END
    assert [row.timestamp for row in rows] == sorted(row.timestamp for row in rows)
    assert [row.line_no for row in rows] == list(range(1, len(rows) + 1))
    assert 1000 < len(rows) < 4000
    # Rent on a fixed day every month, weekly groceries, subscriptions, travel.
    rent = [row for row in rows if row.category == "Rent"]
    assert 23 <= len(rent) <= 24 and {row.timestamp.day for row in rent} == {1}
    assert categories["Groceries"] >= 104
    assert categories["Subscriptions"] >= 48
    assert categories["Travel"] > 0
    assert {"Dining out", "Transport", "Shopping"} <= set(categories)
    refunds = [row for row in rows if row.amount < 0]
    assert 0 < len(refunds) < len(rows) * 0.02
    assert all(row.amount == row.amount.quantize(Decimal("0.01")) for row in rows)
    assert all(isinstance(row.amount, Decimal) for row in rows)


def test_personas_look_different():
    totals = {
        persona: sum((row.amount for row in _two_years(persona)), Decimal(0))
        for persona in PERSONAS
    }
    top = {
        persona: Counter(row.category for row in _two_years(persona)).most_common(1)[0][0]
        for persona in PERSONAS
    }

    assert len(set(totals.values())) == len(PERSONAS)
    assert max(totals.values()) > 2 * min(totals.values())
    assert top["alex"] == "Groceries" and top["sam"] == "Dining out"


def _money_in_and_moves(persona: str, seed: int = 1) -> list:
    return list(generate_income_and_savings(seed=seed, end=END, days=730, persona=persona))


def test_income_and_savings_are_deterministic_and_regular():
    rows = _money_in_and_moves("demo")
    assert rows == _money_in_and_moves("demo")
    assert rows != _money_in_and_moves("demo", seed=2)
    salary = [row for account, row in rows if row.category == "Salary"]
    # Every month's salary on the persona's pay day, into checking, as money in.
    assert len(salary) == 24 and {row.timestamp.day for row in salary} == {25}
    assert all(row.amount < 0 for row in salary)
    assert {account for account, row in rows if row.category == "Salary"} == {"checking"}
    assert [row.timestamp for _, row in rows] == sorted(row.timestamp for _, row in rows)
    # The categories used are the default set's income and transfer ones.
    assert {DEFAULT_KINDS[row.category] for _, row in rows if row.category != "Savings"} == {
        "income"
    }
    assert DEFAULT_KINDS["Savings"] == "transfer"


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_move_to_savings_has_its_other_side(persona):
    rows = _money_in_and_moves(persona)
    out = [(r.timestamp, r.amount) for a, r in rows if a == "checking" and r.category == "Savings"]
    into = [(r.timestamp, -r.amount) for a, r in rows if a == "savings" and r.category == "Savings"]
    assert len(out) >= 23 and out == into and all(amount > 0 for _, amount in out)


def test_per_day_scales_for_benchmarks():
    rows = list(generate_transactions(seed=3, end=END, days=1000, per_day=20))

    assert 18_000 < len(rows) < 22_000
    assert len({row.timestamp.year for row in rows}) >= 2


def test_write_csv_writes_the_own_format():
    rows = list(generate_transactions(seed=1, end=END, days=10))
    text, binary = io.StringIO(), io.BytesIO()

    count = write_csv(rows, text)
    write_csv(rows, binary)

    lines = text.getvalue().splitlines()
    assert count == len(rows) == len(lines) - 1
    assert lines[0] == "timestamp,amount,category,description"
    first = rows[0]
    assert lines[1].startswith(f"{first.timestamp.isoformat()},{first.amount:.2f},")
    assert binary.getvalue().decode() == text.getvalue()


def _counts(session) -> dict[str, int]:
    statement = (
        select(User.username, func.count(Transaction.id))
        .join(Transaction, Transaction.user_id == User.id, isouter=True)
        .group_by(User.username)
    )
    return dict(session.execute(statement).all())


def test_seed_demo_is_idempotent_and_users_can_log_in(session, client):
    first = list(seed_demo_users(session, end=END))
    counts = _counts(session)
    second = list(seed_demo_users(session, end=END))

    assert len(first) == len(DEMO_USERS) and all("Created" in line for line in first)
    assert all("exists" in line for line in second)
    assert _counts(session) == counts
    assert set(counts) == {username for username, _, _ in DEMO_USERS}
    assert all(count > 1000 for count in counts.values())
    login = client.post("/login", json={"username": "demo", "password": "demo"})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).json()
    assert metrics["last_transaction"] == END.isoformat()


def _expected_figures(persona: str) -> tuple[Decimal, Decimal, int]:
    """(spend, income, rows) from the generators, by the default categories' kinds (the
    spending rows' categories that are not in the default set are created as spending)."""
    spending = list(generate_transactions(seed=DEMO_SEED, end=END, days=730, persona=persona))
    moves = [
        row
        for _, row in generate_income_and_savings(
            seed=DEMO_SEED, end=END, days=730, persona=persona
        )
    ]
    rows = spending + moves
    kinds = {row.category: DEFAULT_KINDS.get(row.category, "spending") for row in rows}
    spend = sum((r.amount for r in rows if kinds[r.category] == "spending"), Decimal(0))
    income = -sum((r.amount for r in rows if kinds[r.category] == "income"), Decimal(0))
    return spend, income, len(rows)


def test_seeded_users_show_income_savings_and_paired_transfers(session, client):
    list(seed_demo_users(session, end=END))

    for username, password, persona in DEMO_USERS:
        token = client.post("/login", json={"username": username, "password": password}).json()[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        metrics = client.get("/metrics", headers=headers).json()
        spend, income, count = _expected_figures(persona)

        assert Decimal(str(metrics["total_spend"])) == spend
        assert Decimal(str(metrics["total_income"])) == income
        assert metrics["transaction_count"] == count
        assert 0 < metrics["savings_rate"] < 0.5, (username, metrics["savings_rate"])
        assert metrics["income_categories"][0]["category"] == "Salary"
        assert all(p["income"] > 0 for p in metrics["spend_over_time"])
        user = session.scalar(select(User).where(User.username == username))
        accounts = session.scalars(
            select(Account.kind).where(Account.user_id == user.id).order_by(Account.id)
        ).all()
        assert accounts == ["checking", "savings"]
        moves = client.get(
            "/transactions", headers=headers, params={"kind": "transfer", "limit": 1}
        )
        pairs = session.scalar(
            select(func.count()).select_from(TransferPair).where(TransferPair.user_id == user.id)
        )
        # Every move to savings is paired (by the import's pairing), and nothing else.
        generated = [
            row
            for account, row in generate_income_and_savings(
                seed=DEMO_SEED, end=END, days=730, persona=persona
            )
            if account == "checking" and row.category == "Savings"
        ]
        assert pairs == len(generated) >= 23
        assert int(moves.headers["X-Total-Count"]) == 2 * pairs
        paired_categories = session.scalars(
            select(Transaction.category)
            .join(TransferPair, TransferPair.out_transaction_id == Transaction.id)
            .where(TransferPair.user_id == user.id)
        ).all()
        assert set(paired_categories) == {"Savings"}


def test_seed_demo_command(settings, database, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)

    assert cli.main(["seed-demo"]) == 0
    assert cli.main(["seed-demo"]) == 0
    output = capsys.readouterr().out

    assert output.count("Created demo user") == 3
    assert output.count("left unchanged") == 3
