"""Alembic is the one source of the schema; db/init.sql is generated from it."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from spending_api.accounts.repository import create_account, default_account_id
from spending_api.auth.identity import identity_params
from spending_api.db import Base
from spending_api.imports.repository import start_import
from spending_api.migrate import offline_sql, upgrade
from spending_api.suggestions.repository import user_corrections
from spending_api.transactions.filters import TransactionFilters
from spending_api.transactions.repository import _page_query

INIT_SQL = Path(__file__).resolve().parents[2] / "db" / "init.sql"


def test_init_sql_is_generated_from_the_migrations():
    assert (
        INIT_SQL.read_text() == offline_sql()
    ), "db/init.sql is out of date with the migrations: run `make init-sql`"


def test_migrations_create_every_table_of_the_models(postgresql_url):
    upgrade(postgresql_url)  # already at head: a no-op that must not fail
    engine = create_engine(postgresql_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


# Migration 0005: the account and import references of transactions, checked per
# statement by triggers instead of per-row foreign keys, behave as the keys did.

INSERT_ROW = (
    "INSERT INTO transactions (user_id, account_id, import_id, amount, category, "
    '"timestamp", dedup_key) VALUES (:user_id, :account_id, :import_id, 1.00, '
    "'Groceries', '2026-01-05', :key)"
)


def _insert(session, *, user_id, account_id, import_id=None, key="k:1"):
    values = {"user_id": user_id, "account_id": account_id, "import_id": import_id, "key": key}
    session.execute(text(INSERT_ROW), values)


def _count(session, sql: str, **params) -> int:
    return session.execute(text(sql), params).scalar()


def test_a_transaction_must_name_an_account_of_its_own_user(session, new_user):
    owner, other = new_user(), new_user()
    account_id = default_account_id(session, user_id=owner.id)
    for user_id, account in ((other.id, account_id), (owner.id, account_id + 1000)):
        with pytest.raises(IntegrityError, match="account that its user does not have"):
            _insert(session, user_id=user_id, account_id=account)
        session.rollback()
    _insert(session, user_id=owner.id, account_id=account_id)  # its own: accepted
    session.commit()
    with pytest.raises(IntegrityError, match="account that its user does not have"):
        session.execute(text("UPDATE transactions SET user_id = :other"), {"other": other.id})
    session.rollback()


def test_a_transaction_must_name_an_existing_import(session, new_user):
    user = new_user()
    account_id = default_account_id(session, user_id=user.id)
    with pytest.raises(IntegrityError, match="import that does not exist"):
        _insert(session, user_id=user.id, account_id=account_id, import_id=12345)
    session.rollback()
    import_id = start_import(
        session, user_id=user.id, account_id=account_id, file_name="a.csv", file_format="csv"
    )
    _insert(session, user_id=user.id, account_id=account_id, import_id=import_id)
    session.commit()


def test_deleting_an_account_or_an_import_deletes_their_transactions(
    session, new_user, assert_rollup_exact
):
    user, bystander = new_user(), new_user()
    first = default_account_id(session, user_id=user.id)
    second = create_account(
        session, user_id=user.id, name="Card", kind="credit_card", currency="USD", institution=None
    ).id
    theirs = default_account_id(session, user_id=bystander.id)
    import_id = start_import(
        session, user_id=user.id, account_id=second, file_name="a.csv", file_format="csv"
    )
    _insert(session, user_id=user.id, account_id=first, key="a:1")
    _insert(session, user_id=user.id, account_id=first, key="a:2")
    _insert(session, user_id=user.id, account_id=second, import_id=import_id, key="b:1")
    _insert(session, user_id=user.id, account_id=second, key="b:2")
    _insert(session, user_id=bystander.id, account_id=theirs, key="c:1")
    session.commit()
    rows_of = "SELECT count(*) FROM transactions WHERE account_id = :account_id"

    session.execute(text("DELETE FROM imports WHERE id = :id"), {"id": import_id})
    assert _count(session, rows_of, account_id=second) == 1  # only the import's row went
    session.execute(text("DELETE FROM accounts WHERE id = :id"), {"id": second})
    assert _count(session, rows_of, account_id=second) == 0
    assert _count(session, rows_of, account_id=first) == 2
    session.commit()
    assert_rollup_exact("after the account and import deletes")

    session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})  # cascades
    session.commit()
    assert _count(session, "SELECT count(*) FROM transactions") == 1  # the bystander's
    assert_rollup_exact("after the user's delete")


def test_an_open_insert_holds_its_account_as_a_foreign_key_does(database, new_user):
    user = new_user()
    with database.session() as writer, database.session() as deleter:
        account_id = default_account_id(writer, user_id=user.id)
        _insert(writer, user_id=user.id, account_id=account_id)  # not committed yet
        deleter.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            deleter.execute(text("DELETE FROM accounts WHERE id = :id"), {"id": account_id})
        deleter.rollback()
        writer.commit()
        deleter.execute(text("DELETE FROM accounts WHERE id = :id"), {"id": account_id})
        assert _count(deleter, "SELECT count(*) FROM transactions") == 0
        deleter.commit()


def test_a_referenced_key_cannot_change(session, new_user):
    user = new_user()
    account_id = default_account_id(session, user_id=user.id)
    session.commit()
    with pytest.raises(IntegrityError, match="referenced by transactions"):
        session.execute(
            text("UPDATE accounts SET id = id + 1000 WHERE id = :id"), {"id": account_id}
        )
    session.rollback()


def test_duplicate_keys_compare_bytewise(session):
    collations = session.execute(
        text(
            "SELECT c.relname, a.attname, coll.collname FROM pg_attribute AS a "
            "JOIN pg_class AS c ON c.oid = a.attrelid "
            "JOIN pg_collation AS coll ON coll.oid = a.attcollation "
            "WHERE a.attname = 'dedup_key' AND c.relname IN "
            "('transactions', 'removed_import_keys')"
        )
    ).all()
    assert sorted(collations) == [
        ("removed_import_keys", "dedup_key", "C"),
        ("transactions", "dedup_key", "C"),
    ]


# Migration 0006: the review queue and the user's corrections read only their own rows.

# 3,000 rows the bank categorized, then a few of each kind the indexes hold.
ROWS_BY_SOURCE = (
    'INSERT INTO transactions (user_id, account_id, amount, category, "timestamp", '
    "category_source, category_confidence) "
    "SELECT :user_id, :account_id, n % 500 + 1, 'Groceries', "
    "timestamp '2026-01-01' + n * interval '1 hour', "
    "CASE WHEN n % 1000 = 1 THEN 'default' WHEN n % 1000 = 2 THEN 'user' "
    "WHEN n % 1000 = 3 THEN 'learned' ELSE 'bank' END, "
    "CASE WHEN n % 1000 = 3 THEN 0.5 END "
    "FROM generate_series(1, 3000) AS n"
)


def _index_scans(session, sql: str, params) -> list[str]:
    """The indexes a plan of `sql` reads from transactions."""
    driver = session.connection().connection.driver_connection
    [[plan]] = driver.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchall()
    nodes, found = [plan[0]["Plan"]], []
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node.get("Relation Name") == "transactions":
            found.append(node.get("Index Name", node["Node Type"]))
    return found


@pytest.fixture
def user_with_bank_rows(database, new_user):
    user = new_user()
    with database.session() as session:
        account_id = default_account_id(session, user_id=user.id)
        session.execute(text(ROWS_BY_SOURCE), {"user_id": user.id, "account_id": account_id})
        session.commit()
    with database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE transactions")
        )
    return user


def test_the_review_queue_reads_its_own_index_not_every_row_of_the_user(
    session, user_with_bank_rows
):
    user = user_with_bank_rows
    sql, params = _page_query(
        user_id=user.id, filters=TransactionFilters(review=True), sort="-amount", limit=10, offset=0
    )
    params |= identity_params(user_id=user.id, token_version=0, session_id="s")
    # The page's scan and the count's: the planner can use the partial index only while
    # the queue's condition implies the index's predicate.
    assert _index_scans(session, sql, params) == ["ix_transactions_review_queue"] * 2


def test_the_offered_rules_read_the_users_corrections_from_their_own_index(
    database, session, user_with_bank_rows
):
    statements = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        corrections = user_corrections(session, user_id=user_with_bank_rows.id)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)

    assert len(corrections) == 3  # n = 2, 1002, 2002
    [(sql, params)] = statements
    assert _index_scans(session, sql, params) == ["ix_transactions_user_corrections"]
