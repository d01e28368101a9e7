"""QIF files through quiffen, with the day-month order decided from the D lines."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from spending_api.ingest import ParseOptions, parse

DATA = Path(__file__).parent / "data"


def test_day_first_bank_qif_with_a_transfer_to_another_account():
    parsed = parse((DATA / "bank-dayfirst.qif").read_bytes(), filename="bank.qif")
    rows = list(parsed.rows())

    assert (parsed.detection.format, parsed.detection.date_format) == ("qif", "DD/MM/YYYY")
    assert [(r.timestamp, r.amount, r.description, r.bank_category, r.kind_hint) for r in rows] == [
        (datetime(2025, 1, 15), Decimal("54.20"), "SUPERMERCADO CENTRAL", "Groceries", None),
        (datetime(2025, 1, 28), Decimal("-1850.00"), "EMPRESA EJEMPLO SL", "Salary", "income"),
        (datetime(2025, 1, 30), Decimal("300.00"), "Transfer to savings", "Savings", "transfer"),
    ]
    assert [(s.line, s.reason) for s in parsed.skipped] == [(24, "zero amount")]


def test_month_first_qif_and_the_date_format_option():
    content = b"!Type:CCard\nD01/02/2025\nT-10.00\nPBOOKS\n^\nD01/13/2025\nT25.00\nPREFUND\n^\n"
    rows = list(parse(content).rows())
    assert [r.timestamp for r in rows] == [datetime(2025, 1, 2), datetime(2025, 1, 13)]

    ambiguous = b"!Type:Bank\nD01/02/2025\nT-10.00\nPBOOKS\n^\n"
    guessed = parse(ambiguous)
    assert "date_format" in guessed.detection.undecided[0]
    confirmed = parse(ambiguous, options=ParseOptions(date_format="%m/%d/%Y"))
    assert [r.timestamp for r in confirmed.rows()] == [datetime(2025, 1, 2)]
