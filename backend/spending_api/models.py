"""Tables: users, their accounts and categories, transactions, the exact daily rollup,
imports, import profiles, rules and transfer pairs (the schema is Alembic's: migrations
0001-0004; these models mirror it for the ORM writes)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from spending_api.db import Base
from spending_api.transactions.filters import REVIEW_CONDITION


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


class Account(Base):
    """Where money is kept: a bank account, a card, cash. Every transaction has one."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        UniqueConstraint("user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), server_default="checking")
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    institution: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class Category(Base):
    """A user's category; its kind (spending, income, transfer) is its transactions' kind."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), server_default="spending")
    colour: Mapped[str | None] = mapped_column(String(7))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class Rule(Base):
    """An ordered rule of the user's: conditions and actions as JSON (categorize.rules)."""

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_user_id_position", "user_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    conditions: Mapped[list] = mapped_column(JSONB)
    actions: Mapped[dict] = mapped_column(JSONB)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class Import(Base):
    """One stored import; deleting it removes exactly the rows it added."""

    __tablename__ = "imports"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "account_id"], ["accounts.user_id", "accounts.id"], ondelete="CASCADE"
        ),
        Index("ix_imports_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(10))
    row_count: Mapped[int] = mapped_column(Integer)
    inserted_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    skipped_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class ImportProfile(Base):
    """Import options that worked for a file layout, kept per account."""

    __tablename__ = "import_profiles"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "account_id"], ["accounts.user_id", "accounts.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("account_id", "signature"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class RemovedImportKey(Base):
    """The duplicate key of an imported row the user deleted: a re-import skips it."""

    __tablename__ = "removed_import_keys"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    dedup_key: Mapped[str] = mapped_column(String(64, collation="C"), primary_key=True)


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # Re-imports skip rows whose key is already stored in the account: by timestamp
        # first (a file in date order fills it at one end; a key without the bank's id
        # is a digest of the timestamp among the rest), the bank's ids on their own.
        Index(
            "uq_transactions_account_id_timestamp_dedup_key",
            "account_id",
            "timestamp",
            "dedup_key",
            unique=True,
        ),
        Index(
            "uq_transactions_account_id_bank_key",
            "account_id",
            "dedup_key",
            unique=True,
            postgresql_where=text("starts_with(dedup_key, 'id:')"),
        ),
        Index(
            "ix_transactions_user_id_timestamp",
            "user_id",
            "timestamp",
            postgresql_include=["amount", "category"],
        ),
        Index("ix_transactions_user_id_category", "user_id", "category"),
        # The review queue's rows, largest first, and the user's corrections, newest
        # first: few among all of a user's rows (migration 0006).
        Index(
            "ix_transactions_review_queue",
            "user_id",
            "amount",
            "id",
            postgresql_where=text(REVIEW_CONDITION),
        ),
        Index(
            "ix_transactions_user_corrections",
            "user_id",
            "id",
            postgresql_where=text("category_source = 'user'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer)
    # Positive: money out of the account; negative: money in.
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # The category's name (unique per user); its record holds the kind.
    category: Mapped[str] = mapped_column(String(100))
    timestamp: Mapped[datetime] = mapped_column(DateTime())
    description: Mapped[str | None] = mapped_column(Text())
    notes: Mapped[str | None] = mapped_column(Text())
    # The bank's description, kept when the user or a rule replaced it.
    original_description: Mapped[str | None] = mapped_column(Text())
    # md5 of (timestamp, amount, description) plus the row's occurrence number
    # among identical rows of its file, or the bank's own id; NULL for manual rows.
    dedup_key: Mapped[str | None] = mapped_column(String(64, collation="C"))
    # The account (of the same user) and the import are checked once per statement by
    # triggers (migration 0005), which also delete the rows of a deleted account or
    # import: per-row foreign keys cost a million-row import as much as the rows did.
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    # Who set the category: user, rule, bank, learned or default.
    category_source: Mapped[str] = mapped_column(String(10), server_default="default")
    category_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("rules.id", ondelete="SET NULL")
    )
    category_confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    suggested_category: Mapped[str | None] = mapped_column(String(100))
    suggestion_confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))


class TransferPair(Base):
    """Money out of one of the user's accounts and the same amount into another."""

    __tablename__ = "transfer_pairs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    out_transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), unique=True
    )
    in_transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), unique=True
    )
    out_previous_category: Mapped[str] = mapped_column(String(100))
    in_previous_category: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(), server_default=func.now())


class DailyCategorySpend(Base):
    """Per user, day, account and category: the sum and count of transactions.

    Maintained by database triggers in the same transaction as every insert,
    update and delete on `transactions`, so it always equals the base table.
    """

    __tablename__ = "daily_category_spend"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
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
