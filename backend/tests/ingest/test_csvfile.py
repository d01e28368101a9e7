"""CSV files end to end: each shape's fixture, skips, joins, problems, signs and memory.

Expected rows are written out by hand from the fixture files in data/.
"""

import csv
import io
import tracemalloc
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from spending_api.ingest import ParseFailed, ParseOptions, csvfile, encoding, parse
from spending_api.transactions.exporter import write_csv
from spending_api.transactions.repository import NewTransaction

DATA = Path(__file__).parent / "data"
OLD_DATA = Path(__file__).parents[1] / "data"


def _rows(content: bytes, **options):
    parsed = parse(content, options=ParseOptions(**options))
    return parsed, [
        (row.line, row.timestamp, str(row.amount), row.description, row.kind_hint)
        for row in parsed.rows()
    ]


def _file(name: str, **options):
    return _rows((DATA / name).read_bytes(), **options)


def test_german_bank_with_preamble_in_cp1252():
    parsed, rows = _file("preamble-semicolon-cp1252.csv")

    assert rows == [
        (6, datetime(2025, 3, 31), "4.35", "Bäckerei Müller", None),
        (7, datetime(2025, 3, 28), "-2345.67", "Beispiel GmbH", "income"),
        (8, datetime(2025, 3, 27), "1020.00", "Stadtwerke", None),
        (10, datetime(2025, 3, 25), "500.00", "Erika Musterfrau", "transfer"),
    ]
    detection = parsed.detection
    assert (detection.encoding, detection.delimiter, detection.header_line) == ("cp1252", ";", 5)
    assert (detection.decimal_separator, detection.amount_sign) == (",", "spend_negative")
    assert [(s.line, s.reason) for s in parsed.skipped] == [
        (9, "pending transaction"),
        (11, "zero amount (0,00)"),
    ]


def test_headerless_card_export_is_guessed_then_confirmed_once():
    content = (DATA / "headerless-card.csv").read_bytes()
    guessed, rows = _rows(content)
    confirmed, confirmed_rows = _rows(
        content, mapping={"date": 0, "description": 1, "amount": 2}, amount_sign="spend_positive"
    )

    assert guessed.detection.undecided and not confirmed.detection.undecided
    assert (
        rows
        == confirmed_rows
        == [
            (1, datetime(2025, 2, 3), "54.20", "GROCERY STORE 123", None),
            (2, datetime(2025, 2, 5), "4.10", "COFFEE BAR", None),
            (3, datetime(2025, 2, 9), "-120.00", "AUTOPAY PAYMENT THANK YOU", "card_payment"),
            (4, datetime(2025, 2, 11), "18.99", "BOOKSHOP", None),
        ]
    )
    assert guessed.detection.signature == confirmed.detection.signature


def test_paid_out_paid_in_with_continuation_notice_and_total_lines():
    parsed, rows = _file("debit-credit-preamble.csv")

    assert rows == [
        (5, datetime(2025, 3, 3), "23.45", "SUPERSTORE LONDON GB", None),
        (7, datetime(2025, 3, 4), "-1800.00", "ACME LTD SALARY", "income"),
        (8, datetime(2025, 3, 5), "300.00", "TRANSFER TO SAVINGS", "transfer"),
    ]
    assert [s.line for s in parsed.skipped] == [6, 9, 10]
    assert "joined" in parsed.skipped[0].reason
    assert "Pending transactions are not included" in parsed.skipped[1].reason
    assert "summary" in parsed.skipped[2].reason


def test_unsigned_amount_with_af_bij_column():
    parsed, rows = _file("marker-af-bij.csv")

    assert rows == [
        (2, datetime(2025, 3, 1), "23.45", "Albert Heijn 1234", None),
        (3, datetime(2025, 3, 2), "-2100.00", "Werkgever BV", "income"),
        (4, datetime(2025, 3, 3), "250.00", "Spaarrekening", "transfer"),
    ]
    assert parsed.detection.columns[3] == "direction"
    assert parsed.detection.currency == "EUR"


def test_utf16_tab_file_with_cr_dr_suffixes_and_12_hour_times():
    parsed, rows = _file("utf16-tab-markers.csv")

    assert rows == [
        (2, datetime(2025, 3, 14, 18, 45), "45.00", "THEATRE BOX OFFICE", None),
        (3, datetime(2025, 3, 15, 9, 5), "-300.00", "PAYMENT RECEIVED THANK YOU", "card_payment"),
        (4, datetime(2025, 3, 16, 12, 30), "12.60", "PHARMACY", None),
    ]
    assert (parsed.detection.encoding, parsed.detection.delimiter) == ("utf-16", "\t")


def test_cr_only_line_endings_and_debit_credit_words():
    parsed, rows = _file("cr-only-direction.csv")

    assert rows == [
        (2, datetime(2025, 3, 1), "1020.50", "Grocer", None),
        (3, datetime(2025, 3, 13), "-500.00", "Card payment", "card_payment"),
        (4, datetime(2025, 3, 14), "-20.00", "Refund Shop", None),
    ]


def test_french_month_names_and_debit_credit_columns():
    parsed, rows = _file("month-names-fr.csv")

    assert rows == [
        (2, datetime(2025, 1, 3), "45.10", "CARTE MONOPRIX PARIS", None),
        (3, datetime(2025, 2, 15), "-2500.00", "VIR SEPA RECU SALAIRE JANVIER", "income"),
        (4, datetime(2025, 3, 2), "78.00", "PRLV SEPA EDF", None),
    ]


def test_the_projects_own_export_reads_back_exactly():
    stored = [
        NewTransaction(datetime(2025, 1, 2, 8, 30), Decimal("3.20"), "Food", "=SUM(A1)", 0),
        NewTransaction(datetime(2025, 1, 3), Decimal("-10.00"), "'+x", "'=already quoted", 0),
        NewTransaction(datetime(2025, 1, 4), Decimal("7.00"), "@home", None, 0),
    ]
    buffer = io.BytesIO()
    write_csv(stored, buffer)

    parsed = parse(buffer.getvalue())
    rows = list(parsed.rows())

    assert [(r.timestamp, r.amount, r.bank_category, r.description or None) for r in rows] == [
        (t.timestamp, t.amount, t.category, t.description) for t in stored
    ]
    assert parsed.detection.amount_sign == "spend_positive"


def _money(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", "") or "0").quantize(Decimal("0.01"))


def _old_expected(name: str) -> list[tuple]:
    """The old importer's fixtures, read with the csv module and each file's known format."""
    path = OLD_DATA / name
    if name == "uk_current.csv":
        reader = csv.DictReader(path.read_text(encoding="utf-8").splitlines()[4:])
        return [
            (
                datetime.strptime(r["Date"], "%d/%m/%Y"),
                _money(r["Paid out"]) - _money(r["Paid in"]),
                None,
                r["Description"],
            )
            for r in reader
        ]
    if name == "credit_union.tsv":
        reader = csv.DictReader(path.open(encoding="utf-8", newline=""), delimiter="\t")
        return [
            (
                datetime.strptime(r["Booking Date"], "%m/%d/%Y"),
                _money(r["Debit"]) - _money(r["Credit"]),
                None,
                r["Payee"],
            )
            for r in reader
        ]
    if name == "eu_bank.csv":
        reader = csv.DictReader(path.open(encoding="utf-8-sig", newline=""), delimiter=";")
        return [
            (
                datetime.strptime(r["Buchungstag"], "%d.%m.%Y"),
                -_money(r["Betrag"].replace(".", "").replace(",", ".")),
                r["Kategorie"],
                r["Auftraggeber/Empfänger"],
            )
            for r in reader
        ]
    reader = csv.DictReader(path.open(encoding="utf-8", newline=""))
    if name == "us_card.csv":
        return [
            (
                datetime.strptime(r["Transaction Date"], "%m/%d/%Y"),
                -_money(r["Amount"]),
                r["Category"] or None,
                r["Description"],
            )
            for r in reader
        ]
    if name == "fintech.csv":
        return [
            (
                datetime.strptime(r["Started Date"], "%Y-%m-%d %H:%M:%S"),
                -_money(r["Amount"]),
                None,
                r["Description"],
            )
            for r in reader
            if r["State"] == "COMPLETED" and _money(r["Amount"])
        ]
    return [  # own_format.csv: the export's spreadsheet escape is removed on the way in
        (
            datetime.fromisoformat(r["timestamp"]),
            _money(r["amount"]),
            r["category"],
            r["description"][1:] if r["description"].startswith("'=") else r["description"],
        )
        for r in reader
    ]


@pytest.mark.parametrize(
    "name",
    [
        "us_card.csv",
        "uk_current.csv",
        "eu_bank.csv",
        "fintech.csv",
        "own_format.csv",
        "credit_union.tsv",
    ],
)
def test_every_shape_the_old_importer_reads_is_still_read_exactly(name):
    parsed = parse((OLD_DATA / name).read_bytes(), filename=name)

    rows = [(r.timestamp, r.amount, r.bank_category, r.description) for r in parsed.rows()]

    assert parsed.detection.undecided == []
    assert rows == _old_expected(name)


BAD_ROWS = {
    "malformed number": (
        b"Datum;Beschreibung;Betrag\n02.01.2025;B\xc3\xa4ckerei;-3,20\n03.01.2025;Kiosk;12,3x\n",
        {"line": 3, "column": "Betrag", "value": "12,3x", "reason": "not a number"},
    ),
    "date that does not exist": (
        b"date,amount,description\n2025-02-28,1.00,ok\n2025-02-30,2.00,x\n",
        {"line": 3, "column": "date", "value": "2025-02-30"},
    ),
    "three decimals": (
        b"date,amount\n2025-02-01,1.005\n2025-02-02,2.00\n",
        {"line": 2, "column": "amount", "reason": "more than 2 decimal places"},
    ),
    "year out of range": (b"date,amount\n1899-12-31,1.00\n", {"column": "date"}),
    "category too long": (
        f"date,amount,category\n2025-02-01,1.00,{'x' * 101}\n".encode(),
        {"column": "category", "reason": "longer than 100"},
    ),
    "missing amount": (
        b"date,amount\n2025-02-01,1.00\n2025-02-02,\n",
        {"line": 3, "reason": "missing"},
    ),
}


@pytest.mark.parametrize("name", BAD_ROWS)
def test_invalid_rows_are_listed_after_the_last_row(name):
    content, expected = BAD_ROWS[name]

    with pytest.raises(ParseFailed) as caught:
        list(parse(content).rows())

    assert caught.value.problem_count == 1
    assert caught.value.problems[0].as_dict().items() >= expected.items()
    assert "nothing was imported" in caught.value.message
    assert "Correct the listed rows" in caught.value.message


def test_at_most_100_problems_are_listed_with_the_total():
    rows = "".join(f"2025-01-{1 + i % 28:02d},abc{i}\n" for i in range(150))

    with pytest.raises(ParseFailed) as caught:
        list(parse(("date,amount\n2025-01-01,1.00\n" + rows).encode()).rows())

    assert caught.value.problem_count == 150 and len(caught.value.problems) == 100
    assert "give the mapping option" in caught.value.message
    assert caught.value.detail()["errors"][0] == {
        "line": 3,
        "column": "amount",
        "value": "abc0",
        "reason": "not a number",
    }


def test_sign_is_decided_by_the_balance_column_when_counts_are_even():
    content = (
        b"Date,Description,Amount,Balance\n"
        b"2025-01-01,Salary,1000.00,1000.00\n2025-01-02,Rent,-900.00,100.00\n"
        b"2025-01-03,Gift,50.00,150.00\n2025-01-04,Shop,-20.00,130.00\n"
    )
    parsed, rows = _rows(content)

    assert parsed.detection.amount_sign == "spend_negative"
    assert [r[2] for r in rows] == ["-1000.00", "900.00", "-50.00", "20.00"]


def test_an_even_sign_split_without_evidence_is_a_listed_guess_and_the_option_decides():
    content = b"Date,Description,Amount\n2025-01-02,Alpha,20.00\n2025-01-03,Beta,-9.00\n"
    parsed, rows = _rows(content)
    assert "amount_sign" in " ".join(parsed.detection.undecided)
    with pytest.raises(ParseFailed, match="amount_sign"):
        parsed.require_decided()
    confirmed, confirmed_rows = _rows(content, amount_sign="spend_positive")
    assert confirmed.detection.undecided == []
    assert [r[2] for r in confirmed_rows] == ["20.00", "-9.00"]


def test_ambiguous_dates_take_the_date_format_option():
    content = b"Date,Description,Amount\n01/02/2025,Bakery,-3.20\n03/04/2025,Cafe,-2.10\n"
    guessed, _ = _rows(content)
    _, rows = _rows(content, date_format="%m/%d/%Y")

    assert "date_format" in guessed.detection.undecided[0]
    assert [r[1] for r in rows] == [datetime(2025, 1, 2), datetime(2025, 3, 4)]


def test_a_mapping_by_header_names_reads_a_header_of_unknown_words():
    content = "when;what;how much\n02.01.2025;Bakery;-3,20\n03.01.2025;Salary;1.000,00\n"

    _, rows = _rows(
        content.encode(), mapping={"date": "when", "description": "what", "amount": "how much"}
    )

    assert rows == [
        (2, datetime(2025, 1, 2), "3.20", "Bakery", None),
        (3, datetime(2025, 1, 3), "-1000.00", "Salary", "income"),
    ]


def test_no_transactions_and_missing_columns_say_what_to_do():
    with pytest.raises(ParseFailed, match="no transactions"):
        list(parse(b"timestamp,amount,category,description\r\n").rows())
    with pytest.raises(ParseFailed, match="amount column"):
        parse(b"date,category,description\n2025-01-02,Food,Bakery\n")
    with pytest.raises(ParseFailed, match="not valid CSV near line 2"):
        list(parse(b"date,amount,description\n2025-01-02,1.00," + b"x" * 200_000 + b"\n").rows())


def _peak_while_reading(rows: int) -> tuple[int, int, Decimal]:
    lines = "".join(
        f"{1 + i % 28:02d}/{1 + i % 12:02d}/2024,Shop {i % 97},-{i % 500}.{i % 100:02d}\n"
        for i in range(rows)
    )
    content = ("Date,Description,Amount\n" + lines).encode()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    parsed = parse(io.BytesIO(content))
    total, count = Decimal(0), 0
    for row in parsed.rows():
        total += row.amount
        count += 1
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak, count, total


@pytest.mark.slow
def test_a_large_file_streams_in_bounded_memory(monkeypatch):
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 16 * 1024)  # both files span many chunks
    small_peak, _, _ = _peak_while_reading(2_000)
    peak, count, total = _peak_while_reading(6_000)

    expected = [Decimal(f"{i % 500}.{i % 100:02d}") for i in range(6_000)]
    assert count == sum(1 for value in expected if value) and total == sum(expected)
    # Three times the rows, about the same memory: nothing holds the whole file.
    assert peak < small_peak * 1.5


def test_day_month_order_is_decided_by_the_whole_file_beyond_the_sample(monkeypatch):
    monkeypatch.setattr(csvfile, "SCAN_SAMPLE_ROWS", 100)
    monkeypatch.setattr(encoding, "HEAD_BYTES", 1024)  # the head is not the whole file
    rows = "".join("05/06/2025,Bakery,-1.00\n" for _ in range(3000)) + "25/06/2025,Cafe,-2.00\n"

    parsed = parse(("Date,Description,Amount\n" + rows).encode())

    assert parsed.detection.undecided == []
    assert next(parsed.rows()).timestamp == datetime(2025, 6, 5)


def test_italian_spanish_and_portuguese_headers():
    _, italian = _file("italian-bank.csv")
    assert italian == [
        (2, datetime(2025, 3, 2), "45.30", "Pagamento POS ESSELUNGA", None),
        (3, datetime(2025, 3, 27), "-1850.00", "Stipendio marzo ACME SPA", "income"),
        (4, datetime(2025, 3, 28), "300.00", "Giroconto su conto deposito", "transfer"),
    ]
    spanish = (
        "Fecha;Concepto;Importe\n15/01/2025;Nómina enero;2.100,00\n16/01/2025;Mercadona;-54,20\n"
    )
    assert _rows(spanish.encode("cp1252"))[1] == [
        (2, datetime(2025, 1, 15), "-2100.00", "Nómina enero", "income"),
        (3, datetime(2025, 1, 16), "54.20", "Mercadona", None),
    ]
    portuguese = "Data,Histórico,Valor\n01/13/2025,Salário,3000.00\n01/14/2025,Padaria,-12.50\n"
    assert _rows(portuguese.encode())[1] == [
        (2, datetime(2025, 1, 13), "-3000.00", "Salário", "income"),
        (3, datetime(2025, 1, 14), "12.50", "Padaria", None),
    ]


def test_money_back_from_the_account_transfers_go_to_is_a_transfer_not_income():
    # A Knab-like export: the holder moves money to their own account 12345678 and it comes
    # back (listed before the transfer out); a friend's payment and the interest stay income.
    content = (
        "Datum;CreditDebet;Bedrag;Tegenrekeningnummer;Tegenrekeninghouder;Betaalwijze\n"
        "03-01-2025;C;500,00;12345678;J. Smit;Ontvangen betaling\n"
        "03-01-2025;C;20,00;87654321;A. de Vries;Ontvangen betaling\n"
        "02-01-2025;D;500,00;12345678;J. Smit;Overboeking\n"
        "02-01-2025;C;1,50;;Bank;Rente\n"
        "01-01-2025;D;12,00;NL11RABO0456;Bakker BV;Betaalautomaat\n"
    ).encode()

    _, rows = _rows(content)

    assert [(r[2], r[4]) for r in rows] == [
        ("-500.00", "transfer"),
        ("-20.00", None),
        ("500.00", "transfer"),
        ("-1.50", "income"),
        ("12.00", None),
    ]


def test_money_back_is_matched_by_name_when_no_account_number_is_written():
    content = (
        b"Date,Payee,Amount,Type\n"
        b"2025-01-03,Gert Janssen,250.00,Credit\n"
        b"2025-01-02,Gert Janssen (Savings),-250.00,Transfer to own account\n"
        b"2025-01-01,Corner Shop,-4.00,Card\n"
    )

    _, rows = _rows(content)

    assert [(r[2], r[4]) for r in rows] == [
        ("-250.00", "transfer"),
        ("250.00", "transfer"),
        ("4.00", None),
    ]


@pytest.mark.parametrize(
    "content",
    [
        # A decimal comma, ';'-separated (the European way of writing a file).
        "Datum;Omschrijving;Bedrag\n01/02/2025;Bakker;-3,20\n01/02/2025;Markt;-2,10\n",
        # The amounts in rupees, named in the header.
        "Date,Details,Amount(in Rs)\n01/02/2025,SWIGGY,449.00\n01/02/2025,AMAZON,165.72\n",
        # A currency column.
        "Date,Details,Amount,Currency\n01/02/2025,Cafe,-3.20,GBP\n01/02/2025,Bus,-2.10,GBP\n",
        # A value date beside the transaction date, with a day above 12.
        "Date,Value date,Details,Amount\n01/02/2025,13/02/2025,Cafe,-3.20\n"
        "01/02/2025,01/02/2025,Bus,-2.10\n",
    ],
)
def test_ambiguous_dates_are_decided_by_the_rest_of_the_file(content):
    parsed, rows = _rows(content.encode())

    assert parsed.detection.undecided == []
    assert [r[1] for r in rows] == [datetime(2025, 2, 1)] * 2


def test_usd_alone_picks_month_first_but_leaves_it_to_confirm():
    content = b"Date,Details,Amount,Currency\n05/03/2021,Fee,-1.00,USD\n05/03/2021,In,2.00,USD\n"
    guessed, rows = _rows(content)

    assert "because the amounts are in USD" in guessed.detection.undecided[0]
    assert {r[1] for r in rows} == {datetime(2021, 5, 3)}


def test_every_row_of_a_small_file_is_evidence_not_only_the_sample():
    # 250 rows (under 64 KB, more than the layout's 200-row sample): the only day above 12
    # is in the last row.
    lines = ["Date,Description,Amount"] + [f"01/02/2025,Shop {i},-1.00" for i in range(249)]
    content = ("\n".join(lines + ["01/13/2025,Shop,-1.00"]) + "\n").encode()

    parsed, rows = _rows(content)

    assert parsed.detection.date_format == "MM/DD/YYYY" and parsed.detection.undecided == []
    assert rows[0][1] == datetime(2025, 1, 2) and len(rows) == 250


def test_money_back_from_someone_paid_by_a_bare_transfer_stays_income():
    # "Transfer" alone is as often a payment to a person: their money in is not a transfer.
    content = (
        b"Date,Payee,Amount,Type\n"
        b"2025-01-03,Anna Berg,40.00,Credit\n"
        b"2025-01-02,Anna Berg,-25.00,Transfer\n"
        b"2025-01-01,Corner Shop,-4.00,Card\n"
    )

    _, rows = _rows(content)

    assert [(r[2], r[4]) for r in rows] == [("-40.00", None), ("25.00", "transfer"), ("4.00", None)]
