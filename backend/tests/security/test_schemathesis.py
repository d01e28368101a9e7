"""Property-based fuzzing of every operation in the app's own OpenAPI schema (Schemathesis).

Authenticated as a seeded user with data. Checks on every generated request: no 5xx, the
status code is documented, the body and headers match the documented schema, invalid input
is rejected with a 4xx and valid input accepted, and the operation refuses to run without
the token. Bounded by MAX_EXAMPLES per operation and mode so it stays a small part of
`make test`.
"""

import copy
import io
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


# The schemathesis pytest plugin's lazy loader does not run on pytest 9, so each operation is
# a parametrized test driving its strategy through Hypothesis directly.
@pytest.mark.slow
@pytest.mark.parametrize("method,path,mode", _operations())
def test_api_conforms_to_its_schema(app, seeded_headers, method, path, mode):
    # What from_asgi("/openapi.json", app) loads, without generating the document again.
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_schema()))
    schema.app, schema.location = app, "/openapi.json"
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
    ("POST", "/me/password", "400"): (
        {"content": b"\xc3\x28\xa0\xa1", "headers": {"content-type": "application/json"}},
        {"auth": True},
    ),
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
    ("GET", "/categories", "200"): ({}, {"auth": True}),
    ("GET", "/categories", "401"): ({}, {}),
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
    ("GET", "/metrics", "200"): ({}, {"auth": True}),
    ("GET", "/metrics", "401"): ({}, {}),
    ("GET", "/metrics", "422"): ({"params": {"granularity": "year"}}, {"auth": True}),
}
ELSEWHERE = {
    "503": "tests/reliability/test_db_restart.py (database stopped under load)",
    "429": "tests/security/test_brute_force.py (login lock across workers)",
    "408": "tests/security/test_limits.py::test_a_stalled_body_gets_408 (a slow real client)",
    "431": "tests/security/test_limits.py::test_oversized_headers_are_431 (any route)",
}


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
    for (method, path, status), (kwargs, how) in in_order:
        assert (method, path, status) in documented, f"{method} {path} {status} undocumented"
        limited = settings.model_copy(
            update={"max_upload_bytes": 10_000} if how.get("small") else {}
        )
        with TestClient(create_app(settings=limited, database=database)) as client:
            url = path
            if how.get("id") == "own":
                with database.session() as session:
                    own = session.scalars(
                        select(Transaction.id).where(Transaction.user_id == seeded_user.id)
                    ).first()
                url = path.replace("{transaction_id}", str(own))
            elif "id" in how:
                url = path.replace("{transaction_id}", how["id"])
            auth = seeded_headers if how.get("auth") else {}
            if how.get("auth") == "own-session":
                login = {"username": "fuzz-owner", "password": "correct horse"}
                token = client.post("/login", json=login).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
            headers = {**kwargs.get("headers", {}), **auth}
            request = {k: v for k, v in kwargs.items() if k != "headers"}
            response = client.request(method, url, headers=headers, **request)
        assert str(response.status_code) == status, (method, path, response.text[:300])
