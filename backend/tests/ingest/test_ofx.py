"""OFX 1.x (SGML) and 2.x (XML) statements through ofxtools."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from spending_api.ingest import ParseFailed, parse

DATA = Path(__file__).parent / "data"


def _rows(name):
    parsed = parse((DATA / name).read_bytes(), filename=name)
    return parsed, list(parsed.rows())


def test_ofx1_checking_statement():
    parsed, rows = _rows("checking-ofx1.ofx")

    assert parsed.detection.format == "ofx" and parsed.detection.currency == "USD"
    assert [
        (r.timestamp, r.amount, r.description, r.notes, r.external_id, r.bank_type, r.kind_hint)
        for r in rows
    ] == [
        (
            datetime(2025, 2, 3),
            Decimal("42.17"),
            "CORNER GROCERY #12",
            "POS PURCHASE",
            "202502030001",
            "DEBIT",
            None,
        ),
        (
            datetime(2025, 2, 14),
            Decimal("-2150.00"),
            "ACME CORP PAYROLL",
            None,
            "202502140001",
            "DIRECTDEP",
            "income",
        ),
        (
            datetime(2025, 2, 15),
            Decimal("500.00"),
            "TRANSFER TO SAVINGS",
            None,
            "202502150001",
            "XFER",
            "transfer",
        ),
        (
            datetime(2025, 2, 20),
            Decimal("120.00"),
            "CHECK 1043",
            None,
            "202502200001",
            "CHECK",
            None,
        ),
    ]


def test_ofx2_card_statement_payment_is_a_card_payment():
    parsed, rows = _rows("card-ofx2.qfx")

    assert parsed.detection.currency == "EUR"
    assert [(str(r.amount), r.description, r.kind_hint, r.currency) for r in rows] == [
        ("18.40", "CAFÉ DU MARCHÉ", None, "EUR"),
        ("-9.99", "ONLINE SHOP REFUND", None, "EUR"),
        ("-250.00", "PAYMENT THANK YOU", "card_payment", "EUR"),
    ]


def test_a_broken_ofx_file_says_what_to_do():
    broken = (DATA / "checking-ofx1.ofx").read_bytes().replace(b"<TRNAMT>-42.17", b"<TRNAMT>lots")

    with pytest.raises(ParseFailed, match="OFX/QFX but could not be read"):
        parse(broken, filename="x.ofx")


def test_times_keep_the_banks_wall_clock():
    content = (
        (DATA / "checking-ofx1.ofx")
        .read_bytes()
        .replace(b"<DTPOSTED>20250203\n", b"<DTPOSTED>20250203231500.000[-5:EST]\n")
    )

    first = next(parse(content).rows())

    assert (first.timestamp, first.has_time) == (datetime(2025, 2, 3, 23, 15), True)
