"""The import's newer options (mapping, has_header, encoding), the bank's own ids as the
duplicate key, the rows skipped on purpose, and the preview that stores nothing.

Expected rows are written out by hand from each small file below.
"""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from spending_api.ingest.model import ROLES

INGEST_DATA = Path(__file__).resolve().parents[1] / "ingest" / "data"

HEADERLESS = b"2025-02-03,GROCERY STORE 123,54.20\n2025-02-05,COFFEE BAR,4.10\n"
PREAMBLE = (INGEST_DATA / "debit-credit-preamble.csv").read_bytes()
OFX = (INGEST_DATA / "checking-ofx1.ofx").read_bytes()


def test_mapping_by_column_index_reads_a_headerless_file(make_user, upload, stored):
    user = make_user()
    mapping = json.dumps({"date": 0, "description": 1, "amount": 2})

    response = upload(user, HEADERLESS, mapping=mapping, has_header="false")

    assert response.status_code == 200, response.text
    assert stored(user) == [
        (datetime(2025, 2, 3), Decimal("54.20"), "Uncategorized", "GROCERY STORE 123"),
        (datetime(2025, 2, 5), Decimal("4.10"), "Uncategorized", "COFFEE BAR"),
    ]


def test_mapping_by_header_text_overrides_the_detected_column(make_user, upload, stored):
    user, other = make_user(), make_user()
    content = b"Date,Memo,Merchant,Amount\n2025-02-03,card 1234,BAKERY,3.20\n"

    by_default = upload(other, content)
    mapped = upload(user, content, mapping=json.dumps({"payee": "Memo"}))

    assert by_default.status_code == 200, by_default.text
    assert mapped.status_code == 200, mapped.text
    assert [row[3] for row in stored(other)] == ["BAKERY"]
    assert [row[3] for row in stored(user)] == ["card 1234"]


def test_encoding_option_reads_a_cp1252_file(make_user, upload, stored):
    user = make_user()
    content = "Datum;Beschreibung;Betrag\n02.01.2025;Bäckerei Müller;-3,20\n".encode("cp1252")

    response = upload(user, content, encoding="cp1252")

    assert response.status_code == 200, response.text
    assert stored(user) == [
        (datetime(2025, 1, 2), Decimal("3.20"), "Uncategorized", "Bäckerei Müller")
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mapping": "{not json"}, "mapping must be a JSON object"),
        ({"mapping": "[1, 2]"}, "mapping must be a JSON object"),
        ({"mapping": '{"date": true}'}, "mapping must be a JSON object"),
        ({"mapping": '{"date": null}'}, "mapping must be a JSON object"),
        ({"mapping": '{"when": 0}'}, "Unknown role 'when'"),
        ({"mapping": '{"amount": 9}'}, "outside the file's 3 columns"),
        ({"mapping": '{"amount": "Betrag"}'}, "'Betrag' is not a column of the file"),
        ({"encoding": "no-such-codec"}, "Unknown encoding 'no-such-codec'"),
        ({"encoding": "base64"}, "Unknown encoding 'base64'"),
        ({"date_format": "%H:%M"}, "date_format must be a strftime pattern"),
    ],
)
@pytest.mark.parametrize("route", ["import", "preview"])
def test_a_bad_option_is_a_clear_422(route, params, message, make_user, upload, preview, stored):
    user = make_user()
    send = upload if route == "import" else preview

    response = send(user, b"date,amount,description\n2025-01-02,1.00,Shop\n", **params)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert set(detail) == {"message", "error_count", "errors"}
    assert message in detail["message"]
    assert stored(user) == []


def test_a_bad_option_type_is_fastapis_422(make_user, upload):
    response = upload(make_user(), b"date,amount\n2025-01-02,1.00\n", has_header="maybe")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "has_header"]


def test_rows_left_out_on_purpose_are_listed_with_line_and_reason(make_user, upload, stored):
    user = make_user()

    response = upload(user, PREAMBLE, filename="bank.csv")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["inserted"], answer["skipped_duplicates"], answer["total_rows"]) == (3, 0, 3)
    assert [row["line"] for row in answer["skipped_rows"]] == [6, 9, 10]
    assert answer["skipped_row_count"] == 3
    assert answer["skipped_rows"][0]["reason"].startswith("continuation of line 5")
    assert answer["skipped_rows"][2]["reason"].startswith("balance or summary row")
    assert [(row[1], row[3]) for row in stored(user)] == [
        (Decimal("23.45"), "SUPERSTORE LONDON GB"),
        (Decimal("-1800.00"), "ACME LTD SALARY"),
        (Decimal("300.00"), "TRANSFER TO SAVINGS"),
    ]


def test_ofx_imports_and_its_fitid_is_the_duplicate_key(make_user, upload, stored):
    user = make_user()

    first = upload(user, OFX, filename="checking.ofx").json()
    # The bank renames a payee between two downloads: the FITID still says it is the same.
    renamed = OFX.replace(b"<NAME>CORNER GROCERY #12", b"<NAME>CORNER GROCERY 12 LTD")
    second = upload(user, renamed, filename="checking.ofx").json()

    assert (first["inserted"], first["total_rows"]) == (4, 4)
    assert (second["inserted"], second["skipped_duplicates"]) == (0, 4)
    assert sorted(row[1] for row in stored(user)) == [
        Decimal("-2150.00"),
        Decimal("42.17"),
        Decimal("120.00"),
        Decimal("500.00"),
    ]


def test_a_fitid_stored_once_stays_one_transaction_when_the_bank_moves_its_date(
    make_user, upload, stored
):
    user = make_user()
    upload(user, OFX, filename="checking.ofx")
    # The bank posts a pending purchase days later: same FITID, another date.
    posted = OFX.replace(b"<DTPOSTED>20250214", b"<DTPOSTED>20250218")

    again = upload(user, posted, filename="checking.ofx").json()

    assert (again["inserted"], again["skipped_duplicates"]) == (0, 4)
    assert sorted(row[0].date().isoformat() for row in stored(user)) == [
        "2025-02-03",
        "2025-02-14",
        "2025-02-15",
        "2025-02-20",
    ]


def test_the_same_fitid_twice_in_one_file_is_one_transaction(make_user, upload, stored):
    user = make_user()
    twice = OFX.replace(b"<FITID>202502150001", b"<FITID>202502030001")

    answer = upload(user, twice, filename="checking.ofx").json()

    assert (answer["inserted"], answer["skipped_duplicates"], answer["total_rows"]) == (3, 1, 4)
    # The file's first row with the id is the one kept: the grocery, not the transfer.
    assert sorted((row[1], row[3]) for row in stored(user)) == [
        (Decimal("-2150.00"), "ACME CORP PAYROLL"),
        (Decimal("42.17"), "CORNER GROCERY #12"),
        (Decimal("120.00"), "CHECK 1043"),
    ]


def test_rows_without_an_id_keep_the_fingerprint_key(make_user, upload, stored):
    user = make_user()
    content = b"Date,Description,Amount\n2025-03-01,Shop,-1.50\n2025-03-01,Shop,-1.50\n"

    first = upload(user, content).json()
    again = upload(user, content).json()

    assert (first["inserted"], again["inserted"], again["skipped_duplicates"]) == (2, 0, 2)
    assert len(stored(user)) == 2


def test_preview_answers_the_detection_and_rows_and_stores_nothing(make_user, preview, stored):
    user = make_user()

    response = preview(user, PREAMBLE, filename="bank.csv")

    assert response.status_code == 200, response.text
    answer = response.json()
    detection = answer["detection"]
    assert detection["format"] == "csv"
    assert detection["delimiter"] == ","
    assert detection["header_line"] == 4
    assert detection["header"] == [
        "Date",
        "Transaction type",
        "Description",
        "Paid out",
        "Paid in",
        "Balance",
    ]
    roles = {column["name"]: column["role"] for column in detection["columns"]}
    assert roles == {
        "Date": "date",
        "Transaction type": "type",
        "Description": "description",
        "Paid out": "debit",
        "Paid in": "credit",
        "Balance": "balance",
    }
    assert detection["mapping"]["date"] == [0]
    assert detection["date_format"] == "DD Mon YYYY"
    assert detection["undecided"] == []
    # Every role the mapping option takes, for a form to offer (the dashboard keeps no copy).
    assert detection["roles"] == list(ROLES) and "counter_account" in detection["roles"]
    assert [(row["line"], row["amount"], row["description"]) for row in answer["rows"]] == [
        (5, 23.45, "SUPERSTORE LONDON GB"),
        (7, -1800.0, "ACME LTD SALARY"),
        (8, 300.0, "TRANSFER TO SAVINGS"),
    ]
    assert answer["rows"][0]["timestamp"] == "2025-03-03T00:00:00"
    assert [row["line"] for row in answer["skipped_rows"]] == [6, 9, 10]
    assert (answer["problems"], answer["problem_count"], answer["message"]) == ([], 0, None)
    assert stored(user) == []


def test_preview_shows_at_most_20_rows_and_the_problems(make_user, preview):
    rows = "".join(f"2025-01-{1 + i % 28:02d},Shop {i},{i + 1}.00\n" for i in range(30))
    content = ("Date,Description,Amount\n" + rows + "2025-01-02,Bad,abc\n").encode()

    answer = preview(make_user(), content).json()

    assert len(answer["rows"]) == 20
    assert answer["rows"][19]["description"] == "Shop 19"
    assert answer["problem_count"] == 1
    assert answer["problems"] == [
        {"line": 32, "column": "Amount", "value": "abc", "reason": "not a number"}
    ]
    assert "1 row is invalid" in answer["message"]


def test_preview_of_a_headerless_file_says_what_to_confirm(make_user, preview):
    answer = preview(make_user(), HEADERLESS).json()

    detection = answer["detection"]
    assert detection["header"] is None and detection["header_line"] is None
    assert detection["undecided"]
    assert "mapping" in " ".join(detection["undecided"])
    assert answer["message"] == " ".join(detection["undecided"])


def test_preview_of_an_ofx_file(make_user, preview):
    answer = preview(make_user(), OFX, filename="checking.ofx").json()

    assert answer["detection"]["format"] == "ofx"
    assert [row["external_id"] for row in answer["rows"]] == [
        "202502030001",
        "202502140001",
        "202502150001",
        "202502200001",
    ]


def test_preview_needs_authentication(client):
    response = client.post("/transactions/import/preview", files={"file": ("a.csv", b"x")})

    assert response.status_code == 401


def test_preview_of_an_unreadable_file_is_422(make_user, preview):
    response = preview(make_user(), b"")

    assert response.status_code == 422
    assert response.json()["detail"]["message"] == "The file is empty."
