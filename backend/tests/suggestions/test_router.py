"""Learned suggestions on stored transactions: refresh, accept, never over the user's
choice, refunds, and rules offered after repeated corrections."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spending_api.models import Transaction
from spending_api.suggestions.service import HINT_FLOOR

START = datetime(2025, 1, 1, 12)
MERCHANTS = {
    "TESCO STORES 3341": "Groceries",
    "SHELL OIL 5521": "Transport",
    "NETFLIX.COM": "Subscriptions",
}


def _history() -> list[tuple]:
    rows = []
    for day in range(60):
        for number, (merchant, category) in enumerate(MERCHANTS.items()):
            if day % (number + 2) == 0:
                amount = Decimal(10 + number * 7) + Decimal(day % 5)
                rows.append((START + timedelta(days=day), str(amount), category, merchant))
    return rows


@pytest.fixture
def learner(make_user, add_transactions, database):
    """A user whose history came categorized from the bank, plus new uncategorized rows."""
    user = make_user()
    add_transactions(user, _history())
    with database.session() as session:
        session.execute(
            text("UPDATE transactions SET category_source = 'bank' WHERE user_id = :u"),
            {"u": user.id},
        )
        session.commit()
    later = START + timedelta(days=90)
    add_transactions(
        user,
        [
            (later, "13.37", "Uncategorized", "TESCO STORES 3341"),
            (later + timedelta(days=1), "21.11", "Uncategorized", "SHELL OIL 5521"),
            (later + timedelta(days=2), "-12.00", "Uncategorized income", "TESCO STORES 3341"),
            (later + timedelta(days=3), "9.00", "Uncategorized", "Completely new merchant xq"),
        ],
    )
    return user


def _row(database, user, description, amount):
    with database.session() as session:
        return session.execute(
            select(
                Transaction.id,
                Transaction.category,
                Transaction.category_source,
                Transaction.category_confidence,
                Transaction.suggested_category,
                Transaction.suggestion_confidence,
            ).where(
                Transaction.user_id == user.id,
                Transaction.description == description,
                Transaction.amount == Decimal(amount),
            )
        ).one()


def test_refresh_applies_confident_guesses_and_suggests_refunds(
    client, database, learner, auth_headers
):
    response = client.post("/suggestions/refresh", headers=auth_headers(learner))
    assert response.status_code == 200, response.text
    counts = response.json()
    assert counts["applied"] >= 2 and counts["suggested"] >= counts["applied"]

    tesco = _row(database, learner, "TESCO STORES 3341", "13.37")
    assert (tesco.category, tesco.category_source) == ("Groceries", "learned")
    assert tesco.category_confidence >= Decimal("0.8")
    shell = _row(database, learner, "SHELL OIL 5521", "21.11")
    assert (shell.category, shell.category_source) == ("Transport", "learned")
    # Money back from a shop the user buys from: a refund in that purchase's category.
    refund = _row(database, learner, "TESCO STORES 3341", "-12.00")
    assert refund.suggested_category == "Groceries"
    # Nothing known about this merchant: no guess above the floor is stored.
    unknown = _row(database, learner, "Completely new merchant xq", "9.00")
    assert unknown.category_source == "default"
    assert unknown.suggested_category is None or unknown.suggestion_confidence >= Decimal(
        str(HINT_FLOOR)
    )
    # The history the bank categorized is left alone.
    with database.session() as session:
        sources = set(
            session.scalars(
                select(Transaction.category_source).where(
                    Transaction.user_id == learner.id,
                    Transaction.timestamp < START + timedelta(days=90),
                )
            )
        )
    assert sources == {"bank"}


def test_a_hand_set_category_is_never_replaced(client, database, learner, auth_headers):
    tesco = _row(database, learner, "TESCO STORES 3341", "13.37")
    with database.session() as session:
        session.execute(
            text(
                "UPDATE transactions SET category = 'Shopping', category_source = 'user' "
                "WHERE id = :i"
            ),
            {"i": tesco.id},
        )
        session.commit()
    client.post("/suggestions/refresh", headers=auth_headers(learner))
    after = _row(database, learner, "TESCO STORES 3341", "13.37")
    assert (after.category, after.category_source, after.suggested_category) == (
        "Shopping",
        "user",
        None,
    )


def test_accepting_a_suggestion_makes_it_the_users_choice(client, database, learner, auth_headers):
    headers = auth_headers(learner)
    client.post("/suggestions/refresh", headers=headers)
    refund = _row(database, learner, "TESCO STORES 3341", "-12.00")
    response = client.post(f"/transactions/{refund.id}/accept-suggestion", headers=headers)
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert (accepted["id"], accepted["category"], accepted["category_source"]) == (
        refund.id,
        "Groceries",
        "user",
    )
    assert accepted["suggestion"] is None and accepted["kind"] == "spending"
    again = client.post(f"/transactions/{refund.id}/accept-suggestion", headers=headers)
    assert again.status_code == 409
    metrics = client.get("/metrics", headers=headers).json()
    groceries = {c["category"]: Decimal(str(c["total"])) for c in metrics["top_categories"]}
    with database.session() as session:
        expected = session.scalar(
            text(
                "SELECT sum(amount) FROM transactions WHERE user_id = :u AND category = 'Groceries'"
            ),
            {"u": learner.id},
        )
    assert groceries["Groceries"] == expected


def test_accept_is_private(client, learner, make_user, auth_headers, database):
    client.post("/suggestions/refresh", headers=auth_headers(learner))
    refund = _row(database, learner, "TESCO STORES 3341", "-12.00")
    other = make_user()
    response = client.post(
        f"/transactions/{refund.id}/accept-suggestion", headers=auth_headers(other)
    )
    assert response.status_code == 404
    assert _row(database, learner, "TESCO STORES 3341", "-12.00").category_source != "user"


def test_two_corrections_of_one_merchant_offer_a_rule_with_its_preview(
    client, database, make_user, add_transactions, auth_headers
):
    user = make_user()
    add_transactions(
        user,
        [
            ("2025-02-01T10:00", "4.50", "Uncategorized", "PRET A MANGER 221"),
            ("2025-02-03T10:00", "5.20", "Uncategorized", "PRET A MANGER 009"),
            ("2025-02-05T10:00", "4.80", "Uncategorized", "Pret A Manger 77"),
        ],
    )
    headers = auth_headers(user)
    assert client.get("/rules/proposals", headers=headers).json() == []
    with database.session() as session:
        session.execute(
            text(
                "UPDATE transactions SET category = 'Dining out', category_source = 'user' "
                "WHERE user_id = :u AND amount IN (4.50, 5.20)"
            ),
            {"u": user.id},
        )
        session.commit()
    offered = client.get("/rules/proposals", headers=headers).json()
    assert len(offered) == 1
    assert offered[0]["rule"]["actions"] == {
        "set_category": "Dining out",
        "set_description": None,
        "mark_transfer": False,
    }
    # The preview: the one row still uncategorized (hand-set rows are never changed).
    assert offered[0]["preview"]["count"] == 1
    assert Decimal(str(offered[0]["preview"]["total"])) == Decimal("4.80")
    saved = client.post("/rules", json=offered[0]["rule"], headers=headers)
    assert saved.status_code == 201, saved.text
    assert client.get("/rules/proposals", headers=headers).json() == []
