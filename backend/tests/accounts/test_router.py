"""GET/POST/PATCH/DELETE /accounts: validation, conflicts, deletes that keep every
figure exact, and one user's accounts out of another's reach."""

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from spending_api import errors
from spending_api.models import Account, Transaction
from spending_api.transactions.repository import NewTransaction, insert_transactions

FIELDS = {"id", "name", "kind", "currency", "institution"}


@pytest.fixture
def alice(new_user):
    return new_user("alice")


@pytest.fixture
def headers(alice, auth_headers):
    return auth_headers(alice)


def create(client, headers, **body):
    return client.post("/accounts", json=body, headers=headers)


def add_rows(database, user, account_id: int, rows: list[tuple[str, str, str]]) -> None:
    """rows: (timestamp, amount, category) stored in the account through the import path."""
    new = [
        NewTransaction(datetime.fromisoformat(ts), Decimal(amount), category, "row", line)
        for line, (ts, amount, category) in enumerate(rows, start=1)
    ]
    with database.session() as session:
        insert_transactions(session, user_id=user.id, rows=new, account_id=account_id)
        session.commit()


def stored_accounts(database, user) -> list[tuple]:
    with database.session() as session:
        statement = select(Account.name, Account.kind, Account.currency, Account.institution)
        statement = statement.where(Account.user_id == user.id).order_by(Account.id)
        return [tuple(row) for row in session.execute(statement)]


def test_a_new_user_has_the_default_account(client, headers):
    response = client.get("/accounts", headers=headers)
    assert response.status_code == 200
    [account] = response.json()
    assert set(account) == FIELDS
    assert account["name"] == "Main account" and account["kind"] == "checking"
    assert account["currency"] == "USD" and account["institution"] is None


def test_create_then_list_oldest_first(client, headers):
    response = create(
        client,
        headers,
        name="  Visa card ",
        kind="credit_card",
        currency="EUR",
        institution="Big Bank",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Visa card",
        "kind": "credit_card",
        "currency": "EUR",
        "institution": "Big Bank",
    }
    assert create(client, headers, name="Wallet").json()["kind"] == "checking"
    listed = client.get("/accounts", headers=headers).json()
    assert [a["name"] for a in listed] == ["Main account", "Visa card", "Wallet"]
    assert listed[1] == created


def test_names_are_unique_per_user_after_trimming(client, headers, alice, database):
    assert create(client, headers, name="Savings").status_code == 201
    for name in ("Savings", " Savings  ", "Main account"):
        response = create(client, headers, name=name, kind="savings")
        assert response.status_code == 409
        assert response.json() == {"detail": errors.ACCOUNT_NAME_TAKEN}
    assert [a[0] for a in stored_accounts(database, alice)] == ["Main account", "Savings"]
    # Names compare exactly: another spelling is another account.
    assert create(client, headers, name="savings").status_code == 201


@pytest.mark.parametrize(
    "body, named",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "A", "kind": "brokerage"}, "kind"),
        ({"name": "A", "currency": "usd"}, "currency"),
        ({"name": "A", "currency": "EURO"}, "currency"),
        ({"name": "A", "currency": "EU"}, "currency"),
        ({"name": "A", "institution": ""}, "institution"),
        ({"name": "A", "user_id": 1}, "user_id"),
        ({}, "name"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client, headers, alice, database, body, named):
    response = create(client, headers, **body)
    assert response.status_code == 422
    assert named in response.text
    assert len(stored_accounts(database, alice)) == 1


def test_patch_changes_only_what_is_sent(client, headers, alice, database):
    account = create(client, headers, name="Cash", kind="cash", institution="Home").json()
    url = f"/accounts/{account['id']}"
    response = client.patch(url, json={"currency": "GBP"}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {**account, "currency": "GBP"}
    response = client.patch(url, json={"name": " Pocket ", "institution": None}, headers=headers)
    assert response.json() == {**account, "currency": "GBP", "name": "Pocket", "institution": None}
    assert client.patch(url, json={}, headers=headers).json()["name"] == "Pocket"
    # Its own name again is no clash.
    assert client.patch(url, json={"name": "Pocket"}, headers=headers).status_code == 200
    assert stored_accounts(database, alice)[1] == ("Pocket", "cash", "GBP", None)


def test_patch_conflicts_and_bad_values(client, headers, alice, database):
    account = create(client, headers, name="Cash", kind="cash").json()
    url = f"/accounts/{account['id']}"
    clash = client.patch(url, json={"name": "Main account"}, headers=headers)
    assert clash.status_code == 409 and clash.json() == {"detail": errors.ACCOUNT_NAME_TAKEN}
    for body in ({"kind": "stocks"}, {"currency": "$$$"}, {"name": None}, {"name": " "}):
        assert client.patch(url, json=body, headers=headers).status_code == 422, body
    assert stored_accounts(database, alice)[1] == ("Cash", "cash", "USD", None)
    # The request after a refused one works: the clash did not poison anything.
    assert client.patch(url, json={"kind": "wallet"}, headers=headers).json()["kind"] == "wallet"


def test_delete_an_empty_account(client, headers, alice, database):
    account = create(client, headers, name="Unused").json()
    response = client.delete(f"/accounts/{account['id']}", headers=headers)
    assert response.status_code == 204
    assert [a[0] for a in stored_accounts(database, alice)] == ["Main account"]
    again = client.delete(f"/accounts/{account['id']}", headers=headers)
    assert again.status_code == 404 and again.json() == {"detail": errors.ACCOUNT_NOT_FOUND}


def test_the_last_account_stays(client, headers, alice, database):
    [main] = client.get("/accounts", headers=headers).json()
    for params in ({}, {"with_transactions": "true"}):
        response = client.delete(f"/accounts/{main['id']}", params=params, headers=headers)
        assert response.status_code == 409
        assert response.json() == {"detail": errors.LAST_ACCOUNT}
    assert len(stored_accounts(database, alice)) == 1


def test_delete_with_transactions_needs_the_flag_and_keeps_figures_exact(
    client, headers, alice, database, assert_rollup_exact
):
    main_id = client.get("/accounts", headers=headers).json()[0]["id"]
    card_id = create(client, headers, name="Card", kind="credit_card").json()["id"]
    main_rows = [("2024-01-05T10:00", "40.00", "Groceries"), ("2024-01-06T10:00", "2.50", "Fees")]
    card_rows = [
        ("2024-01-05T12:00", "19.99", "Groceries"),
        ("2024-02-01T09:00", "100.00", "Shopping"),
        ("2024-02-03T09:00", "-10.00", "Shopping"),
    ]
    add_rows(database, alice, main_id, main_rows)
    add_rows(database, alice, card_id, card_rows)
    before = client.get("/metrics", headers=headers).json()
    assert before["transaction_count"] == 5

    refused = client.delete(f"/accounts/{card_id}", headers=headers)
    assert refused.status_code == 409
    assert refused.json() == {"detail": errors.ACCOUNT_HAS_TRANSACTIONS}
    assert client.get("/metrics", headers=headers).json() == before

    response = client.delete(
        f"/accounts/{card_id}", params={"with_transactions": "true"}, headers=headers
    )
    assert response.status_code == 204
    assert_rollup_exact("after deleting an account with its transactions")
    with database.session() as session:
        left = session.scalars(
            select(Transaction.account_id).where(Transaction.user_id == alice.id)
        )
        assert set(left) == {main_id}
    after = client.get("/metrics", headers=headers).json()
    # An independent sum of what is left: the main account's rows, all spending.
    assert Decimal(str(after["total_spend"])) == sum(Decimal(a) for _, a, _ in main_rows)
    assert after["transaction_count"] == len(main_rows)
    assert {c["category"]: c["count"] for c in after["top_categories"]} == {
        "Groceries": 1,
        "Fees": 1,
    }
    assert [a["id"] for a in client.get("/accounts", headers=headers).json()] == [main_id]


def test_another_users_account_is_a_plain_404(
    client, alice, headers, new_user, auth_headers, database
):
    """Bob cannot see, change or delete Alice's account, and cannot tell it exists: the
    answers equal those for an id never used."""
    bob = new_user("bob")
    alices = create(client, headers, name="Alice savings", kind="savings").json()
    never_used = alices["id"] + 1000
    bob_headers = auth_headers(bob)
    assert [a["name"] for a in client.get("/accounts", headers=bob_headers).json()] == [
        "Main account"
    ]
    for account_id in (alices["id"], never_used):
        for method, kwargs in (
            ("PATCH", {"json": {"name": "Mine now"}}),
            ("DELETE", {"params": {"with_transactions": "true"}}),
        ):
            response = client.request(
                method, f"/accounts/{account_id}", headers=bob_headers, **kwargs
            )
            assert response.status_code == 404, (method, account_id)
            assert response.json() == {"detail": errors.ACCOUNT_NOT_FOUND}
    assert stored_accounts(database, alice)[1] == ("Alice savings", "savings", "USD", None)
    # The same name is free for Bob: uniqueness is per user.
    assert create(client, bob_headers, name="Alice savings").status_code == 201


@pytest.mark.parametrize("account_id", ["0", "-1", "2147483648", "abc"])
def test_bad_ids_are_422(client, headers, account_id):
    assert client.delete(f"/accounts/{account_id}", headers=headers).status_code == 422
    assert client.patch(f"/accounts/{account_id}", json={}, headers=headers).status_code == 422


def test_every_route_needs_a_token(client):
    for method, path in (
        ("GET", "/accounts"),
        ("POST", "/accounts"),
        ("PATCH", "/accounts/1"),
        ("DELETE", "/accounts/1"),
    ):
        assert client.request(method, path, json={"name": "x"}).status_code == 401
