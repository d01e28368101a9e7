"""SQL for the user's corrections: manual transactions, edits, bulk changes and deletes.

Every function takes the user's id and applies it, so no caller can forget it; none
commits (the route does, once). The rollup and the data version follow by trigger.
An imported row keeps its duplicate key through every edit, so a re-import skips it;
a deleted one leaves its key in removed_import_keys, so a re-import does not bring it back.

A transfer pair outlives an edit only while it still is one (transfers.repository): a
side moved to a category that is not a transfer, or a manual side whose amount or date no
longer matches the other's, unlinks the pair, and a deleted side's pair is unlinked first;
the other side then goes back to its category before pairing. Such changes take the
user's ledger lock before any row, so they never cross an import's pairing.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spending_api import errors
from spending_api.accounts.repository import default_account_id
from spending_api.categories.defaults import UNCATEGORIZED, UNCATEGORIZED_INCOME
from spending_api.transactions.filters import TransactionFilters
from spending_api.transfers.repository import (
    lock_ledger,
    unlink_broken_pairs,
    unlink_pairs_of,
)


class CorrectionRefused(Exception):
    """A correction that cannot be made as asked; `detail` is the stable error code."""

    detail: str = ""


class AccountNotFound(CorrectionRefused):
    detail = errors.ACCOUNT_NOT_FOUND


class UnknownCategory(CorrectionRefused):
    detail = errors.UNKNOWN_CATEGORY


class ImportedFieldLocked(CorrectionRefused):
    detail = errors.IMPORTED_FIELD_LOCKED


def _require_account(session: Session, *, user_id: int, account_id: int | None) -> int:
    if account_id is None:
        return default_account_id(session, user_id=user_id)
    found = session.execute(
        text("SELECT 1 FROM accounts WHERE user_id = :user_id AND id = :account_id"),
        {"user_id": user_id, "account_id": account_id},
    ).first()
    if found is None:
        raise AccountNotFound()
    return account_id


def _require_category(session: Session, *, user_id: int, name: str) -> None:
    found = session.execute(
        text("SELECT 1 FROM categories WHERE user_id = :user_id AND name = :name"),
        {"user_id": user_id, "name": name},
    ).first()
    if found is None:
        raise UnknownCategory()


def _default_category(session: Session, *, user_id: int, amount: Decimal) -> str:
    """Uncategorized (money out) or Uncategorized income (money in), created if missing."""
    name, kind = (UNCATEGORIZED_INCOME, "income") if amount < 0 else (UNCATEGORIZED, "spending")
    session.execute(
        text(
            "INSERT INTO categories (user_id, name, kind) VALUES (:user_id, :name, :kind) "
            "ON CONFLICT (user_id, name) DO NOTHING"
        ),
        {"user_id": user_id, "name": name, "kind": kind},
    )
    return name


_INSERT_MANUAL = text("""
    INSERT INTO transactions (user_id, account_id, amount, category, category_source,
                              "timestamp", description, notes)
    VALUES (:user_id, :account_id, :amount, :category, :category_source,
            :timestamp, :description, :notes)
    RETURNING id
    """)


def create_manual_transaction(
    session: Session,
    *,
    user_id: int,
    account_id: int | None,
    timestamp: datetime,
    amount: Decimal,
    category: str | None,
    description: str | None,
    notes: str | None,
) -> int:
    """A transaction no bank file holds (no import, no duplicate key): in the given account
    (default: the first) under an existing category (default: uncategorized by sign).
    Raises AccountNotFound, UnknownCategory."""
    account_id = _require_account(session, user_id=user_id, account_id=account_id)
    if category is None:
        category, source = _default_category(session, user_id=user_id, amount=amount), "default"
    else:
        _require_category(session, user_id=user_id, name=category)
        source = "user"
    return session.execute(
        _INSERT_MANUAL,
        {
            "user_id": user_id,
            "account_id": account_id,
            "amount": amount,
            "category": category,
            "category_source": source,
            "timestamp": timestamp,
            "description": description,
            "notes": notes,
        },
    ).scalar_one()


def _user_category(placeholder: str) -> str:
    """A category the user chose replaces whatever chose it before, and its suggestion."""
    return (
        f"category = {placeholder}, category_source = 'user', category_rule_id = NULL, "
        "category_confidence = NULL, suggested_category = NULL, suggestion_confidence = NULL"
    )


# The bank's text is kept the first time the description of an imported row changes.
_NEW_DESCRIPTION = (
    "original_description = CASE WHEN original_description IS NULL "
    "AND (dedup_key IS NOT NULL OR import_id IS NOT NULL) "
    "AND description IS DISTINCT FROM :description THEN description "
    "ELSE original_description END, description = :description"
)
_EDITABLE = ("category", "description", "notes", "timestamp", "amount")
# What a transfer pair depends on.
_PAIRING_FIELDS = {"category", "timestamp", "amount"}


def update_transaction(
    session: Session, *, user_id: int, transaction_id: int, changes: dict[str, Any]
) -> bool:
    """Apply `changes` (a subset of category, description, notes, timestamp, amount) to one
    of the user's transactions; False when it has no such transaction. The timestamp and
    amount of an imported row are the bank's: changing them raises ImportedFieldLocked.
    A transfer pair the change breaks is unlinked. Raises UnknownCategory for a category
    the user does not have."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    pairing = bool(set(changes) & _PAIRING_FIELDS)
    if pairing:
        lock_ledger(session, user_id=user_id)
    current = session.execute(
        text(
            'SELECT "timestamp", amount, dedup_key IS NULL AND import_id IS NULL AS manual '
            "FROM transactions WHERE user_id = :user_id AND id = :transaction_id FOR UPDATE"
        ),
        {"user_id": user_id, "transaction_id": transaction_id},
    ).one_or_none()
    if current is None:
        return False
    if "category" in changes:
        _require_category(session, user_id=user_id, name=changes["category"])
    moved = ("timestamp" in changes and changes["timestamp"] != current.timestamp) or (
        "amount" in changes and changes["amount"] != current.amount
    )
    if moved and not current.manual:
        raise ImportedFieldLocked()
    assignments = []
    if "category" in changes:
        assignments.append(_user_category(":category"))
    if "description" in changes:
        assignments.append(_NEW_DESCRIPTION)
    assignments += [
        f'"{name}" = :{name}' for name in ("notes", "timestamp", "amount") if name in changes
    ]
    if assignments:
        session.execute(
            text(
                f"UPDATE transactions SET {', '.join(assignments)} "
                "WHERE user_id = :user_id AND id = :transaction_id"
            ),
            {**changes, "user_id": user_id, "transaction_id": transaction_id},
        )
    if pairing:
        unlink_broken_pairs(session, user_id=user_id, transaction_ids=[transaction_id])
    return True


@dataclass(frozen=True)
class BulkOutcome:
    matched: int
    total: Decimal
    updated: int


def bulk_update(
    session: Session,
    *,
    user_id: int,
    ids: list[int] | None = None,
    filters: TransactionFilters | None = None,
    changes: dict[str, Any],
    dry_run: bool = False,
) -> BulkOutcome:
    """Set `changes` (category and/or notes) on the user's transactions with these ids, or
    matching these filters, in one UPDATE; a dry run only counts and sums them. Ids that are
    not the user's are not matched. A new category that is not a transfer unlinks the
    transfer pairs of the rows it lands on. Raises UnknownCategory."""
    if (ids is None) == (filters is None):
        raise ValueError("give either ids or filters")
    if not changes or set(changes) - {"category", "notes"}:
        raise ValueError("changes: category and/or notes")
    if "category" in changes:
        _require_category(session, user_id=user_id, name=changes["category"])
    if ids is not None:
        where, params = "user_id = %(user_id)s AND id = ANY(%(ids)s)", {
            "user_id": user_id,
            "ids": list(ids),
        }
    else:
        where, params = filters.postgresql_where(user_id=user_id, rollup=False)
    connection = session.connection()
    if dry_run:
        sql = f"SELECT count(*), coalesce(sum(amount), 0) FROM transactions WHERE {where}"
        matched, total = connection.exec_driver_sql(sql, params).one()
        return BulkOutcome(matched=matched, total=_cents(total), updated=0)
    recategorized = "category" in changes
    if recategorized:
        lock_ledger(session, user_id=user_id)
    assignments = []
    if recategorized:
        assignments.append(_user_category("%(category)s"))
        params["category"] = changes["category"]
    if "notes" in changes:
        assignments.append("notes = %(notes)s")
        params["notes"] = changes["notes"]
    # The rows are locked in id order first, so two bulk changes that overlap wait for
    # each other instead of deadlocking.
    sql = (
        f"WITH picked AS (SELECT id FROM transactions WHERE {where} ORDER BY id FOR UPDATE), "
        f"changed AS (UPDATE transactions AS t SET {', '.join(assignments)} "
        "FROM picked WHERE t.id = picked.id RETURNING t.id, t.amount) "
        "SELECT count(*), coalesce(sum(amount), 0), "
        f"{'array_agg(id)' if recategorized else 'NULL'} FROM changed"
    )
    updated, total, changed_ids = connection.exec_driver_sql(sql, params).one()
    if changed_ids:
        unlink_broken_pairs(session, user_id=user_id, transaction_ids=changed_ids)
    return BulkOutcome(matched=updated, total=_cents(total), updated=updated)


def _cents(total: Any) -> Decimal:
    return Decimal(total).quantize(Decimal("0.01"))


# One statement: the row goes, and an imported row's key stays behind so a re-import
# skips it (the import's INSERT checks removed_import_keys).
_DELETE = text("""
    WITH gone AS (
        DELETE FROM transactions WHERE user_id = :user_id AND id = :transaction_id
        RETURNING account_id, dedup_key
    ), remembered AS (
        INSERT INTO removed_import_keys (account_id, dedup_key)
        SELECT account_id, dedup_key FROM gone WHERE dedup_key IS NOT NULL
        ON CONFLICT (account_id, dedup_key) DO NOTHING
    )
    SELECT count(*) FROM gone
    """)


def delete_transaction(session: Session, *, user_id: int, transaction_id: int) -> bool:
    """Delete one of the user's transactions; False when it has no such transaction. Its
    transfer pair is unlinked first (the other side gets its category back)."""
    params = {"user_id": user_id, "transaction_id": transaction_id}
    lock_ledger(session, user_id=user_id)
    unlink_pairs_of(session, user_id=user_id, transaction_ids=[transaction_id])
    return session.execute(_DELETE, params).scalar_one() > 0
