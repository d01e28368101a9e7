"""Accounts, categories with a kind, imports, import profiles, rules and transfer pairs;
transactions gain an account, notes, the category's provenance and a stored suggestion.

Existing data moves into one default account per user ("Main account", checking, USD)
and every category name in use becomes a category record (kind guessed from the name:
the default set's kinds, else spending). Every user also gets the default category set.

- `transactions.category` stays the category's name (unique per user), so the hot reads
  need no join for it; every write path creates missing categories first, and the
  rollup trigger adds any that are still missing (kind by sign), so a transaction's
  category always exists as a record and has a kind.
- The rollup gains the account: `daily_category_spend` is per user, day, account and
  category, so the account filter is still served from it.
- Duplicate keys are per account (the same bank line in two accounts is two
  transactions); manual transactions have none. `removed_import_keys` remembers the keys
  of imported rows the user deleted, so a re-import does not bring them back.
- A change to categories (a new one, a kind, a rename) bumps the user's data version:
  cached answers depend on them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

big_id = sa.BigInteger()
confidence = sa.Numeric(4, 3)

ACCOUNT_KINDS = ("checking", "savings", "credit_card", "cash", "wallet", "loan")
CATEGORY_KINDS = ("spending", "income", "transfer")
CATEGORY_SOURCES = ("user", "rule", "bank", "learned", "default")

# The default set; kept in step with spending_api.categories.defaults (a test checks).
DEFAULT_CATEGORIES = (
    ("Groceries", "spending"),
    ("Dining out", "spending"),
    ("Rent", "spending"),
    ("Utilities", "spending"),
    ("Transport", "spending"),
    ("Shopping", "spending"),
    ("Health", "spending"),
    ("Entertainment", "spending"),
    ("Travel", "spending"),
    ("Subscriptions", "spending"),
    ("Fees", "spending"),
    ("Uncategorized", "spending"),
    ("Salary", "income"),
    ("Other income", "income"),
    ("Uncategorized income", "income"),
    ("Transfer", "transfer"),
    ("Credit card payment", "transfer"),
    ("Savings", "transfer"),
)


def _check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


# 0002's function with the account in the key, and the safety net for categories: any
# name a statement wrote that has no record yet gets one (money in: income, else
# spending). It runs before the rollup, so rollup rows never name a missing category.
ROLLUP_FUNCTION = """
CREATE OR REPLACE FUNCTION maintain_daily_category_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE daily_category_spend AS d
        SET total = d.total - o.total,
            transaction_count = d.transaction_count - o.n
        FROM (
            SELECT user_id, CAST("timestamp" AS date) AS day, account_id, category,
                   sum(amount) AS total, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3, 4
        ) AS o
        WHERE d.user_id = o.user_id AND d.day = o.day AND d.account_id = o.account_id
          AND d.category = o.category;
        DELETE FROM daily_category_spend AS d
        WHERE d.transaction_count = 0
          AND (d.user_id, d.day, d.account_id, d.category) IN (
              SELECT user_id, CAST("timestamp" AS date), account_id, category FROM old_rows
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO categories (user_id, name, kind)
        SELECT user_id, category,
               CASE WHEN sum(amount) < 0 THEN 'income' ELSE 'spending' END
        FROM new_rows AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM categories AS c WHERE c.user_id = n.user_id AND c.name = n.category
        )
        GROUP BY user_id, category
        ORDER BY user_id, category
        ON CONFLICT (user_id, name) DO NOTHING;
        INSERT INTO daily_category_spend AS d
            (user_id, day, account_id, category, total, transaction_count)
        SELECT user_id, CAST("timestamp" AS date), account_id, category, sum(amount), count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (user_id, day, account_id, category) DO UPDATE
        SET total = d.total + EXCLUDED.total,
            transaction_count = d.transaction_count + EXCLUDED.transaction_count;
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM new_rows) AS changed
        WHERE u.id = changed.user_id;
    ELSE
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM old_rows) AS changed
        WHERE u.id = changed.user_id;
    END IF;
    RETURN NULL;
END
$$
"""

CATEGORY_VERSION_FUNCTION = """
CREATE FUNCTION bump_version_on_category_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users AS u SET data_version = u.data_version + 1
    WHERE u.id = COALESCE(NEW.user_id, OLD.user_id);
    RETURN NULL;
END
$$
"""
# Deferred to commit: the user's row is then locked after any rollup rows, the order
# every writer keeps (0002), so a category change and an edit never deadlock.
CATEGORY_VERSION_TRIGGER = """
CREATE CONSTRAINT TRIGGER categories_bump_version AFTER INSERT OR UPDATE OR DELETE ON categories
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION bump_version_on_category_change()
"""


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="checking"),
        sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column("institution", sa.String(100), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "name", name="uq_accounts_user_id_name"),
        # The target of the transactions' (user_id, account_id) key: an account of
        # another user cannot be referenced.
        sa.UniqueConstraint("user_id", "id", name="uq_accounts_user_id_id"),
        sa.CheckConstraint(_check("kind", ACCOUNT_KINDS), name="ck_accounts_kind"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_accounts_currency"),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False, server_default="spending"),
        sa.Column("colour", sa.String(7), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["categories.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("user_id", "name", name="uq_categories_user_id_name"),
        sa.CheckConstraint(_check("kind", CATEGORY_KINDS), name="ck_categories_kind"),
        sa.CheckConstraint("colour ~ '^#[0-9a-fA-F]{6}$'", name="ck_categories_colour"),
    )
    op.create_table(
        "rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("conditions", postgresql.JSONB(), nullable=False),
        sa.Column("actions", postgresql.JSONB(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_timestamps(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_rules_user_id_position", "rules", ["user_id", "position"])
    op.create_table(
        "imports",
        sa.Column("id", big_id, primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("inserted_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["user_id", "account_id"], ["accounts.user_id", "accounts.id"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_imports_user_id_created_at", "imports", ["user_id", "created_at"])
    op.create_table(
        "import_profiles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        # What identifies the bank's layout: a hash of the header, or of the column
        # count and shape of a headerless file.
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("options", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "account_id"], ["accounts.user_id", "accounts.id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "account_id", "signature", name="uq_import_profiles_account_id_signature"
        ),
    )
    op.create_table(
        "removed_import_keys",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "dedup_key", name="pk_removed_import_keys"),
    )

    # Existing data: a default account per user, a record for each category in use.
    op.execute(
        "INSERT INTO accounts (user_id, name, kind, currency) "
        "SELECT id, 'Main account', 'checking', 'USD' FROM users"
    )
    defaults = sa.table(
        "default_categories", sa.column("name", sa.String), sa.column("kind", sa.String)
    )
    op.execute("CREATE TEMPORARY TABLE default_categories (name varchar(100), kind varchar(10))")
    op.bulk_insert(defaults, [{"name": n, "kind": k} for n, k in DEFAULT_CATEGORIES])
    op.execute(
        "INSERT INTO categories (user_id, name, kind) "
        "SELECT u.id, d.name, d.kind FROM users u CROSS JOIN default_categories d"
    )
    op.execute(
        "INSERT INTO categories (user_id, name, kind) "
        "SELECT DISTINCT user_id, category, 'spending' FROM transactions "
        "ON CONFLICT (user_id, name) DO NOTHING"
    )
    op.execute("DROP TABLE default_categories")

    op.add_column("transactions", sa.Column("account_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE transactions t SET account_id = a.id FROM accounts a WHERE a.user_id = t.user_id"
    )
    op.alter_column("transactions", "account_id", nullable=False)
    op.add_column("transactions", sa.Column("notes", sa.Text(), nullable=True))
    # The bank's description when the user or a rule replaced it (rules match on it).
    op.add_column("transactions", sa.Column("original_description", sa.Text(), nullable=True))
    op.add_column("transactions", sa.Column("import_id", big_id, nullable=True))
    op.add_column(
        "transactions",
        sa.Column("category_source", sa.String(10), nullable=False, server_default="default"),
    )
    op.add_column("transactions", sa.Column("category_rule_id", sa.Integer(), nullable=True))
    op.add_column("transactions", sa.Column("category_confidence", confidence, nullable=True))
    op.add_column("transactions", sa.Column("suggested_category", sa.String(100), nullable=True))
    op.add_column("transactions", sa.Column("suggestion_confidence", confidence, nullable=True))
    op.alter_column("transactions", "dedup_key", nullable=True)
    op.create_check_constraint(
        "ck_transactions_category_source",
        "transactions",
        _check("category_source", CATEGORY_SOURCES),
    )
    # The account's key carries the user: it replaces the user key (one check per row).
    op.drop_constraint("fk_transactions_user_id_users", "transactions", type_="foreignkey")
    op.create_foreign_key(
        "fk_transactions_account",
        "transactions",
        "accounts",
        ["user_id", "account_id"],
        ["user_id", "id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_transactions_import_id_imports",
        "transactions",
        "imports",
        ["import_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_transactions_category_rule_id_rules",
        "transactions",
        "rules",
        ["category_rule_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.drop_constraint("uq_transactions_user_id_dedup_key", "transactions", type_="unique")
    op.create_unique_constraint(
        "uq_transactions_account_id_dedup_key", "transactions", ["account_id", "dedup_key"]
    )
    op.create_index(
        "ix_transactions_import_id",
        "transactions",
        ["import_id"],
        postgresql_where=sa.text("import_id IS NOT NULL"),
    )
    # Renames, merges and the review queue find a category's rows without a full scan.
    op.create_index("ix_transactions_user_id_category", "transactions", ["user_id", "category"])

    op.create_table(
        "transfer_pairs",
        sa.Column("id", big_id, primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("out_transaction_id", big_id, nullable=False),
        sa.Column("in_transaction_id", big_id, nullable=False),
        # What each side was before pairing, restored when the pair is unlinked.
        sa.Column("out_previous_category", sa.String(100), nullable=False),
        sa.Column("in_previous_category", sa.String(100), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["out_transaction_id"], ["transactions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["in_transaction_id"], ["transactions.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("out_transaction_id", name="uq_transfer_pairs_out_transaction_id"),
        sa.UniqueConstraint("in_transaction_id", name="uq_transfer_pairs_in_transaction_id"),
    )
    op.create_index("ix_transfer_pairs_user_id", "transfer_pairs", ["user_id"])

    # The rollup by account: rebuilt from the base table.
    op.execute("DELETE FROM daily_category_spend")
    op.add_column("daily_category_spend", sa.Column("account_id", sa.Integer(), nullable=False))
    op.drop_constraint("pk_daily_category_spend", "daily_category_spend", type_="primary")
    op.create_primary_key(
        "pk_daily_category_spend",
        "daily_category_spend",
        ["user_id", "day", "account_id", "category"],
    )
    op.execute(ROLLUP_FUNCTION)
    op.execute(
        "INSERT INTO daily_category_spend "
        "(user_id, day, account_id, category, total, transaction_count) "
        'SELECT user_id, CAST("timestamp" AS date), account_id, category, sum(amount), count(*) '
        "FROM transactions GROUP BY 1, 2, 3, 4"
    )
    op.execute(CATEGORY_VERSION_FUNCTION)
    op.execute(CATEGORY_VERSION_TRIGGER)


def downgrade() -> None:
    raise NotImplementedError("0004 moves data into accounts and categories; restore a backup")
