"""Initial schema: users, transactions, the daily rollup and its triggers, login failures.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

money = sa.Numeric(12, 2)
money_total = sa.Numeric(14, 2)
big_id = sa.BigInteger()

# Statement-level triggers with transition tables: one aggregate per COPY-sized
# insert instead of one upsert per row.
POSTGRES_ROLLUP_FUNCTION = """
CREATE FUNCTION maintain_daily_category_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE daily_category_spend AS d
        SET total = d.total - o.total,
            transaction_count = d.transaction_count - o.n
        FROM (
            SELECT user_id, CAST("timestamp" AS date) AS day, category,
                   sum(amount) AS total, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3
        ) AS o
        WHERE d.user_id = o.user_id AND d.day = o.day AND d.category = o.category;
        DELETE FROM daily_category_spend AS d
        WHERE d.transaction_count = 0
          AND (d.user_id, d.day, d.category) IN (
              SELECT user_id, CAST("timestamp" AS date), category FROM old_rows
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO daily_category_spend AS d
            (user_id, day, category, total, transaction_count)
        SELECT user_id, CAST("timestamp" AS date), category, sum(amount), count(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (user_id, day, category) DO UPDATE
        SET total = d.total + EXCLUDED.total,
            transaction_count = d.transaction_count + EXCLUDED.transaction_count;
    END IF;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGERS = [
    """CREATE TRIGGER transactions_rollup_insert AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend()""",
    """CREATE TRIGGER transactions_rollup_update AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend()""",
    """CREATE TRIGGER transactions_rollup_delete AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend()""",
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "transactions",
        sa.Column("id", big_id, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount", money, nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_transactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", "dedup_key", name=op.f("uq_transactions_user_id_dedup_key")),
    )
    op.create_index(
        "ix_transactions_user_id_timestamp",
        "transactions",
        ["user_id", "timestamp"],
        postgresql_include=["amount", "category"],
    )
    op.create_index("ix_transactions_user_id_amount", "transactions", ["user_id", "amount"])
    op.create_table(
        "daily_category_spend",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("total", money_total, nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", "category", name=op.f("pk_daily_category_spend")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_daily_category_spend_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", big_id, nullable=False),
        sa.Column("username_key", sa.String(150), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_username_key_failed_at",
        "login_failures",
        ["username_key", "failed_at"],
    )

    op.execute(POSTGRES_ROLLUP_FUNCTION)
    for statement in POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER transactions_rollup_{name} ON transactions")
    op.execute("DROP FUNCTION maintain_daily_category_spend()")
    op.drop_table("login_failures")
    op.drop_table("daily_category_spend")
    op.drop_table("transactions")
    op.drop_table("users")
