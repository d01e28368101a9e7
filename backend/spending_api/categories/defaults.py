"""The category set a new user starts with, and the kind a new category name suggests."""

from spending_api.ingest.kinds import kind_hint

UNCATEGORIZED = "Uncategorized"
UNCATEGORIZED_INCOME = "Uncategorized income"
TRANSFER = "Transfer"
CARD_PAYMENT = "Credit card payment"
SALARY = "Salary"
OTHER_INCOME = "Other income"

# Migration 0004 gives existing users the same set (a test keeps the two equal).
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Groceries", "spending"),
    ("Dining out", "spending"),
    ("Rent", "spending"),
    ("Utilities", "spending"),
    ("Transport", "spending"),
    ("Shopping", "spending"),
    ("Health", "spending"),
    ("Entertainment", "spending"),
    ("Travel", "spending"),
    ("Subscriptions", "spending"),
    ("Fees", "spending"),
    (UNCATEGORIZED, "spending"),
    (SALARY, "income"),
    (OTHER_INCOME, "income"),
    (UNCATEGORIZED_INCOME, "income"),
    (TRANSFER, "transfer"),
    (CARD_PAYMENT, "transfer"),
    ("Savings", "transfer"),
)
DEFAULT_KINDS = dict(DEFAULT_CATEGORIES)
# What a hint of the file's says a row is, as a category kind.
HINT_KINDS = {"income": "income", "transfer": "transfer", "card_payment": "transfer"}


def kind_for_name(name: str) -> str:
    """The kind a category name suggests ('Salary', 'INCOME', 'Gehalt', 'Nómina' are
    income; 'Transfers', 'SAVING', 'Credit card payment' are transfers); else spending."""
    known = DEFAULT_KINDS.get(name)
    if known:
        return known
    hint = kind_hint(category=name, bank_type=None, texts=(), money_in=True)
    return HINT_KINDS.get(hint, "spending")
