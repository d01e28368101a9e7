"""Response bodies for transfer pairs."""

from decimal import Decimal

from pydantic import BaseModel, Field

from spending_api.transactions.schemas import LocalDateTime, MoneyOut


class SuggestionOut(BaseModel):
    category: str
    confidence: float


class PairedTransactionOut(BaseModel):
    """One side of a pair, in the shape of GET /transactions."""

    id: int
    account_id: int
    amount: MoneyOut
    category: str
    kind: str | None
    timestamp: LocalDateTime
    description: str | None
    notes: str | None
    category_source: str
    suggestion: SuggestionOut | None


class TransferOut(BaseModel):
    id: int
    out: PairedTransactionOut = Field(description="The money out of one account")
    in_: PairedTransactionOut = Field(
        alias="in", serialization_alias="in", description="The money in to another"
    )


def side(row, prefix: str) -> PairedTransactionOut:
    suggested = row[f"{prefix}_suggested"]
    confidence: Decimal | None = row[f"{prefix}_suggestion_confidence"]
    return PairedTransactionOut(
        id=row[f"{prefix}_id"],
        account_id=row[f"{prefix}_account_id"],
        amount=row[f"{prefix}_amount"],
        category=row[f"{prefix}_category"],
        kind=row[f"{prefix}_kind"],
        timestamp=row[f"{prefix}_timestamp"],
        description=row[f"{prefix}_description"],
        notes=row[f"{prefix}_notes"],
        category_source=row[f"{prefix}_category_source"],
        suggestion=(
            None
            if suggested is None
            else SuggestionOut(category=suggested, confidence=float(confidence or 0))
        ),
    )
