"""Rule runs against an import under way: a run over every transaction waits for the
import's commit (the user's ledger lock), so it sees, and changes, the imported rows."""

from sqlalchemy import select, text

from spending_api.categories.repository import create_default_categories
from spending_api.models import Rule
from spending_api.rules import service
from testkit import ledger_lock

FILE = "Date,Description,Amount\n2025-03-01,BAKERY,-4.50\n"


def test_a_rule_run_during_an_import_waits_and_changes_the_imported_rows(database, make_user):
    user = make_user()
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        session.add(
            Rule(
                user_id=user.id,
                name="bakery",
                position=1,
                enabled=False,  # the import runs no rule: only the run below
                conditions=[
                    {
                        "type": "text",
                        "field": "description",
                        "operator": "equals",
                        "value": "BAKERY",
                    }
                ],
                actions={"set_category": "Groceries"},
            )
        )
        session.commit()
        account_id = session.scalar(
            text("SELECT id FROM accounts WHERE user_id = :u"), {"u": user.id}
        )

    def run(session):
        rules = session.scalars(select(Rule).where(Rule.user_id == user.id)).all()
        run.updated = service.run(session, user_id=user.id, rules=rules)

    other = ledger_lock.while_importing(
        database, user_id=user.id, account_id=account_id, csv=FILE, work=run
    )

    assert other.error is None, other.error
    assert run.updated == 1
    with database.session() as session:
        stored = session.execute(
            text("SELECT category, category_source FROM transactions WHERE user_id = :u"),
            {"u": user.id},
        ).all()
    assert [tuple(row) for row in stored] == [("Groceries", "rule")]
