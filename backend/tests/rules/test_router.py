"""/rules: saving, validating, previewing and running the user's rules."""

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spending_api.categories.repository import create_default_categories
from spending_api.models import Account, Import, Transaction
from spending_api.rules import service

ROWS = [
    ("2025-03-01T09:00", "4.20", "Uncategorized", "STARBUCKS #1234 SEATTLE"),
    ("2025-03-02T09:00", "5.10", "Uncategorized", "Starbucks Store 88"),
    ("2025-03-03T12:00", "61.00", "Uncategorized", "WHOLE FOODS MARKET"),
    ("2025-03-04T12:00", "-1200.00", "Uncategorized income", "ACME PAYROLL"),
    ("2025-03-05T12:00", "250.00", "Uncategorized", "Transfer to savings"),
    ("2025-03-06T12:00", "3.90", "Dining out", "STARBUCKS airport"),
]
COFFEE = {
    "name": "Coffee",
    "conditions": [
        {"type": "text", "field": "description", "operator": "contains", "value": "starbucks"}
    ],
    "actions": {"set_category": "Dining out"},
}


@pytest.fixture
def owner(make_user, add_transactions, database):
    user = make_user()
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        session.commit()
    add_transactions(user, ROWS)
    return user


def _categories(database, user) -> dict[str, tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(
                Transaction.description, Transaction.category, Transaction.category_source
            ).where(Transaction.user_id == user.id)
        )
        return {description: (category, source) for description, category, source in rows}


def _expected_matches(value: str) -> list[tuple]:
    return [row for row in ROWS if value.casefold() in row[3].casefold()]


def test_a_rule_is_saved_listed_and_reordered(client, owner, auth_headers):
    headers = auth_headers(owner)
    first = client.post("/rules", json=COFFEE, headers=headers)
    assert first.status_code == 201, first.text
    second = client.post(
        "/rules",
        json={
            **COFFEE,
            "name": "Groceries",
            "conditions": [{"type": "text", "operator": "starts_with", "value": "whole foods"}],
            "actions": {"set_category": "Groceries"},
        },
        headers=headers,
    )
    assert [r["position"] for r in (first.json(), second.json())] == [1, 2]
    moved = client.patch(f"/rules/{second.json()['id']}", json={"position": 1}, headers=headers)
    assert moved.status_code == 200
    listed = client.get("/rules", headers=headers).json()
    assert [r["name"] for r in listed] == ["Groceries", "Coffee"]
    assert [r["position"] for r in listed] == [1, 2]
    assert listed[1]["conditions"] == [
        {"type": "text", "field": "description", "operator": "contains", "value": "starbucks"}
    ]


@pytest.mark.parametrize(
    "body, detail",
    [
        (
            {**COFFEE, "actions": {"set_category": "No such category"}},
            service.UNKNOWN_CATEGORY,
        ),
        (
            {**COFFEE, "conditions": [{"type": "text", "operator": "regex", "value": "(a)\\1"}]},
            "The regular expression is not valid",
        ),
        (
            {**COFFEE, "actions": {}},
            "A rule needs an action",
        ),
        (
            {**COFFEE, "conditions": [{"type": "amount", "minimum": "10", "maximum": "5"}]},
            "The amount minimum must not be larger than the maximum.",
        ),
    ],
)
def test_an_invalid_rule_is_refused_with_the_reason(client, owner, auth_headers, body, detail):
    for path in ("/rules", "/rules/preview"):
        response = client.post(path, json=body, headers=auth_headers(owner))
        assert response.status_code == 422, response.text
        assert str(response.json()["detail"]).startswith(detail)
    assert client.get("/rules", headers=auth_headers(owner)).json() == []


def test_preview_lists_what_the_rule_would_change_and_stores_nothing(
    client, database, owner, auth_headers
):
    before = _categories(database, owner)
    response = client.post("/rules/preview", json=COFFEE, headers=auth_headers(owner))
    assert response.status_code == 200, response.text
    preview = response.json()
    # The airport coffee is already Dining out: the rule only confirms it (source: rule).
    changed = _expected_matches("starbucks")
    assert preview["count"] == len(changed) == 3
    assert Decimal(str(preview["total"])) == sum(Decimal(row[1]) for row in changed)
    assert {t["description"] for t in preview["transactions"]} == {row[3] for row in changed}
    assert {t["new_category"] for t in preview["transactions"]} == {"Dining out"}
    assert _categories(database, owner) == before


def test_apply_runs_rules_in_order_and_never_over_a_hand_set_category(
    client, database, owner, auth_headers
):
    headers = auth_headers(owner)
    with database.session() as session:
        session.execute(
            text(
                "UPDATE transactions SET category = 'Groceries', category_source = 'user' "
                "WHERE user_id = :user AND description = 'Starbucks Store 88'"
            ),
            {"user": owner.id},
        )
        session.commit()
    client.post("/rules", json=COFFEE, headers=headers)
    client.post(
        "/rules",
        json={
            "name": "Savings",
            "conditions": [{"type": "text", "value": "transfer to savings"}],
            "actions": {"mark_transfer": True, "set_description": "Savings"},
        },
        headers=headers,
    )
    response = client.post("/rules/apply", headers=headers)
    assert response.status_code == 200, response.text
    # Two coffees (the hand-set one stays) and the savings transfer.
    assert response.json() == {"updated": 3}
    after = _categories(database, owner)
    assert after["STARBUCKS #1234 SEATTLE"] == ("Dining out", "rule")
    assert after["Starbucks Store 88"] == ("Groceries", "user")
    assert after["Savings"] == ("Transfer", "rule")
    with database.session() as session:
        original = session.scalar(
            select(Transaction.original_description).where(Transaction.description == "Savings")
        )
    assert original == "Transfer to savings"
    # The rollup followed the changes, to the cent.
    metrics = client.get("/metrics", headers=headers).json()
    by_category = {c["category"]: Decimal(str(c["total"])) for c in metrics["top_categories"]}
    assert by_category["Dining out"] == Decimal("4.20") + Decimal("3.90")


def test_rules_run_over_one_import_only(
    database, owner, make_user, add_transactions, client, auth_headers
):
    client.post("/rules", json=COFFEE, headers=auth_headers(owner))
    with database.session() as session:
        account_id = session.scalar(select(Account.id).where(Account.user_id == owner.id))
        record = Import(
            user_id=owner.id,
            account_id=account_id,
            file_name="x.csv",
            format="csv",
            row_count=1,
            inserted_count=1,
            duplicate_count=0,
            skipped_count=0,
        )
        session.add(record)
        session.flush()
        session.execute(
            text("UPDATE transactions SET import_id = :i WHERE description = 'Starbucks Store 88'"),
            {"i": record.id},
        )
        assert service.run_for_import(session, user_id=owner.id, import_id=record.id) == 1
        session.commit()
    after = _categories(database, owner)
    assert after["Starbucks Store 88"] == ("Dining out", "rule")
    assert after["STARBUCKS #1234 SEATTLE"] == ("Uncategorized", "default")


def test_rules_are_private(client, owner, make_user, auth_headers):
    rule = client.post("/rules", json=COFFEE, headers=auth_headers(owner)).json()
    other = make_user()
    headers = auth_headers(other)
    assert client.get("/rules", headers=headers).json() == []
    assert (
        client.patch(f"/rules/{rule['id']}", json={"enabled": False}, headers=headers).status_code
        == 404
    )
    assert client.delete(f"/rules/{rule['id']}", headers=headers).status_code == 404
    assert (
        client.post("/rules/apply", json={"rule_ids": [rule["id"]]}, headers=headers).status_code
        == 404
    )
    assert client.delete(f"/rules/{rule['id']}", headers=auth_headers(owner)).status_code == 204
