"""SQL for stored suggestions; every function is user-scoped."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from spending_api.models import Transaction

_CLEAR = text(
    "UPDATE transactions SET suggested_category = NULL, suggestion_confidence = NULL "
    "WHERE user_id = :user_id AND suggested_category IS NOT NULL "
    "AND category_source IN ('default', 'learned')"
)
# Suggestions for many rows in one statement; `apply` rows also take the category.
_STORE = text("""
UPDATE transactions AS t
SET suggested_category = s.category,
    suggestion_confidence = s.confidence,
    category = CASE WHEN s.apply THEN s.category ELSE t.category END,
    category_source = CASE WHEN s.apply THEN 'learned' ELSE t.category_source END,
    category_confidence = CASE WHEN s.apply THEN s.confidence ELSE t.category_confidence END
FROM unnest(CAST(:ids AS bigint[]), CAST(:categories AS text[]),
            CAST(:confidences AS numeric[]), CAST(:apply AS boolean[]))
     AS s(id, category, confidence, apply)
WHERE t.user_id = :user_id AND t.id = s.id AND t.category_source IN ('default', 'learned')
""")
_ACCEPT = text("""
UPDATE transactions
SET category = suggested_category, category_source = 'user', category_confidence = NULL,
    category_rule_id = NULL, suggested_category = NULL, suggestion_confidence = NULL
WHERE user_id = :user_id AND id = :id AND suggested_category IS NOT NULL
""")


@dataclass(frozen=True)
class StoredSuggestion:
    transaction_id: int
    category: str
    confidence: Decimal
    apply: bool


def clear_suggestions(session: Session, *, user_id: int) -> None:
    session.execute(_CLEAR, {"user_id": user_id})


def store_suggestions(
    session: Session, *, user_id: int, suggestions: Sequence[StoredSuggestion]
) -> int:
    if not suggestions:
        return 0
    result = session.execute(
        _STORE,
        {
            "user_id": user_id,
            "ids": [s.transaction_id for s in suggestions],
            "categories": [s.category for s in suggestions],
            "confidences": [s.confidence for s in suggestions],
            "apply": [s.apply for s in suggestions],
        },
    )
    return result.rowcount


def accept_suggestion(session: Session, *, user_id: int, transaction_id: int) -> bool | None:
    """Take the stored suggestion as the user's choice: True when taken, False when the
    transaction has none, None when the user has no such transaction."""
    if session.execute(_ACCEPT, {"user_id": user_id, "id": transaction_id}).rowcount:
        return True
    exists = session.scalar(
        select(Transaction.id).where(
            Transaction.user_id == user_id, Transaction.id == transaction_id
        )
    )
    return None if exists is None else False


def user_corrections(session: Session, *, user_id: int, limit: int = 5000) -> list:
    """The newest transactions whose category the user set: what rule proposals read."""
    return list(
        session.execute(
            select(
                Transaction.id,
                Transaction.description,
                Transaction.original_description,
                Transaction.category,
                Transaction.timestamp,
            )
            .where(Transaction.user_id == user_id, Transaction.category_source == "user")
            .order_by(Transaction.id.desc())
            .limit(limit)
        )
    )


def has_open_rows(session: Session, *, user_id: int) -> bool:
    """Whether any transaction's category is still the system's to choose."""
    return bool(
        session.scalar(
            select(
                select(Transaction.id)
                .where(
                    Transaction.user_id == user_id,
                    Transaction.category_source.in_(("default", "learned")),
                )
                .exists()
            )
        )
    )
