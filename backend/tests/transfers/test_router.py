"""Transfer pairing after each import, GET /transfers and DELETE /transfers/{id}."""

import pytest
from sqlalchemy import select, update

from spending_api import errors
from spending_api.models import Account, Transaction

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
