"""Property-based fuzzing of every operation in the app's own OpenAPI schema (Schemathesis).

Authenticated as a seeded user with data. Checks on every generated request: no 5xx, the
status code is documented, the body and headers match the documented schema, invalid input
is rejected with a 4xx and valid input accepted, and the operation refuses to run without
the token. Bounded by MAX_EXAMPLES per operation and mode so it stays a small part of
`make test`.
"""

import copy
import io
import re
import uuid
from contextlib import ExitStack
from functools import lru_cache

import hypothesis
import pytest
import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from spending_api.main import create_app
from spending_api.settings import Settings

# 20 per operation and mode (was 40): every operation still gets valid and invalid requests of
# each kind of parameter; the tail of 40 added time (the fuzzing was a sixth of `make test`).
MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def _fuzzed_app(settings, database):
    """One app for the module's fuzzing, not the conftest's shared one: Schemathesis starts
    an app's lifespan on its first request and keeps it running until the process exits,
    which the other modules' tests (a lifespan per TestClient) must not run under."""
    return create_app(settings=settings, database=database)


@pytest.fixture
def fuzzed_app(_fuzzed_app):
    """The module's app with an empty response cache: no answer cached by an earlier test
    stands in for one this test's requests must compute."""
    cache = _fuzzed_app.state.response_cache
    _fuzzed_app.state.response_cache = None if cache is None else type(cache)(cache.max_bytes)
    return _fuzzed_app


@pytest.fixture
def seeded_user(make_user, add_transactions):
    user = make_user("fuzz-owner")
    add_transactions(
        user,
        [
            ("2024-01-05T09:00", "12.34", "Food", "Bakery"),
            ("2024-01-31T23:59", "1000.00", "Rent", None),
            ("2024-02-29T12:00", "-5.00", "Refund", "Returned 'shoes' 100%"),
            ("2024-03-01T00:00", "0.01", "Fün ☕", "naïve café"),
        ],
    )
    return user


@pytest.fixture
def seeded_headers(seeded_user, auth_headers):
    return auth_headers(seeded_user)


@lru_cache
def _schema() -> dict:
    """The app's OpenAPI document, generated once (about half a second per app).

    The schema needs no database: the engine connects on first use only."""
    unused = "postgresql+psycopg://nobody@127.0.0.1:1/unused"
    app = create_app(Settings(_env_file=None, database_url=unused, environment="test"))
    return app.openapi()


def _operations() -> list:
    """(method, path, mode) for every documented operation, read at collection time.

    Negative cases only for operations that take parameters or a body: with none there is
    nothing to make invalid.
    """
    cases = []
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            modes = [GenerationMode.POSITIVE]
            if operation.get("parameters") or operation.get("requestBody"):
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                cases.append(pytest.param(method.upper(), path, mode))
    return sorted(cases, key=lambda p: p.values[:2] + (p.values[2].value,))


# A file's content is not described by the schema: a schema-valid upload may be a bad CSV,
# and the 422 for it is documented. Every other check still applies to the import and its
# preview.
# The same holds for the `mapping` option, a JSON text whose content the schema cannot say.
EXCLUDED_CHECKS = {
    ("POST", "/transactions/import"): [positive_data_acceptance],
    ("POST", "/transactions/import/preview"): [positive_data_acceptance],
}
# The filter endpoints document 422 for rules OpenAPI cannot express (start <= end,
# min_amount <= max_amount, no NUL characters, real calendar dates), so for them "valid by the
# schema" does not imply accepted; every other check applies.
for _path in ("/transactions", "/metrics", "/transactions/export"):
    EXCLUDED_CHECKS[("GET", _path)] = [negative_data_rejection, positive_data_acceptance]
# A rule is checked beyond its schema (a category that exists, a regular expression RE2
# compiles, at least one action, minimum <= maximum): its 422 is documented.
for _operation in (("POST", "/rules"), ("PATCH", "/rules/{rule_id}"), ("POST", "/rules/preview")):
    EXCLUDED_CHECKS[_operation] = [positive_data_acceptance]
# A correction names a category, an account or a transaction that must be the user's
# (422 unknown_category, 404), and takes amounts in cents only: a schema-valid body is
# often refused, as documented. Invalid ones must still be rejected.
for _operation in (
    ("POST", "/transactions"),
    ("PATCH", "/transactions"),
    ("PATCH", "/transactions/{transaction_id}"),
):
    EXCLUDED_CHECKS[_operation] = [positive_data_acceptance]


# The schemathesis pytest plugin's lazy loader does not run on pytest 9, so each operation is
# a parametrized test driving its strategy through Hypothesis directly.
@pytest.mark.slow
@pytest.mark.parametrize("method,path,mode", _operations())
def test_api_conforms_to_its_schema(fuzzed_app, seeded_headers, method, path, mode):
    # What from_asgi("/openapi.json", app) loads, without generating the document again.
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_schema()))
    schema.app, schema.location = fuzzed_app, "/openapi.json"
    # An invalid body may also be too large: the documented 413 rejects it as surely as a 422.
    rejection = schema.config.checks.negative_data_rejection
    if "413" not in rejection.expected_statuses:
        rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    operation = schema[path][method]
    excluded = EXCLUDED_CHECKS.get((method, path), [])

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        database=None,
    )
    def check(case):
        case.call_and_validate(headers=seeded_headers, excluded_checks=excluded)

    check()


def _csv(text: str) -> dict:
    return {"files": {"file": ("t.csv", io.BytesIO(text.encode()), "text/csv")}}


GOOD_CSV = "date,amount,category,description\n2024-06-01,9.99,Food,Lunch\n"
PASSWORD_CHANGE = {"current_password": "correct horse", "new_password": "correct horse"}
MANUAL = {"timestamp": "2024-06-02T10:00:00", "amount": "3.50", "category": "Food"}
BULK = {"filters": {"category": ["Food"]}, "change": {"notes": "checked"}, "dry_run": True}
UNDECODABLE = {"content": b"\xc3\x28\xa0\xa1", "headers": {"content-type": "application/json"}}
# One request per documented (method, path, status) that this process can produce; 503 is
# produced by the database-restart test in tests/reliability.
PRODUCERS = {
    ("GET", "/health", "200"): ({}, {}),
    ("POST", "/login", "200"): (
        {"json": {"username": "fuzz-owner", "password": "correct horse"}},
        {},
    ),
    ("POST", "/login", "401"): ({"json": {"username": "fuzz-owner", "password": "wrong"}}, {}),
    ("POST", "/login", "415"): ({"content": b"x", "headers": {"content-type": "text/plain"}}, {}),
    ("POST", "/login", "422"): ({"json": {"username": ""}}, {}),
    ("POST", "/login", "413"): ({"json": {"username": "x", "password": "p" * 9000}}, {}),
    ("POST", "/refresh", "200"): ({}, {"auth": True}),
    ("POST", "/refresh", "401"): ({}, {}),
    # Its own session (a fresh login), so the seeded token stays valid for the others.
    ("POST", "/logout", "204"): ({}, {"auth": "own-session"}),
    ("POST", "/logout", "401"): ({}, {}),
    ("POST", "/me/password", "400"): (UNDECODABLE, {"auth": True}),
    ("POST", "/me/password", "401"): ({"json": PASSWORD_CHANGE}, {}),
    ("POST", "/me/password", "403"): (
        {"json": {**PASSWORD_CHANGE, "current_password": "wrong"}},
        {"auth": True},
    ),
    ("POST", "/me/password", "413"): (
        {"json": {**PASSWORD_CHANGE, "padding": "x" * 70_000}},
        {"auth": True},
    ),
    ("POST", "/me/password", "422"): (
        {"json": {**PASSWORD_CHANGE, "new_password": "short"}},
        {"auth": True},
    ),
    # Ends every session of the user (the seeded token too): run last.
    ("POST", "/me/password", "200"): ({"json": PASSWORD_CHANGE}, {"auth": True, "last": True}),
    ("GET", "/me", "200"): ({}, {"auth": True}),
    ("GET", "/me", "401"): ({}, {}),
    ("GET", "/transactions", "200"): ({}, {"auth": True}),
    ("GET", "/transactions", "401"): ({}, {}),
    ("GET", "/transactions", "422"): ({"params": {"limit": 0}}, {"auth": True}),
    ("DELETE", "/transactions/{transaction_id}", "204"): ({}, {"auth": True, "id": "own"}),
    ("DELETE", "/transactions/{transaction_id}", "401"): ({}, {"id": "own"}),
    ("DELETE", "/transactions/{transaction_id}", "404"): ({}, {"auth": True, "id": "999999"}),
    ("DELETE", "/transactions/{transaction_id}", "422"): ({}, {"auth": True, "id": "0"}),
    ("POST", "/transactions", "201"): ({"json": MANUAL}, {"auth": True}),
    ("POST", "/transactions", "400"): (UNDECODABLE, {"auth": True}),
    ("POST", "/transactions", "401"): ({"json": MANUAL}, {}),
    ("POST", "/transactions", "404"): ({"json": {**MANUAL, "account_id": 999999}}, {"auth": True}),
    ("POST", "/transactions", "413"): (
        {"json": {**MANUAL, "notes": "x" * 70_000}},
        {"auth": True},
    ),
    ("POST", "/transactions", "422"): ({"json": {**MANUAL, "category": "No such"}}, {"auth": True}),
    ("PATCH", "/transactions", "200"): ({"json": BULK}, {"auth": True}),
    ("PATCH", "/transactions", "400"): (UNDECODABLE, {"auth": True}),
    ("PATCH", "/transactions", "401"): ({"json": BULK}, {}),
    ("PATCH", "/transactions", "413"): (
        {"json": {**BULK, "change": {"notes": "x" * 70_000}}},
        {"auth": True},
    ),
    ("PATCH", "/transactions", "422"): ({"json": {**BULK, "ids": [1]}}, {"auth": True}),
    ("PATCH", "/transactions/{transaction_id}", "200"): (
        {"json": {"notes": "checked"}},
        {"auth": True, "id": "own"},
    ),
    ("PATCH", "/transactions/{transaction_id}", "400"): (UNDECODABLE, {"auth": True, "id": "own"}),
    ("PATCH", "/transactions/{transaction_id}", "401"): ({"json": {}}, {"id": "own"}),
    ("PATCH", "/transactions/{transaction_id}", "404"): (
        {"json": {}},
        {"auth": True, "id": "999999"},
    ),
    ("PATCH", "/transactions/{transaction_id}", "409"): (
        {"json": {"amount": "1.23"}},
        {"auth": True, "id": "own"},
    ),
    ("PATCH", "/transactions/{transaction_id}", "413"): (
        {"json": {"notes": "x" * 70_000}},
        {"auth": True, "id": "own"},
    ),
    ("PATCH", "/transactions/{transaction_id}", "422"): (
        {"json": {"category": None}},
        {"auth": True, "id": "own"},
    ),
    ("GET", "/categories", "200"): ({}, {"auth": True}),
    ("GET", "/categories", "401"): ({}, {}),
    ("POST", "/categories", "201"): ({"json": {"name": "New", "kind": "income"}}, {"auth": True}),
    ("POST", "/categories", "401"): ({"json": {"name": "New", "kind": "income"}}, {}),
    ("POST", "/categories", "404"): (
        {"json": {"name": "Sub", "kind": "spending", "parent_id": 999999}},
        {"auth": True},
    ),
    ("POST", "/categories", "409"): (
        {"json": {"name": "Food", "kind": "spending"}},
        {"auth": True},
    ),
    ("POST", "/categories", "413"): ({"json": {"padding": "x" * 70_000}}, {"auth": True}),
    ("POST", "/categories", "422"): ({"json": {"name": "New"}}, {"auth": True}),
    ("PATCH", "/categories/{category_id}", "200"): ({"json": {}}, {"auth": True, "id": "spare"}),
    ("PATCH", "/categories/{category_id}", "401"): ({"json": {}}, {"id": "spare"}),
    ("PATCH", "/categories/{category_id}", "404"): ({"json": {}}, {"auth": True, "id": "999999"}),
    ("PATCH", "/categories/{category_id}", "409"): (
        {"json": {"name": "Food"}},
        {"auth": True, "id": "spare"},
    ),
    ("PATCH", "/categories/{category_id}", "413"): (
        {"json": {"padding": "x" * 70_000}},
        {"auth": True, "id": "spare"},
    ),
    ("PATCH", "/categories/{category_id}", "422"): (
        {"json": {"kind": "other"}},
        {"auth": True, "id": "spare"},
    ),
    ("DELETE", "/categories/{category_id}", "204"): ({}, {"auth": True, "id": "spare"}),
    ("DELETE", "/categories/{category_id}", "401"): ({}, {"id": "spare"}),
    ("DELETE", "/categories/{category_id}", "404"): ({}, {"auth": True, "id": "999999"}),
    ("DELETE", "/categories/{category_id}", "409"): ({}, {"auth": True, "id": "used"}),
    ("DELETE", "/categories/{category_id}", "422"): ({}, {"auth": True, "id": "0"}),
    ("POST", "/categories/{category_id}/merge", "200"): (
        {"json": {"into": "used"}},
        {"auth": True, "id": "spare"},
    ),
    ("POST", "/categories/{category_id}/merge", "401"): (
        {"json": {"into": "used"}},
        {"id": "spare"},
    ),
    ("POST", "/categories/{category_id}/merge", "404"): (
        {"json": {"into": "used"}},
        {"auth": True, "id": "999999"},
    ),
    ("POST", "/categories/{category_id}/merge", "409"): (
        {"json": {"into": "used"}},
        {"auth": True, "id": "used"},
    ),
    ("POST", "/categories/{category_id}/merge", "413"): (
        {"json": {"padding": "x" * 70_000}},
        {"auth": True, "id": "spare"},
    ),
    ("POST", "/categories/{category_id}/merge", "422"): (
        {"json": {}},
        {"auth": True, "id": "spare"},
    ),
    ("POST", "/categories", "400"): (UNDECODABLE, {"auth": True}),
    ("PATCH", "/categories/{category_id}", "400"): (UNDECODABLE, {"auth": True, "id": "spare"}),
    ("POST", "/categories/{category_id}/merge", "400"): (
        UNDECODABLE,
        {"auth": True, "id": "spare"},
    ),
    ("POST", "/accounts", "400"): (UNDECODABLE, {"auth": True}),
    ("PATCH", "/accounts/{account_id}", "400"): (UNDECODABLE, {"auth": True, "id": "spare"}),
    ("GET", "/accounts", "200"): ({}, {"auth": True}),
    ("GET", "/accounts", "401"): ({}, {}),
    ("POST", "/accounts", "201"): (
        {"json": {"name": "Card", "kind": "credit_card"}},
        {"auth": True},
    ),
    ("POST", "/accounts", "401"): ({"json": {"name": "Card"}}, {}),
    ("POST", "/accounts", "409"): ({"json": {"name": "Main account"}}, {"auth": True}),
    ("POST", "/accounts", "413"): ({"json": {"padding": "x" * 70_000}}, {"auth": True}),
    ("POST", "/accounts", "422"): ({"json": {"name": "Card", "currency": "usd"}}, {"auth": True}),
    ("PATCH", "/accounts/{account_id}", "200"): ({"json": {}}, {"auth": True, "id": "spare"}),
    ("PATCH", "/accounts/{account_id}", "401"): ({"json": {}}, {"id": "spare"}),
    ("PATCH", "/accounts/{account_id}", "404"): ({"json": {}}, {"auth": True, "id": "999999"}),
    ("PATCH", "/accounts/{account_id}", "409"): (
        {"json": {"name": "Main account"}},
        {"auth": True, "id": "spare"},
    ),
    ("PATCH", "/accounts/{account_id}", "413"): (
        {"json": {"padding": "x" * 70_000}},
        {"auth": True, "id": "spare"},
    ),
    ("PATCH", "/accounts/{account_id}", "422"): (
        {"json": {"kind": "stocks"}},
        {"auth": True, "id": "spare"},
    ),
    ("DELETE", "/accounts/{account_id}", "204"): ({}, {"auth": True, "id": "spare"}),
    ("DELETE", "/accounts/{account_id}", "401"): ({}, {"id": "spare"}),
    ("DELETE", "/accounts/{account_id}", "404"): ({}, {"auth": True, "id": "999999"}),
    ("DELETE", "/accounts/{account_id}", "409"): ({}, {"auth": True, "id": "used"}),
    ("DELETE", "/accounts/{account_id}", "422"): ({}, {"auth": True, "id": "0"}),
    ("POST", "/transactions/import", "200"): (_csv(GOOD_CSV), {"auth": True}),
    ("POST", "/transactions/import", "400"): (
        {
            "content": b"not a multipart body",
            "headers": {"content-type": "multipart/form-data; boundary=cut"},
        },
        {"auth": True},
    ),
    ("POST", "/transactions/import", "401"): (_csv(GOOD_CSV), {}),
    ("POST", "/transactions/import", "413"): (_csv(GOOD_CSV * 3000), {"auth": True, "small": 1}),
    ("POST", "/transactions/import", "422"): (_csv("nothing,useful\n1,2\n"), {"auth": True}),
    ("POST", "/transactions/import/preview", "200"): (_csv(GOOD_CSV), {"auth": True}),
    ("POST", "/transactions/import/preview", "400"): (
        {
            "content": b"not a multipart body",
            "headers": {"content-type": "multipart/form-data; boundary=cut"},
        },
        {"auth": True},
    ),
    ("POST", "/transactions/import/preview", "401"): (_csv(GOOD_CSV), {}),
    ("POST", "/transactions/import/preview", "413"): (
        _csv(GOOD_CSV * 3000),
        {"auth": True, "small": 1},
    ),
    ("POST", "/transactions/import/preview", "422"): (_csv(""), {"auth": True}),
    ("GET", "/transactions/export", "200"): ({}, {"auth": True}),
    ("GET", "/transactions/export", "401"): ({}, {}),
    ("GET", "/transactions/export", "422"): ({"params": {"start": "nope"}}, {"auth": True}),
    ("POST", "/transactions/import", "404"): (
        {**_csv(GOOD_CSV), "data": {"account_id": "999999"}},
        {"auth": True},
    ),
    ("POST", "/transactions/import/preview", "404"): (
        {**_csv(GOOD_CSV), "data": {"account_id": "999999"}},
        {"auth": True},
    ),
    ("GET", "/imports", "200"): ({}, {"auth": True}),
    ("GET", "/imports", "401"): ({}, {}),
    ("DELETE", "/imports/{import_id}", "204"): ({}, {"auth": True, "id": "own-import"}),
    ("DELETE", "/imports/{import_id}", "401"): ({}, {"id": "1"}),
    ("DELETE", "/imports/{import_id}", "404"): ({}, {"auth": True, "id": "999999"}),
    ("DELETE", "/imports/{import_id}", "422"): ({}, {"auth": True, "id": "0"}),
    ("GET", "/transfers", "200"): ({}, {"auth": True}),
    ("GET", "/transfers", "401"): ({}, {}),
    ("DELETE", "/transfers/{transfer_id}", "204"): ({}, {"auth": True, "id": "own-transfer"}),
    ("DELETE", "/transfers/{transfer_id}", "401"): ({}, {"id": "1"}),
    ("DELETE", "/transfers/{transfer_id}", "404"): ({}, {"auth": True, "id": "999999"}),
    ("DELETE", "/transfers/{transfer_id}", "422"): ({}, {"auth": True, "id": "0"}),
    ("GET", "/metrics", "200"): ({}, {"auth": True}),
    ("GET", "/metrics", "401"): ({}, {}),
    ("GET", "/metrics", "422"): ({"params": {"granularity": "year"}}, {"auth": True}),
}
RULE = {
    "name": "Coffee",
    "conditions": [{"type": "text", "value": "coffee"}],
    "actions": {"set_category": "Food"},
}
OVERSIZED_RULE = {"json": {**RULE, "padding": "x" * 70_000}}
PRODUCERS.update(
    {
        ("GET", "/rules", "200"): ({}, {"auth": True}),
        ("GET", "/rules", "401"): ({}, {}),
        ("POST", "/rules", "201"): ({"json": RULE}, {"auth": True}),
        ("POST", "/rules", "400"): (UNDECODABLE, {"auth": True}),
        ("POST", "/rules", "401"): ({"json": RULE}, {}),
        ("POST", "/rules", "413"): (OVERSIZED_RULE, {"auth": True}),
        ("POST", "/rules", "422"): ({"json": {**RULE, "actions": {}}}, {"auth": True}),
        ("PATCH", "/rules/{rule_id}", "200"): (
            {"json": {"name": "Tea"}},
            {"auth": True, "id": "own-rule"},
        ),
        ("PATCH", "/rules/{rule_id}", "400"): (UNDECODABLE, {"auth": True, "id": "own-rule"}),
        ("PATCH", "/rules/{rule_id}", "401"): ({"json": {}}, {"id": "1"}),
        ("PATCH", "/rules/{rule_id}", "404"): ({"json": {}}, {"auth": True, "id": "999999"}),
        ("PATCH", "/rules/{rule_id}", "413"): (OVERSIZED_RULE, {"auth": True, "id": "own-rule"}),
        ("PATCH", "/rules/{rule_id}", "422"): (
            {"json": {"name": ""}},
            {"auth": True, "id": "own-rule"},
        ),
        ("DELETE", "/rules/{rule_id}", "204"): ({}, {"auth": True, "id": "own-rule"}),
        ("DELETE", "/rules/{rule_id}", "401"): ({}, {"id": "1"}),
        ("DELETE", "/rules/{rule_id}", "404"): ({}, {"auth": True, "id": "999999"}),
        ("DELETE", "/rules/{rule_id}", "422"): ({}, {"auth": True, "id": "0"}),
        ("POST", "/rules/preview", "200"): ({"json": RULE}, {"auth": True}),
        ("POST", "/rules/preview", "400"): (UNDECODABLE, {"auth": True}),
        ("POST", "/rules/preview", "401"): ({"json": RULE}, {}),
        ("POST", "/rules/preview", "413"): (OVERSIZED_RULE, {"auth": True}),
        ("POST", "/rules/preview", "422"): ({"json": {**RULE, "conditions": []}}, {"auth": True}),
        ("POST", "/rules/apply", "200"): ({"json": {}}, {"auth": True}),
        ("POST", "/rules/apply", "400"): (UNDECODABLE, {"auth": True}),
        ("POST", "/rules/apply", "401"): ({"json": {}}, {}),
        ("POST", "/rules/apply", "404"): ({"json": {"rule_ids": [999999]}}, {"auth": True}),
        ("POST", "/rules/apply", "413"): (
            {"json": {"padding": "x" * 70_000}},
            {"auth": True},
        ),
        ("POST", "/rules/apply", "422"): ({"json": {"rule_ids": "all"}}, {"auth": True}),
    }
)
ACCEPT = "/transactions/{transaction_id}/accept-suggestion"
PRODUCERS.update(
    {
        ("POST", ACCEPT, "200"): ({}, {"auth": True, "id": "own-suggested"}),
        ("POST", ACCEPT, "401"): ({}, {"id": "own"}),
        ("POST", ACCEPT, "404"): ({}, {"auth": True, "id": "999999"}),
        ("POST", ACCEPT, "409"): ({}, {"auth": True, "id": "own"}),
        ("POST", ACCEPT, "422"): ({}, {"auth": True, "id": "0"}),
        ("POST", "/suggestions/refresh", "200"): ({}, {"auth": True}),
        ("POST", "/suggestions/refresh", "401"): ({}, {}),
        ("GET", "/rules/proposals", "200"): ({}, {"auth": True}),
        ("GET", "/rules/proposals", "401"): ({}, {}),
    }
)
ELSEWHERE = {
    "503": "tests/reliability/test_db_restart.py (database stopped under load)",
    "429": "tests/security/test_brute_force.py (login lock across workers)",
    "408": "tests/security/test_limits.py::test_a_stalled_body_gets_408 (a slow real client)",
    "431": "tests/security/test_limits.py::test_oversized_headers_are_431 (any route)",
}


def _record_id(database, user, path: str, which: str) -> int | str:
    """The account or category id a producer needs: "used" (the user's first account, or
    the category "Food": both have transactions) or "spare" (a new account or category
    with none, made now)."""
    from sqlalchemy import select

    from spending_api.models import Account, Category

    model = Account if "{account_id}" in path else Category
    with database.session() as session:
        if which == "used":
            query = select(model.id).where(model.user_id == user.id).order_by(model.id)
            if model is Category:
                query = query.where(Category.name == "Food")
            return session.scalars(query).first()
        spare = model(user_id=user.id, name=f"Spare {uuid.uuid4().hex[:8]}")
        session.add(spare)
        session.commit()
        return spare.id


def _own_transfer(database, user_id: int) -> int:
    """A transfer pair of the user's, stored directly (two accounts, one row each)."""
    from datetime import datetime
    from decimal import Decimal

    from spending_api.models import Account, Transaction, TransferPair

    with database.session() as session:
        accounts = [Account(user_id=user_id, name=f"pair {n} {datetime.now()}") for n in (1, 2)]
        session.add_all(accounts)
        session.flush()
        sides = [
            Transaction(
                user_id=user_id,
                account_id=account.id,
                amount=Decimal(amount),
                category="Transfer",
                timestamp=datetime(2024, 6, 1),
            )
            for account, amount in zip(accounts, ("5.00", "-5.00"))
        ]
        session.add_all(sides)
        session.flush()
        pair = TransferPair(
            user_id=user_id,
            out_transaction_id=sides[0].id,
            in_transaction_id=sides[1].id,
            out_previous_category="Food",
            in_previous_category="Food",
        )
        session.add(pair)
        session.commit()
        return pair.id


def test_every_documented_status_is_real(settings, database, seeded_user, seeded_headers):
    """Each status the schema documents is produced by a real request, here or (for 429 and
    503) in the named test; a newly documented status fails here until it has a producer."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from spending_api.models import Transaction

    documented = {
        (method.upper(), path, status)
        for path, operations in _schema()["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    missing = {key for key in documented if key not in PRODUCERS and key[2] not in ELSEWHERE}
    assert not missing, f"no request produces {sorted(missing)}"
    in_order = sorted(PRODUCERS.items(), key=lambda item: (item[1][1].get("last", False), item))
    # One app per settings (an app and its start-up cost about 0.15 s: once per request was
    # most of this test's time); each request is still answered by the real app.
    clients: dict[bool, TestClient] = {}
    with ExitStack() as running:
        for (method, path, status), (kwargs, how) in in_order:
            assert (method, path, status) in documented, f"{method} {path} {status} undocumented"
            small = bool(how.get("small"))
            if small not in clients:
                limited = settings.model_copy(update={"max_upload_bytes": 10_000} if small else {})
                app = create_app(settings=limited, database=database)
                clients[small] = running.enter_context(TestClient(app))
            client = clients[small]
            url = path
            if how.get("id") in ("used", "spare"):
                record_id = _record_id(database, seeded_user, path, how["id"])
                url = re.sub(r"\{\w+_id\}", str(record_id), path)
            elif how.get("id") == "own-suggested":
                with database.session() as session:
                    # The oldest: a seeded (imported) row, not one a producer added.
                    own = session.scalars(
                        select(Transaction.id)
                        .where(Transaction.user_id == seeded_user.id)
                        .order_by(Transaction.id)
                    ).first()
                    session.execute(
                        Transaction.__table__.update()
                        .where(Transaction.id == own)
                        .values(suggested_category="Food", suggestion_confidence=0.9)
                    )
                    session.commit()
                url = path.replace("{transaction_id}", str(own))
            elif how.get("id") == "own":
                with database.session() as session:
                    # The oldest: a seeded (imported) row, not one a producer added.
                    own = session.scalars(
                        select(Transaction.id)
                        .where(Transaction.user_id == seeded_user.id)
                        .order_by(Transaction.id)
                    ).first()
                url = path.replace("{transaction_id}", str(own))
            elif how.get("id") == "own-rule":
                created = client.post("/rules", json=RULE, headers=seeded_headers)
                url = path.replace("{rule_id}", str(created.json()["id"]))
            elif how.get("id") == "own-import":
                imported = client.post(
                    "/transactions/import", headers=seeded_headers, **_csv(GOOD_CSV)
                )
                url = path.replace("{import_id}", str(imported.json()["import_id"]))
            elif how.get("id") == "own-transfer":
                url = path.replace("{transfer_id}", str(_own_transfer(database, seeded_user.id)))
            elif "id" in how:
                url = re.sub(r"\{\w+\}", how["id"], path)
            if kwargs.get("json", {}).get("into") == "used":
                used = _record_id(database, seeded_user, path, "used")
                kwargs = {**kwargs, "json": {"into": used}}
            auth = seeded_headers if how.get("auth") else {}
            if how.get("auth") == "own-session":
                login = {"username": "fuzz-owner", "password": "correct horse"}
                token = client.post("/login", json=login).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
            headers = {**kwargs.get("headers", {}), **auth}
            request = {k: v for k, v in kwargs.items() if k != "headers"}
            response = client.request(method, url, headers=headers, **request)
            assert str(response.status_code) == status, (method, path, response.text[:300])
