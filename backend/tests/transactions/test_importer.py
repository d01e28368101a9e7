"""CSV import: real-world export shapes, bad files, duplicates, options and the size limit.

Each fixture file's expected rows are computed here with the csv module and the
format written out by hand, independently of the importer's sniffing.
"""

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spending_api import cli, errors
from spending_api.accounts.repository import default_account_id
from spending_api.main import create_app
from spending_api.transactions.importer import ImportOptions, import_csv
from testkit import ledger_lock

CENT = Decimal("0.01")


def _money(text: str) -> Decimal:
    return Decimal(text).quantize(CENT)


# Money in of the fixtures, classified by reading each line: what the file says it is.
# Refunds stay under a spending category (they lower spending); anything else would be
# "Uncategorized income".
MONEY_IN = {
    "Payment Thank You-Mobile": "Credit card payment",  # the card's Type: Payment
    "ACME LTD SALARY": "Salary",
    "PAYROLL ACME INC": "Salary",  # DIRECT DEP
    "Top-Up by *4821": "Transfer",  # TOPUP from the user's own card
    "AMAZON.CO.UK": "Uncategorized",  # Visa refund
    "Steam Games": "Uncategorized",  # CARD_REFUND
    "HOME DEPOT 4410": "Uncategorized",  # POS RETURN
}


def _classified(rows: list[tuple]) -> list[tuple]:
    return [
        (
            when,
            amount,
            MONEY_IN[text] if amount < 0 and category == "Uncategorized" else category,
            text,
        )
        for when, amount, category, text in rows
    ]


def _counts(answer: dict) -> dict:
    """The answer's counts and skipped rows, without the import's and account's ids."""
    assert isinstance(answer.pop("import_id"), int) and isinstance(answer.pop("account_id"), int)
    assert answer.pop("profile_used") is False
    return answer


def _us_card(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            (
                datetime.strptime(row["Transaction Date"], "%m/%d/%Y"),
                -_money(row["Amount"]),  # the card writes purchases as negative
                row["Category"] or "Uncategorized",
                row["Description"],
            )
            for row in csv.DictReader(stream)
        ]


def _uk_current(path: Path) -> list[tuple]:
    def pounds(text: str) -> Decimal:
        return _money(text.replace("£", "").replace(",", "")) if text else Decimal(0)

    with path.open(encoding="utf-8", newline="") as stream:
        lines = stream.read().splitlines()[4:]  # account preamble and a blank line
    return [
        (
            datetime.strptime(row["Date"], "%d/%m/%Y"),
            pounds(row["Paid out"]) - pounds(row["Paid in"]),
            "Uncategorized",
            row["Description"],
        )
        for row in csv.DictReader(lines)
    ]


def _eu_bank(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [
            (
                datetime.strptime(row["Buchungstag"], "%d.%m.%Y"),
                -_money(row["Betrag"].replace(".", "").replace(",", ".")),
                row["Kategorie"],
                row["Auftraggeber/Empfänger"],
            )
            for row in csv.DictReader(stream, delimiter=";")
        ]


def _fintech(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            (
                datetime.strptime(row["Started Date"], "%Y-%m-%d %H:%M:%S"),
                -_money(row["Amount"]),
                "Uncategorized",
                row["Description"],
            )
            for row in csv.DictReader(stream)
        ]


def _own_format(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            (
                datetime.fromisoformat(row["timestamp"]),
                _money(row["amount"]),
                row["category"],
                # The export's spreadsheet escape is removed on the way in.
                (row["description"][1:] if row["description"].startswith("'=") else None)
                or row["description"]
                or None,
            )
            for row in csv.DictReader(stream)
        ]


def _credit_union(path: Path) -> list[tuple]:
    def dollars(text: str) -> Decimal:
        return _money(text.replace(",", "")) if text else Decimal(0)

    with path.open(encoding="utf-8", newline="") as stream:
        return [
            (
                datetime.strptime(row["Booking Date"], "%m/%d/%Y"),
                dollars(row["Debit"]) - dollars(row["Credit"]),
                "Uncategorized",
                row["Payee"],
            )
            for row in csv.DictReader(stream, delimiter="\t")
        ]


FIXTURES = {
    "us_card.csv": _us_card,
    "uk_current.csv": _uk_current,
    "eu_bank.csv": _eu_bank,
    "fintech.csv": _fintech,
    "own_format.csv": _own_format,
    "credit_union.tsv": _credit_union,
}


@pytest.mark.parametrize("filename", FIXTURES)
def test_real_world_shapes_import_exactly(
    filename, data_dir, make_user, upload, stored, rollup_total
):
    path = data_dir / filename
    expected = _classified(FIXTURES[filename](path))
    user = make_user()

    response = upload(user, path.read_bytes(), filename=filename)

    assert response.status_code == 200, response.text
    assert _counts(response.json()) == {
        "inserted": len(expected),
        "skipped_duplicates": 0,
        "total_rows": len(expected),
        "skipped_rows": [],
        "skipped_row_count": 0,
    }
    assert sorted(stored(user), key=repr) == sorted(expected, key=repr)
    total = sum((row[1] for row in expected), Decimal(0))
    assert rollup_total(user) == (total, len(expected))


def test_reimport_skips_everything_and_keeps_identical_rows(data_dir, make_user, upload, stored):
    user = make_user()
    content = (data_dir / "us_card.csv").read_bytes()

    first = _counts(upload(user, content).json())
    second = _counts(upload(user, content).json())

    nothing_left_out = {"skipped_rows": [], "skipped_row_count": 0}
    assert first == {"inserted": 14, "skipped_duplicates": 0, "total_rows": 14, **nothing_left_out}
    assert second == {"inserted": 0, "skipped_duplicates": 14, "total_rows": 14, **nothing_left_out}
    coffees = [row for row in stored(user) if row[3] == "STARBUCKS STORE 05123"]
    assert len(coffees) == 2  # two identical purchases on one day are both kept


def test_overlapping_export_adds_only_new_rows(make_user, upload, stored):
    user = make_user()
    header = "Date,Description,Amount\n"
    lines = [f"2025-03-{day:02d},Shop {day},-{day}.50\n" for day in range(1, 11)]

    first = _counts(upload(user, (header + "".join(lines[:6])).encode()).json())
    second = _counts(upload(user, (header + "".join(lines[3:])).encode()).json())

    assert first["inserted"] == 6
    assert second == {
        "inserted": 4,
        "skipped_duplicates": 3,
        "total_rows": 7,
        "skipped_rows": [],
        "skipped_row_count": 0,
    }
    assert len(stored(user)) == 10


def _semicolon_file(*rows: str) -> bytes:
    return ("Datum;Beschreibung;Betrag\n" + "\n".join(rows) + "\n").encode()


BAD_FILES = {
    "empty": (b"", "empty"),
    "header only": (b"timestamp,amount,category,description\r\n", "no transactions"),
    "declared encoding that does not fit": (
        "date,amount,description\n2025-01-02,3.50,Crème brûlée\n".encode("latin-1"),
        "not valid utf-8 text",
        {"encoding": "utf-8"},
    ),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20, "binary"),
    "missing amount column": (
        b"date,category,description\n2025-01-02,Food,Bakery\n",
        "No header row with an amount column",
    ),
    "missing date column": (
        b"amount,description\n3.50,Bakery\n",
        "No header row with a date column",
    ),
    "unrecognised dates": (b"date,amount\nyesterday,3.50\nlast week,4.00\n", "not recognised"),
    "a field too large for CSV": (
        b"date,amount,description\n2025-01-02,1.00," + b"x" * 200_000 + b"\n",
        "not valid CSV",
    ),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_are_rejected_with_a_clear_message(name, make_user, upload, stored):
    content, message, *options = BAD_FILES[name]
    user = make_user()

    response = upload(user, content, **(options[0] if options else {}))

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert message in detail["message"]
    assert set(detail) == {"message", "error_count", "errors"}
    assert stored(user) == []


# Files the old importer refused as "not UTF-8", which banks in DE/NL/AT/BR write every day.
OTHER_ENCODINGS = {
    "latin-1": (
        "date,amount,category,description\n2025-01-02,3.50,Café,Crème brûlée\n".encode("latin-1"),
        [(datetime(2025, 1, 2), Decimal("3.50"), "Café", "Crème brûlée")],
    ),
    "utf-16": (
        "date,amount\n2025-01-02,3.50\n".encode("utf-16"),
        [(datetime(2025, 1, 2), Decimal("3.50"), "Uncategorized", None)],
    ),
    "cp1252 after the first 64 KB": (
        b"date,amount,description\n"
        + b"2025-01-02,1.00,Bakery\n" * 4000
        + "2025-01-03,2.00,Café\n".encode("cp1252"),
        [(datetime(2025, 1, 3), Decimal("2.00"), "Uncategorized", "Café")],
    ),
}


@pytest.mark.parametrize("name", OTHER_ENCODINGS)
def test_files_in_other_encodings_import_exactly(name, make_user, upload, stored):
    content, last_rows = OTHER_ENCODINGS[name]
    user = make_user()

    response = upload(user, content)

    assert response.status_code == 200, response.text
    assert stored(user)[-len(last_rows) :] == last_rows


BAD_ROWS = {
    "malformed number": (
        _semicolon_file("02.01.2025;Bäckerei;-3,20", "03.01.2025;Kiosk;12,3x"),
        {"line": 3, "column": "Betrag", "value": "12,3x", "reason": "not a number"},
    ),
    "date that does not exist": (
        b"date,amount,category,description\n2025-02-28,1.00,Food,ok\n2025-02-30,2.00,Food,x\n",
        {"line": 3, "column": "date", "value": "2025-02-30"},
    ),
    "three decimals": (
        b"date,amount\n2025-02-01,1.005\n",
        {"line": 2, "column": "amount", "reason": "more than 2 decimal places"},
    ),
    "too large": (b"date,amount\n2025-02-01,10000000000.00\n", {"reason": "amount too large"}),
    "year out of range": (b"date,amount\n1899-12-31,1.00\n", {"column": "date"}),
    "category too long": (
        f"date,amount,category\n2025-02-01,1.00,{'x' * 101}\n".encode(),
        {"column": "category", "reason": "longer than 100"},
    ),
    "NUL in description": (
        b'date,amount,description\n2025-02-01,1.00,"a\\x00b"\n'.replace(b"\\x00", b"\x00"),
        None,
    ),
    "missing amount": (b"date,amount\n2025-02-01,1.00\n2025-02-02,\n", {"reason": "missing"}),
}


@pytest.mark.parametrize("name", BAD_ROWS)
def test_invalid_rows_store_nothing_and_are_listed(name, make_user, upload, stored):
    content, expected_error = BAD_ROWS[name]
    user = make_user()

    response = upload(user, content)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    if expected_error is not None:
        assert detail["error_count"] == 1
        error = detail["errors"][0]
        assert error.items() >= expected_error.items()
        assert set(error) == {"line", "column", "value", "reason"}
    assert stored(user) == []


def test_at_most_100_errors_are_listed_with_the_total(make_user, upload, stored):
    user = make_user()
    rows = "".join(f"2025-01-{1 + i % 28:02d},abc{i}\n" for i in range(150))

    detail = upload(user, ("date,amount\n2025-01-01,1.00\n" + rows).encode()).json()["detail"]

    assert detail["error_count"] == 150
    assert len(detail["errors"]) == 100
    assert detail["errors"][0] == {
        "line": 3,
        "column": "amount",
        "value": "abc0",
        "reason": "not a number",
    }
    assert stored(user) == []


def test_ambiguous_dates_need_the_date_format_option(make_user, upload, stored):
    user = make_user()
    content = b"Date,Description,Amount\n01/02/2025,Bakery,-3.20\n03/04/2025,Cafe,-2.10\n"

    refused = upload(user, content)
    accepted = upload(user, content, date_format="%d/%m/%Y")

    assert refused.status_code == 422
    assert "date_format" in refused.json()["detail"]["message"]
    assert accepted.status_code == 200, accepted.text
    assert [row[0] for row in stored(user)] == [datetime(2025, 2, 1), datetime(2025, 4, 3)]


def test_day_month_order_is_decided_by_the_whole_file(make_user, upload, stored):
    user = make_user()
    rows = "".join("05/06/2025,Bakery,-1.00\n" for _ in range(3000)) + "25/06/2025,Cafe,-2.00\n"

    response = upload(user, ("Date,Description,Amount\n" + rows).encode())

    assert response.status_code == 200, response.text
    assert stored(user)[0][0] == datetime(2025, 6, 5)


def test_ambiguous_sign_needs_the_amount_sign_option(make_user, upload, stored):
    user = make_user()
    # One row each way and no word that says which is money in.
    content = b"Date,Description,Amount\n2025-01-02,Shop A,2000.00\n2025-01-03,Shop B,-900.00\n"

    refused = upload(user, content)
    accepted = upload(user, content, amount_sign="spend_negative")

    assert refused.status_code == 422
    assert "amount_sign" in refused.json()["detail"]["message"]
    assert accepted.status_code == 200, accepted.text
    assert [row[1] for row in stored(user)] == [Decimal("-2000.00"), Decimal("900.00")]


def test_spend_positive_option_keeps_signs(make_user, upload, stored):
    user = make_user()
    content = b"Date,Description,Amount\n2025-01-02,Shop,-5.00\n2025-01-03,Shop,-6.00\n"

    response = upload(user, content, amount_sign="spend_positive")

    assert response.status_code == 200
    assert [row[1] for row in stored(user)] == [Decimal("-5.00"), Decimal("-6.00")]


def test_mixed_currencies_are_rejected(make_user, upload, stored):
    user = make_user()
    content = b"Date,Description,Amount,Currency\n2025-01-02,A,-1.00,EUR\n2025-01-03,B,-2.00,USD\n"

    response = upload(user, content)

    assert response.status_code == 422
    assert "currencies" in response.json()["detail"]["message"]
    assert stored(user) == []


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ('"1,234.56"', "1234.56"),
        ('"$1,234.56"', "1234.56"),
        ("(12.30)", "-12.30"),
        ("EUR 7.00", "7.00"),
        ("−4.20", "-4.20"),
        ("+3", "3.00"),
    ],
)
def test_amount_notations(cell, amount, make_user, upload, stored):
    user = make_user()

    response = upload(user, f"date,amount,category\n2025-01-02,{cell},Food\n".encode())

    assert response.status_code == 200, response.text
    assert stored(user)[0][1] == Decimal(amount)


def test_decimal_comma_with_thousands_and_time_of_day(make_user, upload, stored):
    user = make_user()
    content = "Date\tDescription\tAmount\n15/03/2025 18:45\tMöbel Haus\t-1.299,90\n".encode()

    response = upload(user, content)

    assert response.status_code == 200, response.text
    assert stored(user) == [
        (datetime(2025, 3, 15, 18, 45), Decimal("1299.90"), "Uncategorized", "Möbel Haus")
    ]


def test_bad_date_format_option_is_refused(make_user, upload):
    user = make_user()

    response = upload(user, b"date,amount\n2025-01-02,1.00\n", date_format="%H:%M")

    assert response.status_code == 422
    assert "date_format" in response.json()["detail"]["message"]


def test_import_needs_authentication(client):
    response = client.post("/transactions/import", files={"file": ("a.csv", b"date,amount\n")})

    assert response.status_code == 401


def test_garbage_bodies_are_client_errors(client, make_user, auth_headers):
    headers = auth_headers(make_user())

    not_multipart = client.post("/transactions/import", headers=headers, content=b"\x00garbage")
    broken = client.post(
        "/transactions/import",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
    )

    assert 400 <= not_multipart.status_code < 500
    assert 400 <= broken.status_code < 500


@pytest.fixture
def small_limit_client(settings, database):
    limited = settings.model_copy(update={"max_upload_bytes": 1000})
    with TestClient(create_app(settings=limited, database=database)) as client:
        yield client


def _rows(count: int) -> bytes:
    lines = "".join(f"2025-01-{1 + i % 28:02d},{i + 1}.00,Food,Shop {i}\n" for i in range(count))
    return ("date,amount,category,description\n" + lines).encode()


def test_upload_over_the_limit_is_413(small_limit_client, make_user, auth_headers, stored):
    user = make_user()
    headers = auth_headers(user)

    big = small_limit_client.post(
        "/transactions/import", headers=headers, files={"file": ("a.csv", _rows(2000))}
    )
    just_over = small_limit_client.post(
        "/transactions/import", headers=headers, files={"file": ("a.csv", _rows(40)[:1001])}
    )
    small = small_limit_client.post(
        "/transactions/import", headers=headers, files={"file": ("a.csv", _rows(10))}
    )

    assert big.status_code == 413
    assert big.json() == {"detail": errors.UPLOAD_TOO_LARGE}
    assert just_over.status_code == 413
    assert small.status_code == 200, small.text
    assert len(stored(user)) == 10


def test_upload_limit_holds_without_content_length(small_limit_client, make_user, auth_headers):
    user = make_user()
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + _rows(20000)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks():
        view = io.BytesIO(body)
        while chunk := view.read(8192):
            yield chunk

    response = small_limit_client.post(
        "/transactions/import",
        headers={
            **auth_headers(user),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=chunks(),
    )

    assert response.status_code == 413


def test_cli_import_uses_the_same_importer(
    data_dir, settings, make_user, stored, monkeypatch, capsys
):
    user = make_user()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)

    ok = cli.main(["import-csv", user.username, str(data_dir / "eu_bank.csv")])
    again = cli.main(["import-csv", user.username, str(data_dir / "eu_bank.csv")])
    output = capsys.readouterr().out

    assert (ok, again) == (0, 0)
    assert "12 inserted, 0 skipped" in output
    assert "0 inserted, 12 skipped" in output
    assert len(stored(user)) == 12


def test_cli_import_into_a_named_account_creates_it_once(
    data_dir, settings, make_user, database, monkeypatch, capsys
):
    from sqlalchemy import select

    from spending_api.models import Account, Transaction

    user = make_user()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    path = str(data_dir / "eu_bank.csv")

    first = cli.main(["import-csv", user.username, path, "--account", "Giro"])
    second = cli.main(["import-csv", user.username, path, "--account", "Giro"])
    other = cli.main(["import-csv", user.username, path])
    refused = cli.main(["import-csv", user.username, path, "--account", " "])

    assert (first, second, other, refused) == (0, 0, 0, 1)
    assert "--account needs a name" in capsys.readouterr().err
    with database.session() as session:
        accounts = session.execute(
            select(Account.name, Account.id).where(Account.user_id == user.id)
        ).all()
        per_account = session.execute(
            select(Transaction.account_id, Transaction.id).where(Transaction.user_id == user.id)
        ).all()
    assert [name for name, _ in accounts] == ["Giro"]  # and the default is the first
    counts = {}
    for account_id, _ in per_account:
        counts[account_id] = counts.get(account_id, 0) + 1
    assert counts == {accounts[0][1]: 12}  # the same file twice in one account: once


def test_cli_import_reports_row_errors(tmp_path, settings, make_user, stored, monkeypatch, capsys):
    user = make_user()
    bad = tmp_path / "bad.csv"
    bad.write_text("date,amount\n2025-01-02,1.00\n2025-02-30,2.00\n")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)

    status = cli.main(["import-csv", user.username, str(bad)])

    assert status == 1
    assert "line 3, date '2025-02-30'" in capsys.readouterr().err
    assert stored(user) == []


def test_cli_import_takes_the_mapping_and_header_options(
    tmp_path, settings, make_user, stored, monkeypatch, capsys
):
    user = make_user()
    headerless = tmp_path / "card.csv"
    headerless.write_text("2025-02-03,GROCERY STORE,54.20\n2025-02-05,COFFEE BAR,0.00\n")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    mapping = '{"date": 0, "description": 1, "amount": 2}'

    unconfirmed = cli.main(["import-csv", user.username, str(headerless)])
    refused_mapping = cli.main(["import-csv", user.username, str(headerless), "--mapping", "[0]"])
    status = cli.main(
        ["import-csv", user.username, str(headerless), "--mapping", mapping, "--no-has-header"]
    )
    captured = capsys.readouterr()

    assert (unconfirmed, refused_mapping, status) == (1, 1, 0)
    assert "mapping must be a JSON object" in captured.err
    assert "1 inserted, 0 skipped" in captured.out
    assert "line 2 left out: zero amount (0.00)" in captured.out
    assert stored(user) == [
        (datetime(2025, 2, 3), Decimal("54.20"), "Uncategorized", "GROCERY STORE")
    ]


def test_two_first_imports_into_one_account_take_turns(data_dir, make_user, database, stored):
    # Both see an account without keys when they start; the second waits for the first
    # and then skips every row (a plain insert of both would break the unique key).
    user = make_user()
    with database.session() as session:  # so the second does not wait on its creation
        default_account_id(session, user_id=user.id)
        session.commit()
    content = (data_dir / "us_card.csv").read_bytes()

    def import_file(session):
        return import_csv(
            session, user_id=user.id, stream=io.BytesIO(content), options=ImportOptions()
        )

    def second(session) -> None:
        second.result = import_file(session)

    with database.session() as session:
        first = import_file(session)
        other = ledger_lock.InThread(database, second)
        ledger_lock.wait_until_blocked(database, user_id=user.id, seconds=30)
        session.commit()
    other.join()

    assert other.error is None, repr(other.error)
    second_result = second.result
    assert (first.inserted, first.skipped_duplicates) == (14, 0)
    assert (second_result.inserted, second_result.skipped_duplicates) == (0, 14)
    assert len(stored(user)) == 14
