"""Finding the header after a preamble, guessing a headerless file, applying a mapping."""

import pytest

from spending_api.ingest.layout import apply_mapping, escape_char, find_layout
from spending_api.ingest.model import ParseFailed

PREAMBLE = (
    '"Account details for:","Everyday 123"\n'
    '"Available Balance","6,666.66"\n'
    "\n"
    "Transaction date,Value date,Description,Withdrawals (SGD),Deposits (SGD)\n"
    "18/04/2018,18/04/2018,DEBIT PURCHASE,6.66,\n"
    "17/04/2018,17/04/2018,SALARY,,100.00\n"
)


def test_the_header_is_found_after_a_preamble():
    layout, sample = find_layout(PREAMBLE, has_header=None)

    assert (layout.delimiter, layout.header_line, layout.header_records) == (",", 4, 4)
    assert layout.columns == {0: "date", 2: "description", 3: "debit", 4: "credit"}
    assert layout.currency == "SGD"
    assert sample[0][2] == "DEBIT PURCHASE"
    assert layout.undecided == []


def test_a_headerless_file_is_guessed_by_content_and_listed_as_undecided():
    head = (
        "07 Nov 2013,Bank credit,Bank credit,,£500.00,£500.00\n"
        "09 Oct 2013,ATM Withdrawal,Withdrawal,£20.00,,£480.00\n"
        "09 Dec 2013,Visa,Supermarket,£19.77,,£460.23\n"
    )

    layout, _ = find_layout(head, has_header=None)

    assert layout.header is None and layout.header_records == 0
    assert layout.columns == {
        0: "date",
        1: "description",
        2: "notes",
        3: "debit",
        4: "credit",
        5: "balance",
    }
    assert "no header row" in layout.undecided[0] and "mapping" in layout.undecided[0]


def test_content_makes_a_type_column_of_dc_words_the_direction():
    head = "Date,Amount,Transaction Type\n2025-01-01,5.00,debit\n2025-01-02,7.00,credit\n"
    layout, _ = find_layout(head, has_header=None)
    assert layout.columns[2] == "direction"
    unnamed = "Date,Amount,\n2025-01-01,5.00,\n2025-01-02,7.00,CR\n"
    assert find_layout(unnamed, has_header=None)[0].columns[2] == "direction"


def test_a_file_with_neither_header_nor_readable_content_says_what_was_seen():
    with pytest.raises(ParseFailed) as caught:
        find_layout("when,what\nyesterday,lunch\n", has_header=None)

    assert "Widest row seen: when, what" in caught.value.message
    assert "mapping option" in caught.value.message


def test_a_mapping_overrides_the_guess_by_name_or_index():
    layout, _ = find_layout(PREAMBLE, has_header=None)

    apply_mapping(layout, {"date": "Value date", "amount": 3, "notes": ["Description"]})

    assert layout.columns == {1: "date", 3: "amount", 2: "notes"}
    with pytest.raises(ParseFailed, match="outside the file's 5 columns"):
        apply_mapping(layout, {"amount": 9})
    with pytest.raises(ParseFailed, match="'Betrag' is not a column"):
        apply_mapping(layout, {"amount": "Betrag"})
    with pytest.raises(ParseFailed, match="Unknown role 'price'"):
        apply_mapping(layout, {"price": 1})


def test_signature_is_the_header_not_the_data_and_escape_chars_are_seen():
    first, sample = find_layout(PREAMBLE, has_header=None)
    other, other_sample = find_layout(PREAMBLE.replace("6.66", "9.99"), has_header=None)

    assert first.signature(sample) == other.signature(other_sample)
    assert escape_char('"A \\"B\\"",1\n') == "\\"
    assert escape_char('"A ""B""",1\n') is None


def test_an_unknown_header_is_used_when_the_user_says_there_is_one():
    head = "when;what;how much\n2025-01-02;Bakery;3,20\n"

    layout, sample = find_layout(head, has_header=True)

    assert (layout.delimiter, layout.header, layout.header_records) == (
        ";",
        ["when", "what", "how much"],
        1,
    )
    assert sample == [["2025-01-02", "Bakery", "3,20"]]
    apply_mapping(layout, {"date": "when", "description": "what", "amount": "How much"})
    assert layout.columns == {0: "date", 1: "description", 2: "amount"}
