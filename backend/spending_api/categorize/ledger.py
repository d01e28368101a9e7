"""The plain rows that rules and suggestions read, and where a category came from."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class CategorySource(StrEnum):
    """Who set a transaction's category; `user` and `rule` are never overwritten by learning."""

    USER = "user"
    RULE = "rule"
    BANK = "bank"
    LEARNED = "learned"
    DEFAULT = "default"


# Categories a person or a rule chose: no suggestion is offered or applied over them.
NEVER_SUGGESTED = frozenset({CategorySource.USER, CategorySource.RULE})
# Sources a learned suggestion may replace without asking; `bank` is what the file said.
AUTO_REPLACEABLE = frozenset({CategorySource.DEFAULT, CategorySource.LEARNED})
# Sources whose categories the classifier learns from (never its own guesses).
TRUSTED = frozenset({CategorySource.USER, CategorySource.RULE, CategorySource.BANK})


@dataclass(frozen=True)
class LedgerRow:
    """One transaction as the categorizer sees it; amount > 0 is money out."""

    id: int
    description: str | None
    amount: Decimal
    timestamp: datetime
    category: str | None = None
    category_source: CategorySource = CategorySource.DEFAULT
    payee: str | None = None
    account_id: int | None = None
    is_transfer: bool = False
    description_edited: bool = False  # the user typed this description: rules keep it

    def __post_init__(self) -> None:
        # SQL hands the source over as text.
        object.__setattr__(self, "category_source", CategorySource(self.category_source))

    @property
    def money_in(self) -> bool:
        return self.amount < 0

    @property
    def merchant_text(self) -> str:
        """The text that names the counterparty: the payee when the bank gives one."""
        return self.payee or self.description or ""
