"""POST /transactions/import into an account, GET /imports, DELETE /imports/{id}, and the
import profiles saved on an account."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from spending_api import errors
from spending_api.models import Account, Category, DailyCategorySpend, ImportProfile, Transaction

JANUARY = b"Date,Description,Amount\n2025-01-02,BAKERY,-3.20\n2025-01-03,CINEMA,-12.00\n"
FEBRUARY = b"Date,Description,Amount\n2025-02-02,BAKERY,-3.40\n2025-02-05,SALARY ACME,2000.00\n"
# No header: date, text, amount found by content, so a mapping must be confirmed once.
HEADERLESS_1 = b"05.01.2025;REWE MARKT;12,50\n06.01.2025;ARAL TANKSTELLE;40,00\n"
HEADERLESS_2 = b"03.02.2025;EDEKA;22,10\n09.02.2025;DB BAHN;19,90\n"
MAPPING = {"date": 0, "description": 1, "amount": 2}


@pytest.fixture
def post(client, auth_headers):
    def send(user, content, *, path="/transactions/import", account_id=None, **params):
        return client.post(
            path,
            headers=auth_headers(user),
            files={"file": ("bank.csv", content, "text/csv")},
            data={} if account_id is None else {"account_id": str(account_id)},
            params=params,
        )

    return send


def _account(database, user, name: str, kind: str = "checking") -> int:
    with database.session() as session:
        account = Account(user_id=user.id, name=name, kind=kind)
        session.add(account)
        session.commit()
        return account.id


def _rows(database, user) -> list[tuple]:
    with database.session() as session:
        statement = (
            select(Transaction.account_id, Transaction.import_id, Transaction.description)
            .where(Transaction.user_id == user.id)
            .order_by(Transaction.timestamp)
        )
        return [tuple(row) for row in session.execute(statement)]


def test_import_goes_to_the_account_named_and_is_listed(
    post, client, auth_headers, make_user, database
):
    user = make_user()
    first = _account(database, user, "Checking")
    card = _account(database, user, "Card", "credit_card")

    one = post(user, JANUARY, account_id=card)
    two = post(user, FEBRUARY)  # no account: the first one

    assert one.status_code == two.status_code == 200, (one.text, two.text)
    assert (one.json()["account_id"], two.json()["account_id"]) == (card, first)
    one_id, two_id = one.json()["import_id"], two.json()["import_id"]
    assert _rows(database, user) == [
        (card, one_id, "BAKERY"),
        (card, one_id, "CINEMA"),
        (first, two_id, "BAKERY"),
        (first, two_id, "SALARY ACME"),
    ]
    listed = client.get("/imports", headers=auth_headers(user))
    assert listed.status_code == 200
    answer = listed.json()
    assert [entry["id"] for entry in answer] == [two_id, one_id]  # newest first
    assert {key: answer[1][key] for key in answer[1] if key != "created_at"} == {
        "id": one_id,
        "account_id": card,
        "file_name": "bank.csv",
        "format": "csv",
        "row_count": 2,
        "inserted": 2,
        "skipped_duplicates": 0,
        "skipped_rows": 0,
    }


def test_reimport_is_recorded_with_its_duplicates(post, client, auth_headers, make_user):
    user = make_user()
    post(user, JANUARY)
    again = post(user, JANUARY).json()

    assert (again["inserted"], again["skipped_duplicates"]) == (0, 2)
    latest = client.get("/imports", headers=auth_headers(user)).json()[0]
    assert (latest["row_count"], latest["inserted"], latest["skipped_duplicates"]) == (2, 0, 2)


def test_another_users_account_is_not_found(post, make_user, database):
    owner, other = make_user(), make_user()
    theirs = _account(database, owner, "Theirs")

    for path in ("/transactions/import", "/transactions/import/preview"):
        response = post(other, JANUARY, path=path, account_id=theirs)
        assert response.status_code == 404, response.text
        assert response.json() == {"detail": errors.ACCOUNT_NOT_FOUND}
    assert _rows(database, owner) == _rows(database, other) == []


def test_deleting_an_import_removes_exactly_its_rows(
    post, client, auth_headers, make_user, database
):
    user = make_user()
    january = post(user, JANUARY).json()["import_id"]
    february = post(user, FEBRUARY).json()["import_id"]

    deleted = client.delete(f"/imports/{january}", headers=auth_headers(user))

    assert deleted.status_code == 204
    assert [row[2] for row in _rows(database, user)] == ["BAKERY", "SALARY ACME"]
    with database.session() as session:  # the rollup follows the cascade
        rollup = session.execute(
            select(
                func.sum(DailyCategorySpend.total), func.sum(DailyCategorySpend.transaction_count)
            ).where(DailyCategorySpend.user_id == user.id)
        ).one()
    assert tuple(rollup) == (Decimal("-1996.60"), 2)
    assert {row[1] for row in _rows(database, user)} == {february}
    assert [entry["id"] for entry in client.get("/imports", headers=auth_headers(user)).json()] == [
        february
    ]
    # Deleting an import is not deleting its rows one by one: the file can come back.
    again = post(user, JANUARY).json()
    assert again["inserted"] == 2


def test_deleting_an_unknown_or_another_users_import_is_404(
    post, client, auth_headers, make_user, database
):
    owner, other = make_user(), make_user()
    theirs = post(owner, JANUARY).json()["import_id"]

    for user, import_id in ((other, theirs), (owner, theirs + 1000)):
        response = client.delete(f"/imports/{import_id}", headers=auth_headers(user))
        assert response.status_code == 404
        assert response.json() == {"detail": errors.IMPORT_NOT_FOUND}
    assert len(_rows(database, owner)) == 2


def test_a_confirmed_mapping_is_saved_and_used_for_the_next_file(post, make_user, database):
    user = make_user()
    account = _account(database, user, "Giro")
    refused = post(user, HEADERLESS_1, account_id=account)
    assert refused.status_code == 422  # the guessed columns need confirming once

    confirmed = post(user, HEADERLESS_1, account_id=account, mapping=json.dumps(MAPPING))
    preview = post(user, HEADERLESS_2, path="/transactions/import/preview", account_id=account)
    second = post(user, HEADERLESS_2, account_id=account)

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["profile_used"] is False
    assert preview.status_code == 200, preview.text
    assert preview.json()["profile_used"] is True
    assert preview.json()["options"] == {"mapping": MAPPING}
    assert preview.json()["message"] is None
    assert second.status_code == 200, second.text
    assert (second.json()["profile_used"], second.json()["inserted"]) == (True, 2)
    with database.session() as session:
        amounts = session.scalars(
            select(Transaction.amount)
            .where(Transaction.user_id == user.id)
            .order_by(Transaction.timestamp)
        ).all()
        profiles = session.execute(
            select(ImportProfile.account_id, ImportProfile.options).where(
                ImportProfile.user_id == user.id
            )
        ).all()
    assert amounts == [Decimal(a) for a in ("12.50", "40.00", "22.10", "19.90")]
    assert [tuple(row) for row in profiles] == [(account, {"mapping": MAPPING})]


def test_a_profile_belongs_to_its_account(post, make_user, database):
    user = make_user()
    giro = _account(database, user, "Giro")
    other = _account(database, user, "Other")
    post(user, HEADERLESS_1, account_id=giro, mapping=json.dumps(MAPPING))

    elsewhere = post(user, HEADERLESS_2, account_id=other)
    preview = post(user, HEADERLESS_2, path="/transactions/import/preview", account_id=other)

    assert elsewhere.status_code == 422
    assert preview.json()["profile_used"] is False


def test_explicit_options_win_over_the_profile(post, make_user, database):
    user = make_user()
    account = _account(database, user, "Giro")
    post(user, HEADERLESS_1, account_id=account, mapping=json.dumps(MAPPING))

    swapped = {"date": 0, "description": 1, "amount": 2, "notes": 1}
    answer = post(user, HEADERLESS_2, account_id=account, mapping=json.dumps(swapped)).json()

    assert answer["profile_used"] is False
    with database.session() as session:
        saved = session.scalars(
            select(ImportProfile.options).where(ImportProfile.account_id == account)
        ).all()
    assert saved == [{"mapping": swapped}]  # the latest options that worked


def test_bank_categories_map_onto_the_users_by_name(post, make_user, database):
    user = make_user()
    with database.session() as session:
        session.add(Category(user_id=user.id, name="Groceries", kind="spending"))
        session.commit()
    content = (
        "Date,Description,Category,Amount\n"
        "2025-01-02,REWE,GROCERIES,-20.00\n"
        "2025-01-03,EDEKA,groceries,-5.00\n"
        "2025-01-04,Arbeitgeber,Gehalt,2000.00\n"
        "2025-01-05,Kino,Freizeit,-9.00\n"
        "2025-01-06,Kino,FREIZEIT,-1.00\n"
    ).encode()

    assert post(user, content).status_code == 200
    with database.session() as session:
        stored = session.execute(
            select(Transaction.category, Transaction.category_source)
            .where(Transaction.user_id == user.id)
            .order_by(Transaction.timestamp)
        ).all()
        kinds = dict(
            session.execute(
                select(Category.name, Category.kind).where(Category.user_id == user.id)
            ).all()
        )
    assert [tuple(row) for row in stored] == [
        ("Groceries", "bank"),
        ("Groceries", "bank"),
        ("Gehalt", "bank"),
        ("Freizeit", "bank"),
        ("Freizeit", "bank"),  # the first spelling of a new name is kept
    ]
    assert kinds == {"Groceries": "spending", "Gehalt": "income", "Freizeit": "spending"}
