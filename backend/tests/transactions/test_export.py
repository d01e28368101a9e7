"""CSV export: format, filters, formula neutralisation and the export -> import round trip."""

import csv
import io

import pytest

from spending_api.categories.repository import create_default_categories
from spending_api.transactions.exporter import neutralise, restore

ROWS = [
    ("2024-01-31T08:15:00", "12.30", "Groceries", "Corner Grocer"),
    ("2024-02-29T12:00:00", "1250.00", "Rent", "Monthly rent"),
    ("2024-02-29T12:00:00", "1250.00", "Rent", "Monthly rent"),
    ("2024-03-01T19:45:30", "-20.00", "Shopping", "Refund - Home & Co"),
    ("2024-03-02T10:00:00", "5.10", "Dining out", "=SUM(A1:A9)"),
    ("2024-03-03T10:00:00", "7.00", "+Plus", "+44 20 7946 0000"),
    ("2024-03-04T10:00:00", "0.99", "Apps", "-5% promo"),
    ("2024-03-05T10:00:00", "3.00", "@Home", "@mention"),
    ("2024-03-06T10:00:00", "4.00", "Quotes", "'=already quoted"),
    ("2024-03-07T10:00:00", "8.00", "Quotes", "'plain apostrophe"),
    ("2024-03-08T10:00:00", "9.99", "Transport", None),
    ("2024-04-10T23:59:59", "100.01", "Groceries", 'Say "cheese", please\nsecond line'),
]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.fixture
def new_user(database, make_user):
    """A user with the default categories, as a signed-up user has them: the refund-only
    Shopping is a spending category for the owner and for its copy alike."""

    def make():
        user = make_user()
        with database.session() as session:
            create_default_categories(session, user_id=user.id)
            session.commit()
        return user

    return make


@pytest.fixture
def owner(new_user, add_transactions):
    user = new_user()
    add_transactions(user, ROWS)
    return user


def test_export_is_a_streamed_csv_in_the_own_format(client, owner, auth_headers):
    response = client.get("/transactions/export", headers=auth_headers(owner))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="transactions.csv"'
    rows = _csv(response)
    assert rows[0] == ["timestamp", "amount", "category", "description"]
    assert rows[1] == ["2024-01-31T08:15:00", "12.30", "Groceries", "Corner Grocer"]
    assert rows[4] == ["2024-03-01T19:45:30", "-20.00", "Shopping", "Refund - Home & Co"]
    assert len(rows) == len(ROWS) + 1
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


def test_formula_cells_are_neutralised(client, owner, auth_headers):
    rows = _csv(client.get("/transactions/export", headers=auth_headers(owner)))
    cells = {row[3]: row[2] for row in rows[1:]}

    assert "'=SUM(A1:A9)" in cells
    assert cells["'+44 20 7946 0000"] == "'+Plus"
    assert "'-5% promo" in cells
    assert cells["'@mention"] == "'@Home"
    assert "''=already quoted" in cells
    assert "'plain apostrophe" in cells  # not a formula: unchanged
    assert "" in cells  # no description


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "'=x", "''+x", "'x", "x=1", "", "''"]
)
def test_neutralise_and_restore_are_inverse(text):
    escaped = neutralise(text)

    assert restore(escaped) == text
    assert not escaped[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_export_applies_the_list_filters(client, owner, auth_headers):
    response = client.get(
        "/transactions/export",
        headers=auth_headers(owner),
        params={"start": "2024-02-01", "end": "2024-03-31", "category": ["Rent", "Quotes"]},
    )

    rows = _csv(response)[1:]
    assert [row[2] for row in rows] == ["Rent", "Rent", "Quotes", "Quotes"]


def test_export_is_scoped_to_the_user(client, owner, make_user, auth_headers):
    other = make_user()

    rows = _csv(client.get("/transactions/export", headers=auth_headers(other)))

    assert rows == [["timestamp", "amount", "category", "description"]]


def test_export_needs_authentication(client):
    assert client.get("/transactions/export").status_code == 401


def test_invalid_filters_are_422(client, owner, auth_headers):
    response = client.get(
        "/transactions/export",
        headers=auth_headers(owner),
        params={"start": "2024-05-01", "end": "2024-01-01"},
    )

    assert response.status_code == 422


def test_round_trip_gives_identical_metrics_and_rows(
    client, owner, new_user, auth_headers, upload, stored
):
    exported = client.get("/transactions/export", headers=auth_headers(owner)).content
    copy = new_user()

    result = upload(copy, exported, filename="transactions.csv")

    assert result.status_code == 200, result.text
    assert result.json()["inserted"] == len(ROWS)
    assert stored(copy) == stored(owner)
    for granularity in ("day", "week", "month"):
        params = {"granularity": granularity}
        original = client.get("/metrics", headers=auth_headers(owner), params=params).json()
        imported = client.get("/metrics", headers=auth_headers(copy), params=params).json()
        assert imported == original
    # And exporting the copy gives the same bytes back.
    assert client.get("/transactions/export", headers=auth_headers(copy)).content == exported


def test_reimporting_an_export_skips_every_row(client, owner, auth_headers, upload):
    exported = client.get("/transactions/export", headers=auth_headers(owner)).content

    result = upload(owner, exported)

    answer = result.json()
    assert isinstance(answer.pop("import_id"), int) and isinstance(answer.pop("account_id"), int)
    assert answer == {
        "profile_used": False,
        "inserted": 0,
        "skipped_duplicates": len(ROWS),
        "total_rows": len(ROWS),
        "skipped_rows": [],
        "skipped_row_count": 0,
    }
