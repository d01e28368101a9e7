"""Tables: users, their transactions, and the exact daily rollup of spend."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from spending_api.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())
    # Bumped by the rollup triggers whenever the user's transactions change (migration 0002).
    data_version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # In every token; a password change bumps it, which ends all the user's sessions (0003).
    token_version: Mapped[int] = mapped_column(Integer, server_default="0")


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # Re-imports skip rows whose key is already stored for this user.
        UniqueConstraint("user_id", "dedup_key"),
        Index(
            "ix_transactions_user_id_timestamp",
            "user_id",
            "timestamp",
            postgresql_include=["amount", "category"],
        ),
        Index("ix_transactions_user_id_amount", "user_id", "amount"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    category: Mapped[str] = mapped_column(String(100))
    timestamp: Mapped[datetime] = mapped_column(DateTime())
    description: Mapped[str | None] = mapped_column(Text())
    # md5 of (timestamp, amount, description) plus the row's occurrence number
    # among identical rows of its file: two identical purchases stay two.
    dedup_key: Mapped[str] = mapped_column(String(64))


class DailyCategorySpend(Base):
    """Per user, day and category: the sum and count of transactions.

    Maintained by database triggers in the same transaction as every insert,
    update and delete on `transactions`, so it always equals the base table.
    """

    __tablename__ = "daily_category_spend"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    category: Mapped[str] = mapped_column(String(100), primary_key=True)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    transaction_count: Mapped[int] = mapped_column(Integer)


class LoginFailure(Base):
    """Failed logins, shared by every API worker, for the brute-force lock."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_key_failed_at", "username_key", "failed_at"),
        Index("ix_login_failures_client_key_failed_at", "client_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username_key: Mapped[str] = mapped_column(String(150))
    failed_at: Mapped[datetime] = mapped_column(DateTime())
    # The client address of a failure; NULL on the slots of attempts being checked.
    client_key: Mapped[str | None] = mapped_column(String(64))


class RevokedSession(Base):
    """Sessions ended by POST /logout: every token of the session is refused until it expires."""

    __tablename__ = "revoked_sessions"
    __table_args__ = (Index("ix_revoked_sessions_expires_at", "expires_at"),)

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime())
