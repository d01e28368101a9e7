"""Pairing under concurrency: two imports into two accounts of one user, each in its own
transaction, still pair their rows (the user's ledger lock orders them)."""

from sqlalchemy import select

from spending_api.categories.repository import create_default_categories
from spending_api.models import Account, TransferPair
from testkit import ledger_lock

HEADER = "Date,Description,Amount\n"


def _accounts(database, user) -> tuple[int, int]:
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        made = [Account(user_id=user.id, name=kind, kind=kind) for kind in ("checking", "savings")]
        session.add_all(made)
        session.commit()
        return made[0].id, made[1].id


def test_concurrent_imports_into_two_accounts_pair_their_rows(database, make_user):
    user = make_user()
    checking, savings = _accounts(database, user)

    with database.session() as first:
        ledger_lock.open_import(
            first, user_id=user.id, account_id=checking, csv=HEADER + "2025-03-01,SENT,-250.00\n"
        )
        second = ledger_lock.InThread(
            database,
            lambda session: ledger_lock.open_import(
                session,
                user_id=user.id,
                account_id=savings,
                csv=HEADER + "2025-03-02,RECEIVED,250.00\n",
            ),
        )
        # The second import waits for the first (which has not committed its row yet)...
        ledger_lock.wait_until_blocked(database, user_id=user.id)
        first.commit()
    # ...and, once it is committed, sees it and pairs it with its own.
    second.join()
    assert second.error is None, second.error

    with database.session() as session:
        pairs = session.scalars(select(TransferPair).where(TransferPair.user_id == user.id)).all()
    assert len(pairs) == 1


def test_another_users_import_does_not_wait(database, make_user):
    owner, other = make_user(), make_user()
    _accounts(database, owner)
    _, other_savings = _accounts(database, other)

    with database.session() as first:
        ledger_lock.open_import(
            first,
            user_id=owner.id,
            account_id=_owner_first_account(database, owner),
            csv=HEADER + "2025-03-01,SENT,-10.00\n",
        )
        second = ledger_lock.InThread(
            database,
            lambda session: ledger_lock.open_import(
                session,
                user_id=other.id,
                account_id=other_savings,
                csv=HEADER + "2025-03-01,IN,10.00\n",
            ),
        )
        second.join()  # while the owner's import is still open
        first.rollback()
    assert second.error is None, second.error


def _owner_first_account(database, user) -> int:
    with database.session() as session:
        return session.scalar(
            select(Account.id).where(Account.user_id == user.id).order_by(Account.id)
        )
