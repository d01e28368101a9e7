"""The dashboard's reads of a few rows among all of a user's, without a scan of them all.

- The review queue: with every filter change the dashboard asks for the queue's first
  page, largest first, and its count. Both read every row of the user to find the few
  that need a look: for the benchmark's million-row user, who has none, 150 ms for the
  page and 230 ms for the count, the slowest part of a dashboard update. A partial index
  holds just the queue's rows, by user and amount (about 0.1 ms for that user). Its
  predicate is the queue's condition (spending_api.transactions.filters.REVIEW_CONDITION)
  word for word: PostgreSQL uses a partial index only for a query whose condition
  implies the index's.
- The user's corrections (category set by the user), newest first: the rules offered
  after edits read them at each sign-in and after each edit, 140 ms for that user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REVIEW_CONDITION = (
    "(category_source = 'default' OR "
    "(category_source = 'learned' AND coalesce(category_confidence, 0) < 0.95))"
)
INDEXES = (
    ("ix_transactions_review_queue", ["user_id", "amount", "id"], REVIEW_CONDITION),
    ("ix_transactions_user_corrections", ["user_id", "id"], "category_source = 'user'"),
)


def upgrade() -> None:
    for name, columns, condition in INDEXES:
        op.create_index(name, "transactions", columns, postgresql_where=sa.text(condition))


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name="transactions")
