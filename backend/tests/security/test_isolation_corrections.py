"""The corrections (POST /transactions, PATCH /transactions/{id}, bulk PATCH /transactions)
never reach another user's rows or accounts, and their answers do not tell whether one exists."""

from sqlalchemy import event, select

from spending_api import errors
from spending_api.models import Account, DailyCategorySpend, Transaction


def _rows_of(database, user_id: int) -> list[tuple]:
    with database.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    Transaction.id,
                    Transaction.amount,
                    Transaction.category,
                    Transaction.category_source,
                    Transaction.description,
                    Transaction.notes,
                    Transaction.timestamp,
                )
                .where(Transaction.user_id == user_id)
                .order_by(Transaction.id)
            )
        ]


def _rollup_of(database, user_id: int) -> list[tuple]:
    with database.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    DailyCategorySpend.day, DailyCategorySpend.category, DailyCategorySpend.total
                )
                .where(DailyCategorySpend.user_id == user_id)
                .order_by(DailyCategorySpend.day, DailyCategorySpend.category)
            )
        ]


def _answer_and_statements(database, send) -> tuple:
    """The response as the caller sees it, and the SQL the server ran to produce it."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        response = send()
    finally:
        event.remove(database.engine, "before_cursor_execute", before)
    shown = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    return response.status_code, response.json(), shown, statements


def _unused_id(database) -> int:
    with database.session() as session:
        return (session.scalar(select(Transaction.id).order_by(Transaction.id.desc())) or 0) + 1000


def test_patch_of_another_users_row_is_a_plain_404(client, alice_and_bob, auth_headers, database):
    alice, bob = alice_and_bob
    alices = _rows_of(database, alice.id)
    answers = {
        label: _answer_and_statements(
            database,
            lambda transaction_id=transaction_id: client.patch(
                f"/transactions/{transaction_id}",
                json={"category": "Food", "notes": "mine"},
                headers=auth_headers(bob),
            ),
        )
        for label, transaction_id in (("alice's", alices[0][0]), ("unused", _unused_id(database)))
    }
    assert answers["alice's"] == answers["unused"]
    assert answers["unused"][:2] == (404, {"detail": errors.TRANSACTION_NOT_FOUND})
    assert _rows_of(database, alice.id) == alices


def test_manual_transaction_in_another_users_account_is_a_plain_404(
    client, alice_and_bob, auth_headers, database
):
    alice, bob = alice_and_bob
    with database.session() as session:
        alices_account = session.scalar(select(Account.id).where(Account.user_id == alice.id))
        unused = session.scalar(select(Account.id).order_by(Account.id.desc())) + 1000
    alices, alices_rollup = _rows_of(database, alice.id), _rollup_of(database, alice.id)
    body = {"timestamp": "2024-01-06T10:00:00", "amount": "5.00", "category": "Food"}
    answers = {
        label: _answer_and_statements(
            database,
            lambda account_id=account_id: client.post(
                "/transactions", json={**body, "account_id": account_id}, headers=auth_headers(bob)
            ),
        )
        for label, account_id in (("alice's", alices_account), ("unused", unused))
    }
    assert answers["alice's"] == answers["unused"]
    assert answers["unused"][:2] == (404, {"detail": errors.ACCOUNT_NOT_FOUND})
    assert (_rows_of(database, alice.id), _rollup_of(database, alice.id)) == (
        alices,
        alices_rollup,
    )
    # A category only Alice has is unknown to Bob.
    secret = client.post(
        "/transactions", json={**body, "category": "Secret"}, headers=auth_headers(bob)
    )
    assert (secret.status_code, secret.json()) == (422, {"detail": errors.UNKNOWN_CATEGORY})


def test_bulk_change_touches_only_the_callers_rows(client, alice_and_bob, auth_headers, database):
    alice, bob = alice_and_bob
    alices, alices_rollup = _rows_of(database, alice.id), _rollup_of(database, alice.id)
    bobs = [row[0] for row in _rows_of(database, bob.id)]
    by_ids = client.patch(
        "/transactions",
        json={"ids": [row[0] for row in alices] + bobs, "change": {"category": "Food"}},
        headers=auth_headers(bob),
    )
    assert by_ids.json() == {"matched": 2, "total": "42.50", "updated": 2}
    # Filters that match Alice's rows (her category, her text) select none of them for Bob.
    for filters in ({}, {"category": ["Rent", "Secret"]}, {"q": "alice"}, {"min_amount": -1000}):
        dry = client.patch(
            "/transactions",
            json={"filters": filters, "change": {"notes": "x"}, "dry_run": True},
            headers=auth_headers(bob),
        ).json()
        real = client.patch(
            "/transactions",
            json={"filters": filters, "change": {"notes": "x"}},
            headers=auth_headers(bob),
        ).json()
        assert dry["matched"] == real["matched"] == real["updated"] <= 2, filters
    assert (_rows_of(database, alice.id), _rollup_of(database, alice.id)) == (
        alices,
        alices_rollup,
    )
