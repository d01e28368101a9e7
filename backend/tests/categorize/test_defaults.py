"""The default rules a new user starts with, run in their order on single rows."""

from datetime import datetime
from decimal import Decimal

import pytest

from spending_api.categorize.defaults import DEFAULT_RULES
from spending_api.categorize.ledger import LedgerRow
from spending_api.categorize.rules import apply_rules


def _category(description: str, amount: str) -> str | None:
    row = LedgerRow(
        id=1, description=description, amount=Decimal(amount), timestamp=datetime(2025, 1, 2)
    )
    changes = apply_rules(DEFAULT_RULES, [row])
    return changes[0].after.category if changes else None


@pytest.mark.parametrize(
    ("description", "amount", "expected"),
    [
        # A move from the holder's payroll account names the payroll: still a transfer.
        ("Traspaso recibido Cuenta Nómina", "-500.00", "Transfer"),
        ("Nomina recibida G PLCE SL.", "-1394.11", "Income"),
        # A French 'virement' alone is a transfer to or from anyone; an internal one is own.
        ("Virement postal", "-240.00", None),
        ("Virement interne vers compte épargne", "100.00", "Transfer"),
        ("CASH WITHDRAWAL ATM 66-6666", "66.66", "Cash"),
        ("Kapitalertragsteuer", "34.56", "Taxes"),
    ],
)
def test_default_rules_in_their_order(description, amount, expected):
    assert _category(description, amount) == expected
