"""users.data_version: bumped in the same transaction as every change to a user's
transactions. It keys the API's cache of finished answers, so a cached answer is
never older than the version the request read.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _initial_revision():
    """0001's module, for its trigger definitions (a name starting with a digit
    cannot be imported by a plain import statement)."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("migration_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# 0001's function plus the version bump. The bump comes last: every writer locks
# rollup rows first (in key order), then the user's row, so concurrent writers
# queue instead of deadlocking. The users are made distinct first: a transition
# table has no statistics, and `id IN (SELECT user_id FROM new_rows)` was planned
# as a nested loop over a million-row import for every user.
POSTGRES_ROLLUP_FUNCTION = """
CREATE OR REPLACE FUNCTION maintain_daily_category_spend() RETURNS trigger
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


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("data_version", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.execute(POSTGRES_ROLLUP_FUNCTION)


def downgrade() -> None:
    initial = _initial_revision()
    op.execute(
        initial.POSTGRES_ROLLUP_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    )
    op.drop_column("users", "data_version")
