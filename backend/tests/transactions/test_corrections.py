"""Corrections: POST /transactions, PATCH /transactions/{id}, bulk PATCH /transactions and
DELETE /transactions/{id}; what a re-import does afterwards. Random sequences of them (with
imports, merges and rules) are metrics/test_random_ledger.py."""

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from spending_api import errors
from spending_api.categories.repository import create_default_categories
from spending_api.models import Account, RemovedImportKey, Transaction
from testkit.rollup import assert_rollup_matches

CENT = Decimal("0.01")
BANK_CSV = (
    "timestamp,amount,category,description\n"
    "2024-03-01T09:00:00,12.50,Groceries,CORNER SHOP 0042\n"
    "2024-03-02T12:30:00,8.20,Dining out,PIZZERIA NAPOLI\n"
    "2024-03-02T12:30:00,8.20,Dining out,PIZZERIA NAPOLI\n"
    "2024-03-05T18:00:00,-20.00,Shopping,REFUND SHOES\n"
    "2024-03-09T07:45:00,2.80,Transport,METRO 1234\n"
).encode()
CASH = {"timestamp": "2024-03-10T15:00:00", "amount": "4.50", "description": "Ice cream"}


def user_with_categories(make_user, database, name=None):
    user = make_user(name)
    with database.session() as session:
        create_default_categories(session, user_id=user.id)
        session.commit()
    return user


@pytest.fixture
def alice(make_user, database):
    return user_with_categories(make_user, database, "alice")


@pytest.fixture
def bob(make_user, database):
    return user_with_categories(make_user, database, "bob")


@pytest.fixture
def imported(alice, upload, database):
    """Alice with BANK_CSV imported: her transactions' ids, oldest first."""
    response = upload(alice, BANK_CSV)
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 5
    return ids_of(database, alice)


def ids_of(database, user) -> list[int]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Transaction.id)
                .where(Transaction.user_id == user.id)
                .order_by(Transaction.timestamp, Transaction.id)
            )
        )


def row(database, transaction_id: int) -> Transaction:
    with database.session() as session:
        return session.get(Transaction, transaction_id)


def listed(client, headers, **params) -> dict[int, dict]:
    response = client.get("/transactions", headers=headers, params={"limit": 1000, **params})
    assert response.status_code == 200
    return {item["id"]: item for item in response.json()}


def assert_listed_as(listed_row: dict, body: dict) -> None:
    """GET /transactions lists the row as the correction answered it (every field it lists)."""
    assert listed_row == {key: body[key] for key in listed_row}


def post(client, headers, **body):
    return client.post("/transactions", headers=headers, json=body)


def patch(client, headers, transaction_id, **body):
    return client.patch(f"/transactions/{transaction_id}", headers=headers, json=body)


def bulk(client, headers, **body):
    return client.patch("/transactions", headers=headers, json=body)


# POST /transactions


def test_manual_transaction_is_stored_and_listed(client, alice, auth_headers, database):
    headers = auth_headers(alice)
    response = post(client, headers, **CASH, category="Dining out", notes="with Sam")
    assert response.status_code == 201, response.text
    body = response.json()
    stored = row(database, body["id"])
    assert body == {
        "id": stored.id,
        "account_id": stored.account_id,
        "amount": 4.5,
        "category": "Dining out",
        "kind": "spending",
        "timestamp": "2024-03-10T15:00:00",
        "description": "Ice cream",
        "notes": "with Sam",
        "category_source": "user",
        "suggestion": None,
    }
    assert (stored.amount, stored.dedup_key, stored.import_id) == (Decimal("4.50"), None, None)
    assert set(listed(client, headers)) == {stored.id}
    metrics = client.get("/metrics", headers=headers).json()
    assert (metrics["total_spend"], metrics["transaction_count"]) == (4.5, 1)


@pytest.mark.parametrize(
    "amount, category, kind",
    [("4.50", "Uncategorized", "spending"), (-1500, "Uncategorized income", "income")],
)
def test_manual_transaction_without_a_category_is_uncategorized_by_sign(
    client, make_user, auth_headers, amount, category, kind
):
    user = make_user()  # no categories yet: the default one is created with its kind
    body = post(client, auth_headers(user), timestamp=CASH["timestamp"], amount=amount).json()
    assert (body["category"], body["kind"], body["category_source"]) == (category, kind, "default")
    assert body["amount"] == float(amount) and body["description"] is None


def test_manual_transaction_goes_to_the_named_account(client, alice, auth_headers, database):
    with database.session() as session:
        wallet = Account(user_id=alice.id, name="Wallet", kind="cash")
        session.add(wallet)
        session.commit()
        wallet_id = wallet.id
    response = post(client, auth_headers(alice), **CASH, account_id=wallet_id)
    assert response.status_code == 201, response.text
    assert (
        response.json()["account_id"]
        == wallet_id
        == row(database, response.json()["id"]).account_id
    )


def test_manual_transaction_refuses_an_account_that_is_not_the_users(
    client, alice, bob, auth_headers, database
):
    post(client, auth_headers(bob), **CASH)  # Bob's default account exists
    with database.session() as session:
        bobs_account = session.scalar(select(Account.id).where(Account.user_id == bob.id))
    for account_id in (bobs_account, bobs_account + 1000):
        response = post(client, auth_headers(alice), **CASH, account_id=account_id)
        assert (response.status_code, response.json()) == (
            404,
            {"detail": errors.ACCOUNT_NOT_FOUND},
        )
    assert ids_of(database, alice) == [] and len(ids_of(database, bob)) == 1


def test_manual_transaction_needs_an_existing_category(client, alice, bob, auth_headers, database):
    bobs = post(client, auth_headers(bob), **CASH, category="Dining out")
    assert bobs.status_code == 201
    # Alice has no category "Bob's own": one of Bob's is unknown to her too.
    response = post(client, auth_headers(alice), **CASH, category="Bob's own")
    assert (response.status_code, response.json()) == (422, {"detail": errors.UNKNOWN_CATEGORY})
    assert ids_of(database, alice) == []


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 0},
        {"amount": "0.00"},
        {"amount": "1.005"},
        {"amount": 1.005},
        {"amount": "10000000000.00"},
        {"amount": -10000000000},
        {"amount": "12,50"},
        {"amount": " 12"},
        {"amount": True},
        {"amount": None},
        {"amount": "NaN"},
        {"timestamp": "2024-03-10"},
        {"timestamp": "2024-03-10T15:00:00Z"},
        {"timestamp": "2024-03-10T15:00:00+01:00"},
        {"timestamp": 1710082800},
        {"timestamp": "2024-02-30T10:00:00"},
        {"description": "x" * 1001},
        {"description": "nul\x00byte"},
        {"notes": "x" * 2001},
        {"category": ""},
        {"category": 3},
        {"account_id": "1"},
        {"account_id": 0},
        {"account_id": 2**31},
        {"user_id": 1},
    ],
)
def test_manual_transaction_refuses_invalid_fields(client, alice, auth_headers, change, database):
    response = post(client, auth_headers(alice), **{**CASH, **change})
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert ids_of(database, alice) == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_manual_transaction_refuses_non_finite_amounts(
    client, alice, auth_headers, literal, database
):
    body = f'{{"timestamp": "2024-03-10T15:00:00", "amount": {literal}}}'
    headers = {**auth_headers(alice), "Content-Type": "application/json"}
    response = client.post("/transactions", headers=headers, content=body)
    assert response.status_code == 422, response.text
    assert ids_of(database, alice) == []


def test_manual_transaction_takes_exact_amounts(client, alice, auth_headers, database):
    headers = auth_headers(alice)
    for amount, stored in (
        ("0.10", "0.10"),
        (0.1, "0.10"),
        ("-9999999999.99", "-9999999999.99"),
        (7, "7.00"),
        ("3.5", "3.50"),
    ):
        response = post(client, headers, **{**CASH, "amount": amount})
        assert response.status_code == 201, response.text
        assert row(database, response.json()["id"]).amount == Decimal(stored)


# PATCH /transactions/{id}


def test_category_change_is_the_users_and_clears_the_suggestion(
    client, alice, imported, auth_headers, database
):
    headers = auth_headers(alice)
    target = imported[0]
    with database.session() as session:
        session.execute(
            update(Transaction)
            .where(Transaction.id == target)
            .values(
                suggested_category="Shopping",
                suggestion_confidence=Decimal("0.420"),
                category_source="bank",
            )
        )
        session.commit()
    response = patch(client, headers, target, category="Salary")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["category"], body["kind"], body["category_source"], body["suggestion"]) == (
        "Salary",
        "income",
        "user",
        None,
    )
    # Every view sees it at once (the cached answers depend on the data version).
    assert_listed_as(listed(client, headers)[target], body)
    stored = row(database, target)
    assert (stored.suggested_category, stored.suggestion_confidence) == (None, None)
    assert_rollup_matches(database, "after a category change")


def test_description_change_keeps_the_bank_text_once(
    client, alice, imported, auth_headers, database
):
    headers = auth_headers(alice)
    target = imported[0]
    first = patch(client, headers, target, description="Corner shop")
    assert first.status_code == 200 and first.json()["description"] == "Corner shop"
    patch(client, headers, target, description="The corner shop")
    stored = row(database, target)
    assert (stored.description, stored.original_description) == (
        "The corner shop",
        "CORNER SHOP 0042",
    )
    assert stored.category_source in ("bank", "default")  # the category is not the user's


def test_description_of_a_manual_transaction_has_no_bank_text(
    client, alice, auth_headers, database
):
    headers = auth_headers(alice)
    created = post(client, headers, **CASH).json()
    patch(client, headers, created["id"], description=None)
    stored = row(database, created["id"])
    assert (stored.description, stored.original_description) == (None, None)


def test_notes_are_set_and_cleared_and_only_what_is_sent_changes(
    client, alice, imported, auth_headers
):
    headers = auth_headers(alice)
    target = imported[1]
    before = patch(client, headers, target).json()  # an empty change changes nothing
    assert_listed_as(listed(client, headers)[target], before)
    assert before["notes"] is None
    noted = patch(client, headers, target, notes="team lunch").json()
    assert noted == {**before, "notes": "team lunch"}
    cleared = patch(client, headers, target, notes=None).json()
    assert cleared == before


def test_imported_timestamp_and_amount_are_locked(client, alice, imported, auth_headers, database):
    headers = auth_headers(alice)
    target = imported[0]
    before = row(database, target)
    for change in (
        {"amount": "99.00"},
        {"timestamp": "2024-03-01T10:00:00"},
        {"amount": "99.00", "notes": "not saved either"},
    ):
        response = patch(client, headers, target, **change)
        assert (response.status_code, response.json()) == (
            409,
            {"detail": errors.IMPORTED_FIELD_LOCKED},
        )
    after = row(database, target)
    assert (after.amount, after.timestamp, after.notes) == (before.amount, before.timestamp, None)
    # Sending what the bank said is not a change.
    same = patch(client, headers, target, amount="12.50", timestamp="2024-03-01T09:00:00")
    assert same.status_code == 200, same.text


def test_manual_timestamp_and_amount_can_change(client, alice, auth_headers, database):
    headers = auth_headers(alice)
    created = post(client, headers, **CASH, category="Groceries").json()
    moved = patch(client, headers, created["id"], amount="-3.25", timestamp="2024-04-01T08:00:00")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["amount"], moved.json()["timestamp"]) == (-3.25, "2024-04-01T08:00:00")
    assert_rollup_matches(database, "after moving a manual transaction")
    metrics = client.get("/metrics", headers=headers, params={"start": "2024-04-01"}).json()
    assert (metrics["total_spend"], metrics["transaction_count"]) == (-3.25, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"category": None},
        {"amount": None},
        {"timestamp": None},
        {"amount": 0},
        {"category": "x" * 101},
        {"dedup_key": "x"},
        {"account_id": 1},
    ],
)
def test_patch_refuses_invalid_changes(client, alice, imported, auth_headers, change, database):
    before = row(database, imported[0])
    response = patch(client, auth_headers(alice), imported[0], **change)
    assert response.status_code == 422, response.text
    assert row(database, imported[0]).category == before.category


def test_patch_refuses_an_unknown_category_and_changes_nothing(
    client, alice, imported, auth_headers, database
):
    response = patch(client, auth_headers(alice), imported[0], category="Nope", notes="kept?")
    assert (response.status_code, response.json()) == (422, {"detail": errors.UNKNOWN_CATEGORY})
    assert row(database, imported[0]).notes is None


def test_patch_of_another_users_or_a_missing_row_is_404(
    client, alice, bob, imported, auth_headers, database
):
    for transaction_id in (imported[0], imported[-1] + 1000):
        response = patch(client, auth_headers(bob), transaction_id, notes="mine now")
        assert (response.status_code, response.json()) == (
            404,
            {"detail": errors.TRANSACTION_NOT_FOUND},
        )
    assert row(database, imported[0]).notes is None


def test_text_is_stored_verbatim(client, alice, imported, auth_headers, database):
    headers = auth_headers(alice)
    nasty = [
        "'); DROP TABLE transactions; --",
        "100% _off_ \\ /",
        "<script>x</script>",
        "Café ☕ \u202e",
    ]
    for i, text in enumerate(nasty):
        response = patch(client, headers, imported[i], description=text, notes=text)
        assert response.status_code == 200, response.text
        assert (row(database, imported[i]).description, row(database, imported[i]).notes) == (
            text,
            text,
        )
    # The bulk filter's search text is literal too: "%" matches only a percent sign.
    response = bulk(client, headers, filters={"q": "0% _"}, change={"notes": "found"}, dry_run=True)
    assert response.json() == {"matched": 1, "total": "8.20", "updated": 0}


# Bulk PATCH /transactions


def test_bulk_dry_run_counts_and_sums_without_changing(client, alice, imported, auth_headers):
    headers = auth_headers(alice)
    before = listed(client, headers)
    response = bulk(client, headers, ids=imported[:3], change={"category": "Travel"}, dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json() == {"matched": 3, "total": "28.90", "updated": 0}
    assert listed(client, headers) == before


def test_bulk_by_ids_changes_only_the_users_rows(
    client, alice, bob, imported, auth_headers, database
):
    bobs = post(client, auth_headers(bob), **CASH).json()["id"]
    response = bulk(
        client,
        auth_headers(alice),
        ids=[imported[0], imported[3], bobs, 10**12],
        change={"category": "Travel", "notes": "trip"},
    )
    assert response.json() == {"matched": 2, "total": "-7.50", "updated": 2}
    rows = listed(client, auth_headers(alice))
    assert {i for i, r in rows.items() if r["category"] == "Travel"} == {imported[0], imported[3]}
    for i in (imported[0], imported[3]):
        assert (row(database, i).category_source, row(database, i).notes) == ("user", "trip")
    assert (row(database, bobs).category, row(database, bobs).notes) == ("Uncategorized", None)
    assert_rollup_matches(database, "after a bulk change")


def test_bulk_by_filters_uses_the_shared_filters(client, alice, bob, imported, auth_headers):
    post(client, auth_headers(bob), **{**CASH, "description": "PIZZERIA NAPOLI"})
    filters = {"q": "pizzeria", "start": "2024-03-01", "end": "2024-03-31"}
    response = bulk(client, auth_headers(alice), filters=filters, change={"category": "Groceries"})
    assert response.json() == {"matched": 2, "total": "16.40", "updated": 2}
    rows = listed(client, auth_headers(alice), category="Groceries")
    assert sorted(rows) == sorted([imported[0], imported[1], imported[2]])
    assert listed(client, auth_headers(bob), q="pizzeria").popitem()[1]["category"] == (
        "Uncategorized"
    )
    # Notes only; {} selects every transaction of the user.
    everything = bulk(client, auth_headers(alice), filters={}, change={"notes": None})
    assert everything.json() == {"matched": 5, "total": "11.70", "updated": 5}


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [1], "filters": {}, "change": {"notes": "x"}},
        {"change": {"notes": "x"}},
        {"ids": [], "change": {"notes": "x"}},
        {"ids": [1], "change": {}},
        {"ids": [1], "change": {"category": None}},
        {"ids": [1], "change": {"amount": 1}},
        {"ids": ["1"], "change": {"notes": "x"}},
        {"ids": [0], "change": {"notes": "x"}},
        {"ids": list(range(1, 2002)), "change": {"notes": "x"}},
        {"filters": {"categroy": ["Groceries"]}, "change": {"notes": "x"}},
        {"filters": {"start": "2024-03-31", "end": "2024-03-01"}, "change": {"notes": "x"}},
        {"filters": {"min_amount": "5"}, "change": {"notes": "x"}},
        {"filters": {"start": 0}, "change": {"notes": "x"}},
        {"ids": [1], "change": {"notes": "x"}, "dry_run": "yes"},
    ],
)
def test_bulk_refuses_invalid_requests(client, alice, imported, auth_headers, body, database):
    response = bulk(client, auth_headers(alice), **body)
    assert response.status_code == 422, response.text
    assert all(row(database, i).notes is None for i in imported)


def test_bulk_refuses_an_unknown_category(client, alice, imported, auth_headers):
    for dry_run in (True, False):
        response = bulk(
            client, auth_headers(alice), ids=imported, change={"category": "Nope"}, dry_run=dry_run
        )
        assert (response.status_code, response.json()) == (
            422,
            {"detail": errors.UNKNOWN_CATEGORY},
        )


# DELETE and re-imports


def test_deleting_an_imported_row_keeps_it_out_of_re_imports(
    client, alice, imported, upload, auth_headers, database
):
    headers = auth_headers(alice)
    manual = post(client, headers, **CASH).json()["id"]
    duplicate_twin = imported[2]  # the second of two identical rows
    for transaction_id in (imported[0], duplicate_twin, manual):
        assert client.delete(f"/transactions/{transaction_id}", headers=headers).status_code == 204
    with database.session() as session:
        keys = set(session.scalars(select(RemovedImportKey.dedup_key)))
    assert len(keys) == 2  # the manual row has no key to remember
    again = upload(alice, BANK_CSV).json()
    assert (again["inserted"], again["skipped_duplicates"]) == (0, 5)
    assert ids_of(database, alice) == [imported[1], imported[3], imported[4]]
    assert_rollup_matches(database, "after deletes and a re-import")


def test_deleting_every_imported_row_keeps_them_out_of_re_imports(
    client, alice, imported, upload, auth_headers, database, rollup_total
):
    # The account is left with no stored keys, only removed ones: the re-import still
    # honours them.
    headers = auth_headers(alice)
    for transaction_id in imported:
        assert client.delete(f"/transactions/{transaction_id}", headers=headers).status_code == 204
    again = upload(alice, BANK_CSV).json()
    assert (again["inserted"], again["skipped_duplicates"]) == (0, 5)
    assert ids_of(database, alice) == []
    assert rollup_total(alice) == (Decimal(0), 0)


def test_re_import_after_edits_keeps_the_edits(
    client, alice, imported, upload, auth_headers, database
):
    headers = auth_headers(alice)
    patch(client, headers, imported[0], category="Travel", description="Corner shop")
    bulk(client, headers, ids=imported[1:3], change={"category": "Groceries", "notes": "x"})
    before = listed(client, headers)
    again = upload(alice, BANK_CSV).json()
    assert (again["inserted"], again["skipped_duplicates"]) == (0, 5)
    assert listed(client, headers) == before
    assert before[imported[0]]["description"] == "Corner shop"
