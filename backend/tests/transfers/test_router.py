"""Transfer pairing after each import, GET /transfers and DELETE /transfers/{id}."""

import pytest
from sqlalchemy import select, text, update

from spending_api import errors
from spending_api.categories.repository import create_default_categories
from spending_api.models import Account, Transaction
from spending_api.transfers.repository import pair_transfers

HEADER = "Date,Description,Amount\n"


@pytest.fixture
def post(client, auth_headers):
    def send(user, lines: list[str], account_id: int):
        response = client.post(
            "/transactions/import",
            headers=auth_headers(user),
            files={"file": ("bank.csv", (HEADER + "\n".join(lines) + "\n").encode(), "text/csv")},
            data={"account_id": str(account_id)},
            params={"amount_sign": "spend_negative"},  # a short file cannot tell
        )
        assert response.status_code == 200, response.text
        return response.json()

    return send


@pytest.fixture
def accounts(database):
    def make(user, *kinds: str) -> list[int]:
        with database.session() as session:
            create_default_categories(session, user_id=user.id)
            made = [
                Account(user_id=user.id, name=f"{kind} {n}", kind=kind)
                for n, kind in enumerate(kinds)
            ]
            session.add_all(made)
            session.commit()
            return [account.id for account in made]

    return make


def _stored(database, user) -> dict[str, tuple]:
    """description -> (account, amount as text, category)"""
    with database.session() as session:
        rows = session.execute(
            select(
                Transaction.description,
                Transaction.account_id,
                Transaction.amount,
                Transaction.category,
            ).where(Transaction.user_id == user.id)
        ).all()
    return {text: (account, f"{amount}", category) for text, account, amount, category in rows}


def _pairs(client, auth_headers, user) -> list[tuple]:
    answer = client.get("/transfers", headers=auth_headers(user))
    assert answer.status_code == 200
    return [(pair["out"]["description"], pair["in"]["description"]) for pair in answer.json()]


def test_money_out_and_the_same_amount_in_to_another_account_are_paired(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    checking, savings = accounts(user, "checking", "savings")
    post(user, ["2025-03-01,SENT 250,-250.00", "2025-03-02,GROCER,-40.00"], checking)
    post(user, ["2025-03-03,RECEIVED 250,250.00", "2025-03-03,FEE X,-40.00"], savings)

    stored = _stored(database, user)
    assert stored["SENT 250"] == (checking, "250.00", "Transfer")
    assert stored["RECEIVED 250"] == (savings, "-250.00", "Transfer")
    # The same amount out of both accounts: no pair.
    assert stored["GROCER"][2] == "Uncategorized"
    answer = client.get("/transfers", headers=auth_headers(user)).json()
    assert len(answer) == 1
    assert answer[0]["out"]["account_id"] == checking
    assert answer[0]["in"]["account_id"] == savings
    assert answer[0]["out"]["kind"] == answer[0]["in"]["kind"] == "transfer"
    assert (answer[0]["out"]["amount"], answer[0]["in"]["amount"]) == (250.0, -250.0)


def test_paying_the_card_is_a_credit_card_payment(post, accounts, make_user, database):
    user = make_user()
    checking, card = accounts(user, "checking", "credit_card")
    post(user, ["2025-03-10,CARD PAYMENT,-500.00"], checking)
    post(user, ["2025-03-12,THANK YOU,500.00", "2025-03-12,SHOP,-500.00"], card)

    stored = _stored(database, user)
    assert stored["CARD PAYMENT"][2] == stored["THANK YOU"][2] == "Credit card payment"
    assert stored["SHOP"][2] == "Uncategorized"


def test_pairs_are_one_to_one_nearest_dates_first(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    a, b = accounts(user, "checking", "savings")
    post(user, ["2025-04-01,OUT A,-50.00", "2025-04-04,OUT B,-50.00"], a)
    post(
        user,
        ["2025-04-02,IN 2,50.00", "2025-04-04,IN 4,50.00", "2025-04-05,IN 5,50.00"],
        b,
    )

    # OUT B and IN 4 are nearest (same day), then OUT A takes IN 2; IN 5 stays alone.
    assert sorted(_pairs(client, auth_headers, user)) == [("OUT A", "IN 2"), ("OUT B", "IN 4")]
    assert _stored(database, user)["IN 5"][2] == "Uncategorized income"


def test_no_pair_beyond_four_days_within_one_account_or_with_a_user_choice(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    a, b = accounts(user, "checking", "savings")
    post(user, ["2025-05-01,FAR,-70.00", "2025-05-01,SAME,-80.00", "2025-05-10,MINE,-90.00"], a)
    with database.session() as session:
        session.execute(
            update(Transaction)
            .where(Transaction.description == "MINE")
            .values(category="Gifts", category_source="user")
        )
        session.commit()
    post(user, ["2025-05-01,SAME IN,80.00"], a)
    post(user, ["2025-05-06,FAR IN,70.00", "2025-05-10,MINE IN,90.00"], b)

    assert _pairs(client, auth_headers, user) == []
    assert _stored(database, user)["MINE"][2] == "Gifts"


def test_unlinking_restores_both_categories(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    a, b = accounts(user, "checking", "savings")
    post(user, ["2025-06-01,OUT,-20.00"], a)
    post(user, ["2025-06-01,IN,20.00"], b)
    pair_id = client.get("/transfers", headers=auth_headers(user)).json()[0]["id"]

    response = client.delete(f"/transfers/{pair_id}", headers=auth_headers(user))

    assert response.status_code == 204
    stored = _stored(database, user)
    assert (stored["OUT"][2], stored["IN"][2]) == ("Uncategorized", "Uncategorized income")
    assert _pairs(client, auth_headers, user) == []
    again = client.delete(f"/transfers/{pair_id}", headers=auth_headers(user))
    assert again.status_code == 404
    assert again.json() == {"detail": errors.TRANSFER_NOT_FOUND}


def test_deleting_an_import_unlinks_its_pairs(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    a, b = accounts(user, "checking", "savings")
    post(user, ["2025-07-01,OUT,-30.00"], a)
    second = post(user, ["2025-07-02,IN,30.00"], b)["import_id"]

    assert client.delete(f"/imports/{second}", headers=auth_headers(user)).status_code == 204

    assert _stored(database, user) == {"OUT": (a, "30.00", "Uncategorized")}
    assert _pairs(client, auth_headers, user) == []


def test_another_users_transfers_are_neither_listed_nor_unlinked(
    post, accounts, client, auth_headers, make_user
):
    owner, other = make_user(), make_user()
    a, b = accounts(owner, "checking", "savings")
    post(owner, ["2025-08-01,OUT,-10.00"], a)
    post(owner, ["2025-08-01,IN,10.00"], b)
    pair_id = client.get("/transfers", headers=auth_headers(owner)).json()[0]["id"]

    assert client.get("/transfers", headers=auth_headers(other)).json() == []
    assert client.delete(f"/transfers/{pair_id}", headers=auth_headers(other)).status_code == 404
    assert len(_pairs(client, auth_headers, owner)) == 1


# A pair under edits: it holds while it still is one (a transfer on both sides, the same
# amount the other way within 4 days); what breaks it unlinks it.


@pytest.fixture
def paired(post, accounts, client, auth_headers, make_user):
    """A user with OUT (checking, 75.00 out) paired with IN (savings, 75.00 in):
    (user, headers, {description: id})."""
    user = make_user()
    checking, savings = accounts(user, "checking", "savings")
    post(user, ["2025-09-01,OUT,-75.00", "2025-09-01,COFFEE,-3.00"], checking)
    post(user, ["2025-09-02,IN,75.00"], savings)
    headers = auth_headers(user)
    [pair] = client.get("/transfers", headers=headers).json()
    ids = {"OUT": pair["out"]["id"], "IN": pair["in"]["id"]}
    listed = client.get("/transactions", headers=headers).json()
    ids.update({row["description"]: row["id"] for row in listed})
    return user, headers, ids


def _categories(database, user) -> dict[str, tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(
                Transaction.description, Transaction.category, Transaction.category_source
            ).where(Transaction.user_id == user.id)
        ).all()
    return {text: (category, source) for text, category, source in rows}


def test_recategorizing_one_side_as_spending_unlinks_and_restores_the_other(
    paired, client, auth_headers, database
):
    user, headers, ids = paired

    answer = client.patch(
        f"/transactions/{ids['OUT']}", headers=headers, json={"category": "Shopping"}
    )

    assert answer.status_code == 200, answer.text
    assert _pairs(client, auth_headers, user) == []
    stored = _categories(database, user)
    assert stored["OUT"] == ("Shopping", "user")
    assert stored["IN"] == ("Uncategorized income", "default")
    # Out of the pair, a transfer no more: the money in counts as income again.
    metrics = client.get("/metrics", headers=headers).json()
    assert metrics["total_income"] == 75.0


@pytest.mark.parametrize(
    "change",
    [{"category": "Savings"}, {"notes": "to the rainy-day pot"}, {"description": "Pot"}],
)
def test_edits_that_keep_it_a_transfer_keep_the_pair(
    paired, client, auth_headers, database, change
):
    user, headers, ids = paired

    answer = client.patch(f"/transactions/{ids['IN']}", headers=headers, json=change)

    assert answer.status_code == 200, answer.text
    assert len(_pairs(client, auth_headers, user)) == 1
    assert _categories(database, user)["OUT"] == ("Transfer", "default")


def test_deleting_one_side_unlinks_and_restores_the_other(paired, client, auth_headers, database):
    user, headers, ids = paired

    assert client.delete(f"/transactions/{ids['IN']}", headers=headers).status_code == 204

    assert _pairs(client, auth_headers, user) == []
    assert _categories(database, user) == {
        "OUT": ("Uncategorized", "default"),
        "COFFEE": ("Uncategorized", "default"),
    }


def test_bulk_recategorizing_unlinks_only_what_stops_being_a_transfer(
    paired, client, auth_headers, database
):
    user, headers, ids = paired

    kept = client.patch(
        "/transactions",
        headers=headers,
        json={"filters": {"kind": ["transfer"]}, "change": {"category": "Savings"}},
    )
    assert kept.json()["updated"] == 2
    assert len(_pairs(client, auth_headers, user)) == 1
    notes = client.patch(
        "/transactions", headers=headers, json={"ids": [ids["OUT"]], "change": {"notes": "n"}}
    )
    assert notes.status_code == 200 and len(_pairs(client, auth_headers, user)) == 1

    broken = client.patch(
        "/transactions",
        headers=headers,
        json={"ids": [ids["IN"], ids["COFFEE"]], "change": {"category": "Other income"}},
    )

    assert broken.json()["updated"] == 2
    assert _pairs(client, auth_headers, user) == []
    # Both sides were set by the user (the bulk change): each keeps its choice.
    stored = _categories(database, user)
    assert stored["OUT"] == ("Savings", "user") and stored["IN"] == ("Other income", "user")


def test_a_manual_side_that_no_longer_matches_unlinks_the_pair(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    cash, checking = accounts(user, "cash", "checking")
    headers = auth_headers(user)
    manual = client.post(
        "/transactions",
        headers=headers,
        json={"account_id": cash, "timestamp": "2025-10-01T10:00:00", "amount": "-40.00"},
    ).json()["id"]
    post(user, ["2025-10-02,TO CASH,-40.00"], checking)
    assert _pairs(client, auth_headers, user) == [("TO CASH", None)]

    # Three days later, still within the four: still the pair.
    moved = client.patch(
        f"/transactions/{manual}", headers=headers, json={"timestamp": "2025-10-05T09:00:00"}
    )
    assert moved.status_code == 200 and len(_pairs(client, auth_headers, user)) == 1

    answer = client.patch(f"/transactions/{manual}", headers=headers, json={"amount": "-41.00"})

    assert answer.status_code == 200, answer.text
    assert _pairs(client, auth_headers, user) == []
    stored = _categories(database, user)
    assert stored == {
        "TO CASH": ("Uncategorized", "default"),
        None: ("Uncategorized income", "default"),
    }

    # Paired again (a new import of another amount would not): a date too far unlinks it.
    client.patch(f"/transactions/{manual}", headers=headers, json={"amount": "-40.00"})
    with database.session() as session:
        assert pair_transfers(session, user_id=user.id, account_id=checking, new_rows=1) == 1
        session.commit()
    far = client.patch(
        f"/transactions/{manual}", headers=headers, json={"timestamp": "2025-10-09T10:00:00"}
    )
    assert far.status_code == 200 and _pairs(client, auth_headers, user) == []


def test_a_side_whose_category_before_pairing_is_gone_becomes_uncategorized(
    paired, client, auth_headers, database
):
    user, headers, ids = paired
    with database.session() as session:
        session.execute(
            text("UPDATE transfer_pairs SET in_previous_category = 'Gone' WHERE user_id = :u"),
            {"u": user.id},
        )
        session.commit()

    client.patch(f"/transactions/{ids['OUT']}", headers=headers, json={"category": "Groceries"})

    assert _categories(database, user)["IN"] == ("Uncategorized income", "default")


def test_a_side_in_a_transfer_category_of_its_own_keeps_it_when_paired(
    client, accounts, auth_headers, make_user, database
):
    user = make_user()
    checking, savings = accounts(user, "checking", "savings")
    for account, line in (
        (checking, "2025-11-01,TO POT,-90.00,Savings"),
        (savings, "2025-11-01,FROM CHECKING,90.00,"),
    ):
        response = client.post(
            "/transactions/import",
            headers=auth_headers(user),
            files={
                "file": (
                    "b.csv",
                    f"Date,Description,Amount,Category\n{line}\n".encode(),
                    "text/csv",
                )
            },
            data={"account_id": str(account)},
            params={"amount_sign": "spend_negative"},
        )
        assert response.status_code == 200, response.text

    assert _pairs(client, auth_headers, user) == [("TO POT", "FROM CHECKING")]
    stored = _categories(database, user)
    assert stored["TO POT"][0] == "Savings" and stored["FROM CHECKING"][0] == "Transfer"


def test_deleting_an_account_with_its_transactions_unlinks_their_pairs(
    post, accounts, client, auth_headers, make_user, database
):
    user = make_user()
    checking, savings = accounts(user, "checking", "savings")
    post(user, ["2025-12-01,OUT,-60.00"], checking)
    post(user, ["2025-12-01,IN,60.00"], savings)
    assert len(_pairs(client, auth_headers, user)) == 1

    gone = client.delete(
        f"/accounts/{savings}", headers=auth_headers(user), params={"with_transactions": "true"}
    )

    assert gone.status_code == 204, gone.text
    assert _pairs(client, auth_headers, user) == []
    assert _stored(database, user) == {"OUT": (checking, "60.00", "Uncategorized")}


def _rule(client, headers, description: str, category: str) -> int:
    """A saved rule: description equals `description` -> `category`; its id."""
    created = client.post(
        "/rules",
        headers=headers,
        json={
            "name": f"{description} -> {category}",
            "conditions": [
                {"type": "text", "field": "description", "operator": "equals", "value": description}
            ],
            "actions": {"set_category": category},
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_rule_run_that_moves_a_side_to_spending_unlinks_and_restores_the_other(
    paired, client, auth_headers, database
):
    user, headers, _ = paired
    _rule(client, headers, "OUT", "Groceries")

    answer = client.post("/rules/apply", headers=headers)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"updated": 1}
    assert _pairs(client, auth_headers, user) == []
    stored = _categories(database, user)
    assert stored["OUT"] == ("Groceries", "rule")  # the rule's category stays
    assert stored["IN"] == ("Uncategorized income", "default")
    metrics = client.get("/metrics", headers=headers).json()
    assert (metrics["total_spend"], metrics["total_income"]) == (78.0, 75.0)


def test_a_rule_run_that_keeps_both_sides_transfers_keeps_the_pair(
    paired, client, auth_headers, database
):
    user, headers, _ = paired
    rule_id = _rule(client, headers, "IN", "Savings")
    _rule(client, headers, "COFFEE", "Groceries")

    answer = client.post("/rules/apply", headers=headers, json={"rule_ids": [rule_id]})

    assert answer.json() == {"updated": 1}
    assert _pairs(client, auth_headers, user) == [("OUT", "IN")]
    stored = _categories(database, user)
    assert stored["IN"] == ("Savings", "rule") and stored["OUT"] == ("Transfer", "default")
    assert stored["COFFEE"] == ("Uncategorized", "default")  # not a listed rule


def _category_id(client, headers, name: str) -> int:
    return {c["name"]: c["id"] for c in client.get("/categories", headers=headers).json()}[name]


@pytest.fixture
def own_transfer_category(post, accounts, client, auth_headers, make_user):
    """A user with TO POT (checking, Savings, the bank's) paired with FROM CHECKING
    (savings, moved to Transfer by the pairing): (user, headers)."""
    user = make_user()
    checking, savings = accounts(user, "checking", "savings")
    headers = auth_headers(user)
    for account, line in (
        (checking, "2025-11-01,TO POT,-90.00,Savings"),
        (savings, "2025-11-01,FROM CHECKING,90.00,"),
    ):
        content = f"Date,Description,Amount,Category\n{line}\n".encode()
        response = client.post(
            "/transactions/import",
            headers=headers,
            files={"file": ("b.csv", content, "text/csv")},
            data={"account_id": str(account)},
            params={"amount_sign": "spend_negative"},
        )
        assert response.status_code == 200, response.text
    assert _pairs(client, auth_headers, user) == [("TO POT", "FROM CHECKING")]
    return user, headers


def test_a_transfer_category_made_spending_unlinks_its_pairs(
    own_transfer_category, client, auth_headers, database
):
    user, headers = own_transfer_category

    answer = client.patch(
        f"/categories/{_category_id(client, headers, 'Savings')}",
        headers=headers,
        json={"kind": "spending"},
    )

    assert answer.status_code == 200, answer.text
    assert _pairs(client, auth_headers, user) == []
    stored = _categories(database, user)
    assert stored["TO POT"] == ("Savings", "bank")  # in the changed category: stays
    assert stored["FROM CHECKING"] == ("Uncategorized income", "default")
    metrics = client.get("/metrics", headers=headers).json()
    assert (metrics["total_spend"], metrics["total_income"]) == (90.0, 90.0)


def test_a_category_change_that_keeps_it_a_transfer_keeps_the_pair(
    own_transfer_category, client, auth_headers
):
    user, headers = own_transfer_category
    savings = _category_id(client, headers, "Savings")

    for change in ({"kind": "transfer"}, {"name": "Pot", "colour": "#112233"}):
        answer = client.patch(f"/categories/{savings}", headers=headers, json=change)
        assert answer.status_code == 200, answer.text

    assert _pairs(client, auth_headers, user) == [("TO POT", "FROM CHECKING")]


@pytest.mark.parametrize("how", ["merge", "delete"])
def test_a_transfer_category_merged_into_spending_unlinks_its_pairs(
    how, paired, client, auth_headers, make_user, database, post, accounts
):
    user, headers, _ = paired
    # Another user's pair in their own "Transfer" category is left alone.
    other = make_user()
    checking, savings = accounts(other, "checking", "savings")
    post(other, ["2025-09-01,OUT,-75.00"], checking)
    post(other, ["2025-09-01,IN,75.00"], savings)
    transfer, groceries = (_category_id(client, headers, n) for n in ("Transfer", "Groceries"))

    if how == "merge":
        answer = client.post(
            f"/categories/{transfer}/merge", headers=headers, json={"into": groceries}
        )
        assert answer.status_code == 200, answer.text
    else:
        answer = client.delete(
            f"/categories/{transfer}", headers=headers, params={"move_to": groceries}
        )
        assert answer.status_code == 204, answer.text

    assert _pairs(client, auth_headers, user) == []
    # Both sides were in the merged category: both are in its target now.
    stored = _categories(database, user)
    assert stored["OUT"] == ("Groceries", "default")
    assert stored["IN"] == ("Groceries", "default")
    assert _pairs(client, auth_headers, other) == [("OUT", "IN")]
    assert _categories(database, other)["IN"] == ("Transfer", "default")


def test_a_transfer_category_merged_into_another_transfer_keeps_the_pair(
    own_transfer_category, client, auth_headers, database
):
    user, headers = own_transfer_category
    savings, transfer = (_category_id(client, headers, n) for n in ("Savings", "Transfer"))

    answer = client.post(f"/categories/{savings}/merge", headers=headers, json={"into": transfer})

    assert answer.status_code == 200, answer.text
    assert _pairs(client, auth_headers, user) == [("TO POT", "FROM CHECKING")]
    assert _categories(database, user)["TO POT"] == ("Transfer", "bank")
