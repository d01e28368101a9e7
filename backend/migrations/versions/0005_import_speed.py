"""A million-row import within 2x a plain `\\copy` (#13): what each imported row cost the
server beyond such a table.

- The account and import references of `transactions` are checked once per statement,
  not once per row. A foreign key runs a lookup for every row it checks: the two of them
  took about as long as the whole `\\copy` of the same rows. Triggers with transition
  tables check and lock the same rows the same way (FOR KEY SHARE, so the account or
  import cannot go while the statement's transaction is open) and delete the rows of a
  deleted account or import as ON DELETE CASCADE did.
- The `(user_id, amount)` index goes. Amounts arrive in no order, so each row's entry
  landed on a random page: the index cost a million-row import about 3.5 s of server
  CPU, two thirds of the whole `\\copy`. Reads hardly used it: the `(user_id, timestamp)`
  index includes the amount, and an amount filter over the heavy user's million rows
  scans it about as fast (amount >= 50 by category: 58 ms without, 73 ms with).
- Duplicate keys are unique per account through an index that leads with the
  timestamp: `(account_id, "timestamp", dedup_key)`. A key is a digest, in no order, so
  each row's entry in `(account_id, dedup_key)` landed on a random page (about 2.4 s of a
  million-row import); by timestamp a bank's file, in date order, fills the index at one
  end. The same uniqueness: a key without the bank's id is a digest of the row's
  timestamp (among the rest), so equal keys have equal timestamps; a key with the bank's
  id (`id:...`) keeps an index of its own on `(account_id, dedup_key)`, as the same id
  may come with another date.
- Duplicate keys compare bytewise (COLLATE "C"): they are hex digests, and the database's
  collation (en_US.UTF-8 on many machines) made each comparison a locale-aware one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The statement's rows must name existing accounts of their own user and existing
# imports; the locks are what a foreign key's check takes, held to the end of the
# transaction. One pass over the rows for their distinct references (a million rows of
# an import name one), then an index probe for each.
CHECK_REFERENCES_FUNCTION = """
CREATE FUNCTION check_transaction_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ref record;
BEGIN
    FOR ref IN SELECT DISTINCT user_id, account_id, import_id FROM new_rows LOOP
        PERFORM FROM accounts WHERE user_id = ref.user_id AND id = ref.account_id
        FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'a transaction names an account that its user does not have',
                CONSTRAINT = 'fk_transactions_account', TABLE = 'transactions';
        END IF;
        IF ref.import_id IS NOT NULL THEN
            PERFORM FROM imports WHERE id = ref.import_id FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE foreign_key_violation USING
                    MESSAGE = 'a transaction names an import that does not exist',
                    CONSTRAINT = 'fk_transactions_import_id_imports', TABLE = 'transactions';
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""

DELETE_ACCOUNT_ROWS_FUNCTION = """
CREATE FUNCTION delete_transactions_of_accounts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transactions AS t
    USING old_rows AS o
    WHERE t.account_id = o.id AND t.user_id = o.user_id;
    RETURN NULL;
END
$$
"""

DELETE_IMPORT_ROWS_FUNCTION = """
CREATE FUNCTION delete_transactions_of_imports() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transactions AS t USING old_rows AS o WHERE t.import_id = o.id;
    RETURN NULL;
END
$$
"""

# A referenced key never changes (the foreign keys' default, NO ACTION, refused it).
FIXED_KEY_FUNCTION = """
CREATE FUNCTION refuse_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING
        MESSAGE = format('the key of a %s row is referenced by transactions', TG_TABLE_NAME),
        TABLE = TG_TABLE_NAME;
END
$$
"""

TRIGGERS = (
    # Named to sort before transactions_rollup_*: the references are checked first.
    "CREATE TRIGGER transactions_check_references_insert AFTER INSERT ON transactions "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION check_transaction_references()",
    "CREATE TRIGGER transactions_check_references_update AFTER UPDATE ON transactions "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION check_transaction_references()",
    "CREATE TRIGGER accounts_delete_transactions AFTER DELETE ON accounts "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delete_transactions_of_accounts()",
    "CREATE TRIGGER imports_delete_transactions AFTER DELETE ON imports "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delete_transactions_of_imports()",
    "CREATE TRIGGER accounts_fixed_key BEFORE UPDATE OF id, user_id ON accounts "
    "FOR EACH ROW WHEN (OLD.id <> NEW.id OR OLD.user_id <> NEW.user_id) "
    "EXECUTE FUNCTION refuse_key_change()",
    "CREATE TRIGGER imports_fixed_key BEFORE UPDATE OF id ON imports "
    "FOR EACH ROW WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION refuse_key_change()",
)

C_KEY = sa.String(64, collation="C")
BANK_KEY = "starts_with(dedup_key, 'id:')"
DATED_KEYS = (
    "uq_transactions_account_id_timestamp_dedup_key",
    "transactions",
    ["account_id", "timestamp", "dedup_key"],
)
BANK_KEYS = ("uq_transactions_account_id_bank_key", "transactions", ["account_id", "dedup_key"])


def upgrade() -> None:
    op.drop_index("ix_transactions_user_id_amount", table_name="transactions")
    op.drop_constraint("fk_transactions_account", "transactions", type_="foreignkey")
    op.drop_constraint("fk_transactions_import_id_imports", "transactions", type_="foreignkey")
    for function in (
        CHECK_REFERENCES_FUNCTION,
        DELETE_ACCOUNT_ROWS_FUNCTION,
        DELETE_IMPORT_ROWS_FUNCTION,
        FIXED_KEY_FUNCTION,
    ):
        op.execute(function)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.drop_constraint("uq_transactions_account_id_dedup_key", "transactions", type_="unique")
    op.alter_column("transactions", "dedup_key", type_=C_KEY, existing_nullable=True)
    op.alter_column("removed_import_keys", "dedup_key", type_=C_KEY, existing_nullable=False)
    op.create_index(*DATED_KEYS, unique=True)
    op.create_index(*BANK_KEYS, unique=True, postgresql_where=sa.text(BANK_KEY))


def downgrade() -> None:
    op.drop_index(BANK_KEYS[0], table_name="transactions")
    op.drop_index(DATED_KEYS[0], table_name="transactions")
    op.alter_column(
        "removed_import_keys", "dedup_key", type_=sa.String(64), existing_nullable=False
    )
    op.alter_column("transactions", "dedup_key", type_=sa.String(64), existing_nullable=True)
    op.create_unique_constraint(
        "uq_transactions_account_id_dedup_key", "transactions", ["account_id", "dedup_key"]
    )
    for table, trigger in (
        ("imports", "imports_fixed_key"),
        ("accounts", "accounts_fixed_key"),
        ("imports", "imports_delete_transactions"),
        ("accounts", "accounts_delete_transactions"),
        ("transactions", "transactions_check_references_update"),
        ("transactions", "transactions_check_references_insert"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in (
        "refuse_key_change",
        "delete_transactions_of_imports",
        "delete_transactions_of_accounts",
        "check_transaction_references",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    op.create_foreign_key(
        "fk_transactions_import_id_imports",
        "transactions",
        "imports",
        ["import_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_transactions_user_id_amount", "transactions", ["user_id", "amount"])
    op.create_foreign_key(
        "fk_transactions_account",
        "transactions",
        "accounts",
        ["user_id", "account_id"],
        ["user_id", "id"],
        ondelete="CASCADE",
    )
