"""Amount notations, CR/DR markers and the decimal separator vote."""

from decimal import Decimal

import pytest

from spending_api.ingest.amounts import (
    AmountError,
    SeparatorVotes,
    currency_of,
    direction_of,
    parse_amount,
    separator_vote,
)


@pytest.mark.parametrize(
    ("text", "decimal", "value", "signed", "marker"),
    [
        ("1,234.56", ".", "1234.56", False, None),
        ("$1,234.56", ".", "1234.56", False, None),
        ("(12.30)", ".", "-12.30", True, None),
        ("EUR 7.00", ".", "7.00", False, None),
        ("−4.20", ".", "-4.20", True, None),
        ("+ £1,100.00", ".", "1100.00", True, None),
        ("- $220.00", ".", "-220.00", True, None),
        ("-$7,971.39", ".", "-7971.39", True, None),
        ("11'373.94", ".", "11373.94", False, None),
        ("1.500,00", ",", "1500.00", False, None),
        ("2 500,00", ",", "2500.00", False, None),
        ("2,17+", ",", "2.17", True, None),
        ("12.30 CR", ".", "12.30", False, "in"),
        ("45.00 DR", ".", "45.00", False, "out"),
        ("R$ 10,00", ",", "10.00", False, None),
        ("-8,78", ",", "-8.78", True, None),
    ],
)
def test_notations(text, decimal, value, signed, marker):
    amount = parse_amount(text, decimal)

    assert (amount.value, amount.signed, amount.marker) == (Decimal(value), signed, marker)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12,3x", "not a number"),
        ("1.005", "more than 2 decimal places"),
        ("1e10", "not a"),
        # A quoted cell that spans lines.
        ("-1.\n50", "not a number"),
        ("12.00 CR\nx", "not a number"),
    ],
)
def test_what_is_not_an_amount(text, reason):
    with pytest.raises(AmountError, match=reason):
        parse_amount(text, ".")
    with pytest.raises(AmountError, match="too large"):
        parse_amount("10000000000.00", ".")


def test_separator_votes_decide_the_decimal_separator():
    assert [separator_vote(t) for t in ("1,280.8", "4,884", "-8,78", "1.500,00", "7")] == [
        ".",
        None,
        ",",
        ",",
        None,
    ]
    votes = SeparatorVotes()
    for text in ("-3,20", "12,30", "1.000"):
        votes.add(text)
    assert votes.decide(",") == ","
    assert SeparatorVotes().decide(";") == ","
    assert SeparatorVotes().decide(",") == "."


def test_direction_words_and_currency_symbols():
    assert [direction_of(w) for w in ("Af", "Bij", "D", "c", "CR", "debit", "Crédit", "")] == [
        "out",
        "in",
        "out",
        "in",
        "in",
        "out",
        "in",
        None,
    ]
    assert [currency_of(t) for t in ("£1.50", "EUR 7.00", "7.00", "₹20")] == [
        "GBP",
        "EUR",
        None,
        "INR",
    ]
