"""Sessions that end, and login limits per client address.

- users.token_version: part of every token; bumped by a password change, which so ends
  every session of the user (read by the per-request user lookup, no extra query).
- revoked_sessions: sessions ended by POST /logout, kept until they would have expired.
- login_failures.client_key: the client address of each failure, so the lock counts per
  (name, address) and one address trying many names (password spraying) is limited.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "revoked_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_revoked_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_revoked_sessions")),
    )
    op.create_index("ix_revoked_sessions_expires_at", "revoked_sessions", ["expires_at"])
    op.add_column("login_failures", sa.Column("client_key", sa.String(64), nullable=True))
    op.create_index(
        "ix_login_failures_client_key_failed_at", "login_failures", ["client_key", "failed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_key_failed_at", table_name="login_failures")
    op.drop_column("login_failures", "client_key")
    op.drop_index("ix_revoked_sessions_expires_at", table_name="revoked_sessions")
    op.drop_table("revoked_sessions")
    op.drop_column("users", "token_version")
