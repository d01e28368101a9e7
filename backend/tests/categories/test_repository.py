"""Categories against an import under way: a delete or merge waits for the import's
commit (the user's ledger lock), so no row is left naming a category that is gone."""

import pytest
from sqlalchemy import func, select, text

from spending_api import errors
from spending_api.categories.repository import (
    CategoryConflict,
    create_category,
    create_default_categories,
    delete_category,
    merge_category,
    update_category,
)
from spending_api.models import Account, Category, TransferPair
from testkit import ledger_lock

GIFTS_FILE = "Date,Description,Amount,Category\n2025-03-01,FLOWERS,-25.00,Gifts\n"
_ORPHANS = (
    "SELECT count(*) FROM transactions AS t WHERE t.user_id = :user_id AND NOT EXISTS ("
    " SELECT 1 FROM categories AS c WHERE c.user_id = t.user_id AND c.name = t.category)"
)


@pytest.fixture
def gifts(database, make_user):
    """A user with an unused category "Gifts": (user, its id, the user's first account)."""
    user = make_user()
    with database.session() as session:
        gifts_id = create_category(
            session, user_id=user.id, name="Gifts", kind="spending", colour=None, parent_id=None
        )
        create_category(
            session, user_id=user.id, name="Presents", kind="spending", colour=None, parent_id=None
        )
        session.commit()
        account_id = session.scalar(
            text("SELECT id FROM accounts WHERE user_id = :u"), {"u": user.id}
        )
    return user, gifts_id, account_id


def _while_importing(database, user, account_id, work):
    """Run `work(session)` in a thread while an import of GIFTS_FILE is open; the thread's
    outcome once the import has committed."""
    return ledger_lock.while_importing(
        database, user_id=user.id, account_id=account_id, csv=GIFTS_FILE, work=work
    )


def test_a_delete_during_an_import_sees_the_imported_rows(database, gifts):
    user, gifts_id, account_id = gifts

    deleting = _while_importing(
        database,
        user,
        account_id,
        lambda session: delete_category(session, user_id=user.id, category_id=gifts_id),
    )

    assert isinstance(deleting.error, CategoryConflict)
    assert deleting.error.detail == errors.CATEGORY_IN_USE
    with database.session() as session:
        assert session.scalar(text(_ORPHANS), {"user_id": user.id}) == 0
        assert session.get(Category, gifts_id) is not None


def test_a_merge_during_an_import_moves_the_imported_rows_too(database, gifts):
    user, gifts_id, account_id = gifts
    with database.session() as session:
        presents_id = session.scalar(select(Category.id).where(Category.name == "Presents"))

    merging = _while_importing(
        database,
        user,
        account_id,
        lambda session: merge_category(
            session, user_id=user.id, category_id=gifts_id, into_id=presents_id
        ),
    )

    assert merging.error is None, merging.error
    with database.session() as session:
        assert session.scalar(text(_ORPHANS), {"user_id": user.id}) == 0
        categories = session.scalars(
            text("SELECT category FROM transactions WHERE user_id = :u"), {"u": user.id}
        ).all()
    assert categories == ["Presents"]


def test_a_kind_change_during_an_import_unlinks_the_pairs_it_made(database, make_user):
    user = make_user()
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        checking, savings = (
            Account(user_id=user.id, name=kind, kind=kind) for kind in ("checking", "savings")
        )
        session.add_all([checking, savings])
        session.commit()
        checking_id, savings_id = checking.id, savings.id
        transfer_id = session.scalar(
            select(Category.id).where(Category.user_id == user.id, Category.name == "Transfer")
        )
    header = "Date,Description,Amount\n"
    with database.session() as session:
        ledger_lock.open_import(
            session,
            user_id=user.id,
            account_id=checking_id,
            csv=header + "2025-03-01,SENT,-80.00\n",
        )
        session.commit()

    def make_spending(session):
        update_category(
            session, user_id=user.id, category_id=transfer_id, changes={"kind": "spending"}
        )

    # The import pairs its row with SENT (both into Transfer) before it commits.
    with database.session() as importing:
        ledger_lock.open_import(
            importing, user_id=user.id, account_id=savings_id, csv=header + "2025-03-01,GOT,80.00\n"
        )
        other = ledger_lock.InThread(database, make_spending)
        ledger_lock.wait_until_blocked(database, user_id=user.id)
        importing.commit()
    other.join()

    assert other.error is None, other.error
    with database.session() as session:
        pairs = select(func.count()).where(TransferPair.user_id == user.id)
        assert session.scalar(pairs) == 0
        categories = session.execute(
            text("SELECT description, category FROM transactions WHERE user_id = :u"),
            {"u": user.id},
        ).all()
    assert sorted(tuple(row) for row in categories) == [("GOT", "Transfer"), ("SENT", "Transfer")]
