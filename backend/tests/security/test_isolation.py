"""One user can never read, infer or change another user's data, through any endpoint."""

import io

import pytest
from sqlalchemy import event, func, select

from spending_api import errors
from spending_api.models import Account, Category, DailyCategorySpend, Transaction

# Query strings every read endpoint is called with: each filter, alone and combined.
READ_VARIANTS = [
    {},
    {"category": "Food"},
    {"category": ["Secret", "Rent", "Food"]},
    {"start": "2024-01-01", "end": "2024-12-31"},
    {"min_amount": "-1000", "max_amount": "5000"},
    {"q": "alice"},
    {"q": "a"},
    {"granularity": "day"},
    {"sort": "-amount", "limit": "1000"},
    {"offset": "1"},
]
# Endpoints that are not about a user's data.
PUBLIC = {("GET", "/health"), ("POST", "/login")}
# Endpoints with a dedicated test below (writes, path parameters, uploads).
DEDICATED = {
    ("DELETE", "/transactions/{transaction_id}"),
    ("POST", "/transactions/import"),
    # test_sessions.py::test_session_routes_act_on_the_callers_own_account
    ("POST", "/logout"),
    ("POST", "/refresh"),
    ("POST", "/me/password"),
    ("POST", "/transactions/import/preview"),
    # tests/rules/test_router.py::test_rules_are_private
    ("POST", "/rules"),
    ("PATCH", "/rules/{rule_id}"),
    ("DELETE", "/rules/{rule_id}"),
    ("POST", "/rules/preview"),
    ("POST", "/rules/apply"),
    # tests/suggestions/test_router.py::test_accept_is_private; the refresh and the
    # proposals read and write only the caller's rows (their SQL is user-scoped).
    ("POST", "/transactions/{transaction_id}/accept-suggestion"),
    ("POST", "/suggestions/refresh"),
    # test_isolation_corrections.py
    ("POST", "/transactions"),
    ("PATCH", "/transactions"),
    ("PATCH", "/transactions/{transaction_id}"),
    # tests/imports/test_router.py::test_deleting_an_unknown_or_another_users_import_is_404
    ("DELETE", "/imports/{import_id}"),
    # tests/transfers/test_router.py::test_another_users_transfers_are_neither_listed_nor_unlinked
    ("DELETE", "/transfers/{transfer_id}"),
    # test_writes_on_another_users_record_are_a_plain_404 below, and the isolation tests
    # of tests/accounts and tests/categories (creating is scoped to the caller: a new
    # record is the caller's, and its name may equal another user's).
    ("POST", "/accounts"),
    ("PATCH", "/accounts/{account_id}"),
    ("DELETE", "/accounts/{account_id}"),
    ("POST", "/categories"),
    ("PATCH", "/categories/{category_id}"),
    ("DELETE", "/categories/{category_id}"),
    ("POST", "/categories/{category_id}/merge"),
}


def _routes(app) -> set[tuple[str, str]]:
    """Every operation of the API, from its OpenAPI schema (what clients can call)."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def _snapshot(client, headers, paths) -> dict:
    """Everything Bob can observe: status, body and headers except the clock."""
    seen = {}
    for path in sorted(paths):
        for variant in READ_VARIANTS:
            response = client.get(path, params=variant, headers=headers)
            shown = {k: v for k, v in response.headers.items() if k.lower() != "date"}
            seen[(path, repr(variant))] = (response.status_code, response.content, shown)
    return seen


def _delete_all_of(database, user_id: int) -> None:
    with database.session() as session:
        session.execute(Transaction.__table__.delete().where(Transaction.user_id == user_id))
        session.commit()


def test_every_endpoint_is_covered_by_an_isolation_check(app):
    """A new endpoint fails here until it is a GET without path parameters (checked by the
    differential test below) or has its own isolation test listed in DEDICATED."""
    unchecked = {
        (method, path)
        for method, path in _routes(app)
        if (method, path) not in PUBLIC | DEDICATED and not (method == "GET" and "{" not in path)
    }
    assert not unchecked, f"add an isolation test for {sorted(unchecked)}"


def test_reads_do_not_depend_on_another_users_data(
    app, client, alice_and_bob, auth_headers, database
):
    """Bob sees byte-for-byte the same answers, headers included (counts, totals, categories,
    pages, errors), whether or not Alice has data: nothing of hers can be read or inferred."""
    alice, bob = alice_and_bob
    paths = {path for method, path in _routes(app) if method == "GET" and "{" not in path}
    paths -= {path for _, path in PUBLIC}
    assert {"/transactions", "/metrics", "/categories", "/me"} <= paths
    with_alice = _snapshot(client, auth_headers(bob), paths)
    _delete_all_of(database, alice.id)
    without_alice = _snapshot(client, auth_headers(bob), paths)
    assert with_alice == without_alice
    # And Bob's own data is there, so the comparison is not between two empty answers.
    listed = client.get("/transactions", headers=auth_headers(bob)).json()
    assert sorted(row["description"] for row in listed) == ["Bob bakery", "Bob cinema"]


def test_alice_sees_only_her_own_rows(client, alice_and_bob, auth_headers):
    alice, _ = alice_and_bob
    rows = client.get("/transactions", params={"limit": 1000}, headers=auth_headers(alice))
    assert rows.headers["X-Total-Count"] == "4"
    assert all(row["description"].startswith("Alice") for row in rows.json())
    categories = client.get("/categories", headers=auth_headers(alice)).json()
    assert {c["name"] for c in categories} == {"Rent", "Food", "Secret", "Refund"}
    accounts = client.get("/accounts", headers=auth_headers(alice)).json()
    assert len(accounts) == 1
    metrics = client.get("/metrics", headers=auth_headers(alice)).json()
    assert metrics["transaction_count"] == 4


def _ids_of(database, user_id: int) -> list[int]:
    with database.session() as session:
        return list(session.scalars(select(Transaction.id).where(Transaction.user_id == user_id)))


def _count_statements(database):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    return statements, before


def test_delete_of_another_users_row_is_a_plain_404(client, alice_and_bob, auth_headers, database):
    """Bob cannot delete Alice's row, and cannot tell it exists: the answer, and the SQL
    the server runs to reach it, are the same as for an id that was never used."""
    alice, bob = alice_and_bob
    alices = _ids_of(database, alice.id)
    never_used = max(alices + _ids_of(database, bob.id)) + 1000
    answers = {}
    for label, transaction_id in (("alice's", alices[0]), ("unused", never_used)):
        statements, before = _count_statements(database)
        event.listen(database.engine, "before_cursor_execute", before)
        try:
            response = client.delete(f"/transactions/{transaction_id}", headers=auth_headers(bob))
        finally:
            event.remove(database.engine, "before_cursor_execute", before)
        answers[label] = (
            response.status_code,
            response.json(),
            {k: v for k, v in response.headers.items() if k.lower() != "date"},
            statements,
        )
    assert answers["alice's"] == answers["unused"]
    assert answers["unused"][:2] == (404, {"detail": errors.TRANSACTION_NOT_FOUND})
    assert _ids_of(database, alice.id) == alices
    with database.session() as session:
        rollup = session.scalar(
            select(func.sum(DailyCategorySpend.transaction_count)).where(
                DailyCategorySpend.user_id == alice.id
            )
        )
    assert rollup == 4


def _first_id(database, model, user_id: int) -> int:
    with database.session() as session:
        return session.scalars(
            select(model.id).where(model.user_id == user_id).order_by(model.id)
        ).first()


# Bob's writes that name a record by id; {bob} in a body is one of Bob's own categories.
RECORD_WRITES = [
    ("PATCH", "/accounts/{id}", Account, {"json": {"name": "Bob's now"}}),
    ("DELETE", "/accounts/{id}", Account, {"params": {"with_transactions": "true"}}),
    ("PATCH", "/categories/{id}", Category, {"json": {"name": "Bob's now", "kind": "income"}}),
    ("DELETE", "/categories/{id}", Category, {}),
    ("DELETE", "/categories/{id}", Category, {"params": {"move_to": "{bob}"}}),
    ("POST", "/categories/{id}/merge", Category, {"json": {"into": "{bob}"}}),
    ("POST", "/categories/{bob}/merge", Category, {"json": {"into": "{id}"}}),
    ("PATCH", "/categories/{bob}", Category, {"json": {"parent_id": "{id}"}}),
    (
        "POST",
        "/categories",
        Category,
        {"json": {"name": "N", "kind": "spending", "parent_id": "{id}"}},
    ),
]


def _fill(value, ids: dict):
    """The request's kwargs with "{id}" and "{bob}" replaced by those ids."""
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, str) and value in ("{id}", "{bob}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize("method, path, model, kwargs", RECORD_WRITES)
def test_writes_on_another_users_record_are_a_plain_404(
    client, alice_and_bob, auth_headers, database, method, path, model, kwargs
):
    """Bob naming Alice's account or category (in the path or the body) gets the answer,
    through the same SQL, that an id never used gets; Alice's records are unchanged."""
    alice, bob = alice_and_bob
    alices = _first_id(database, model, alice.id)
    bobs = _first_id(database, Category, bob.id)
    never_used = 2**31 - 1

    def records() -> list:
        with database.session() as session:
            table = model.__table__
            return [tuple(r) for r in session.execute(select(table).order_by(table.c.id))]

    before = records()
    answers = {}
    for label, record_id in (("alice's", alices), ("unused", never_used)):
        ids = {"id": record_id, "bob": bobs}
        url = path.replace("{id}", str(record_id)).replace("{bob}", str(bobs))
        statements, before_execute = _count_statements(database)
        event.listen(database.engine, "before_cursor_execute", before_execute)
        try:
            response = client.request(method, url, headers=auth_headers(bob), **_fill(kwargs, ids))
        finally:
            event.remove(database.engine, "before_cursor_execute", before_execute)
        answers[label] = (
            response.status_code,
            response.json(),
            {k: v for k, v in response.headers.items() if k.lower() != "date"},
            statements,
        )
    assert answers["alice's"] == answers["unused"]
    assert answers["unused"][0] == 404, answers["unused"][1]
    assert records() == before


def test_bob_deleting_his_own_row_leaves_alice_alone(client, alice_and_bob, auth_headers, database):
    alice, bob = alice_and_bob
    before = _ids_of(database, alice.id)
    response = client.delete(
        f"/transactions/{_ids_of(database, bob.id)[0]}", headers=auth_headers(bob)
    )
    assert response.status_code == 204
    assert _ids_of(database, alice.id) == before


def _account_of(database, user_id: int) -> int:
    with database.session() as session:
        return session.scalar(
            select(Transaction.account_id).where(Transaction.user_id == user_id).limit(1)
        )


def _require_route(app, method: str, path: str) -> None:
    if (method, path) not in _routes(app):
        pytest.skip(f"{method} {path} is not built yet")


def _alice_rows_as_csv() -> bytes:
    return (
        "timestamp,amount,category,description\n"
        "2024-01-05T09:00:00,1000.00,Rent,Alice flat\n"
        "2024-01-06T10:00:00,55.10,Food,Alice market\n"
    ).encode()


def test_import_of_another_users_rows_reveals_nothing(
    app, client, alice_and_bob, auth_headers, database
):
    """Bob importing exactly Alice's rows stores them for Bob, all as new: a duplicate count
    would tell him what Alice bought. Alice's data is unchanged."""
    _require_route(app, "POST", "/transactions/import")
    alice, bob = alice_and_bob
    alices = _ids_of(database, alice.id)
    response = client.post(
        "/transactions/import",
        files={"file": ("alice.csv", io.BytesIO(_alice_rows_as_csv()), "text/csv")},
        headers=auth_headers(bob),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.pop("account_id") != _account_of(database, alice.id)
    assert isinstance(answer.pop("import_id"), int)
    assert answer == {
        "profile_used": False,
        "inserted": 2,
        "skipped_duplicates": 0,
        "total_rows": 2,
        "skipped_rows": [],
        "skipped_row_count": 0,
    }
    assert _ids_of(database, alice.id) == alices
    assert len(_ids_of(database, bob.id)) == 4


def test_preview_of_another_users_rows_reveals_nothing_and_stores_nothing(
    app, client, alice_and_bob, auth_headers, database
):
    """Bob previewing exactly Alice's rows gets the same answer whether or not Alice has
    them, and nothing is stored for anyone."""
    _require_route(app, "POST", "/transactions/import/preview")
    alice, bob = alice_and_bob
    alices, bobs = _ids_of(database, alice.id), _ids_of(database, bob.id)

    def preview() -> tuple[int, bytes]:
        response = client.post(
            "/transactions/import/preview",
            files={"file": ("alice.csv", io.BytesIO(_alice_rows_as_csv()), "text/csv")},
            headers=auth_headers(bob),
        )
        return response.status_code, response.content

    with_alices_data = preview()
    assert (_ids_of(database, alice.id), _ids_of(database, bob.id)) == (alices, bobs)
    _delete_all_of(database, alice.id)
    without = preview()

    assert with_alices_data[0] == 200, with_alices_data[1]
    assert with_alices_data == without
    assert _ids_of(database, bob.id) == bobs


def test_import_ignores_a_user_id_column(app, client, alice_and_bob, auth_headers, database):
    _require_route(app, "POST", "/transactions/import")
    alice, bob = alice_and_bob
    body = (
        "timestamp,amount,category,description,user_id\n"
        f"2024-05-01T10:00:00,1.00,Food,planted,{alice.id}\n"
    ).encode()
    response = client.post(
        "/transactions/import",
        files={"file": ("x.csv", io.BytesIO(body), "text/csv")},
        headers=auth_headers(bob),
    )
    assert response.status_code in (200, 422), response.text
    assert len(_ids_of(database, alice.id)) == 4


def test_export_contains_only_the_callers_rows(app, client, alice_and_bob, auth_headers):
    _require_route(app, "GET", "/transactions/export")
    _, bob = alice_and_bob
    response = client.get("/transactions/export", headers=auth_headers(bob))
    assert response.status_code == 200
    assert "Bob bakery" in response.text and "Bob cinema" in response.text
    assert "Alice" not in response.text and "Secret" not in response.text
