"""ApiClient against httpx.MockTransport: typed results, and its own errors for each failure."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from spending_ui.api import (
    ApiClient,
    ApiError,
    AuthExpired,
    BackendUnavailable,
    CategoryTotal,
    ImportOptions,
    ImportRejected,
    InvalidCredentials,
    InvalidRequest,
    LoginLocked,
)

METRICS = {
    "total_spend": 1234.5,
    "transaction_count": 3,
    "average_monthly_spend": 617.25,
    "average_transaction": 411.5,
    "first_transaction": "2026-01-03",
    "last_transaction": "2026-02-10",
    "top_categories": [
        {"category": "Rent", "total": 1000.0, "count": 1, "share": 0.81},
        {"category": "Food", "total": 234.5, "count": 2, "share": 0.19},
    ],
    "spend_over_time": [
        {"period_start": "2026-01-01", "total": 1010.1, "count": 2},
        {"period_start": "2026-02-01", "total": 224.4, "count": 1},
    ],
}


def client_for(handler, token: str | None = "tok") -> ApiClient:
    return ApiClient("http://api.test", token=token, transport=httpx.MockTransport(handler))


def run(coro):
    """Run a coroutine on its own thread: a browser test may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_login_returns_the_token_and_keeps_it_on_this_client_only():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            200, json={"access_token": "abc", "token_type": "bearer", "expires_in": 3600}
        )

    client = client_for(handler, token=None)
    other = client_for(handler, token=None)
    token = run(client.login("ana", "pw"))
    assert token.access_token == "abc" and token.expires_in == 3600
    assert seen["body"] == {"username": "ana", "password": "pw"}
    assert client.token == "abc" and other.token is None


@pytest.mark.parametrize(
    ("status", "headers", "error", "text"),
    [
        (401, {}, InvalidCredentials, "Incorrect username or password"),
        (429, {"Retry-After": "600"}, LoginLocked, "Try again in 10 min"),
        (503, {}, BackendUnavailable, "unavailable"),
    ],
)
def test_login_failures_have_their_own_errors(status, headers, error, text):
    client = client_for(lambda r: httpx.Response(status, headers=headers, json={"detail": "x"}))
    with pytest.raises(error) as raised:
        run(client.login("ana", "bad"))
    assert text in raised.value.message


def test_metrics_are_parsed_exactly_and_send_the_filters():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["query"] = request.url.params.multi_items()
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(200, json=METRICS)

    params = [("start", "2026-01-01"), ("category", "Rent"), ("category", "Food")]
    metrics = run(client_for(handler).metrics(params, "week"))
    assert seen["query"] == [*params, ("granularity", "week")]
    assert seen["auth"] == "Bearer tok"
    assert metrics.total_spend == Decimal("1234.5")
    assert metrics.spend_over_time[0].total == Decimal("1010.1")  # not 1010.0999999
    assert metrics.top_category.category == "Rent"
    assert metrics.first_transaction == date(2026, 1, 3)
    assert metrics.category_total("Food") == Decimal("234.5")
    assert metrics.category_total("Nope") == 0


def test_transactions_read_the_total_from_the_header():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["limit"] == "25" and request.url.params["offset"] == "50"
        assert request.url.params["sort"] == "-amount"
        body = [
            {
                "id": 7,
                "amount": 12.3,
                "category": "Food",
                "timestamp": "2026-01-03T12:00:00",
                "description": None,
            }
        ]
        return httpx.Response(200, json=body, headers={"X-Total-Count": "51"})

    page = run(client_for(handler).transactions([], sort="-amount", limit=25, offset=50))
    assert page.total == 51
    assert page.items[0].amount == Decimal("12.3") and page.items[0].description is None


def test_401_is_auth_expired():
    client = client_for(lambda r: httpx.Response(401, json={"detail": "Not authenticated"}))
    with pytest.raises(AuthExpired):
        run(client.metrics([]))


def test_no_token_is_auth_expired_without_a_request():
    def handler(request):  # pragma: no cover - must not be called
        raise AssertionError("no request without a token")

    with pytest.raises(AuthExpired):
        run(client_for(handler, token=None).categories())


def test_422_is_invalid_request_with_a_readable_message():
    detail = [{"loc": ["query", "start"], "msg": "Input should be a valid date"}]
    client = client_for(lambda r: httpx.Response(422, json={"detail": detail}))
    with pytest.raises(InvalidRequest) as raised:
        run(client.metrics([("start", "nope")]))
    assert raised.value.message == "start: Input should be a valid date"
    assert raised.value.status == 422


def test_5xx_is_an_api_error_without_internals():
    client = client_for(lambda r: httpx.Response(500, text="Traceback: secret"))
    with pytest.raises(ApiError) as raised:
        run(client.metrics([]))
    assert not isinstance(raised.value, BackendUnavailable)
    assert "secret" not in raised.value.message and raised.value.status == 500


def test_timeout_and_refused_connection_are_backend_unavailable():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(BackendUnavailable, match="too long"):
        run(client_for(timeout).metrics([]))
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        run(client_for(refused).transactions([]))


def test_import_sends_the_file_and_returns_counts():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/transactions/import"
        assert b'name="file"; filename="bank.csv"' in request.content
        return httpx.Response(200, json={"inserted": 2, "skipped_duplicates": 1, "total_rows": 3})

    result = run(client_for(handler).import_file("bank.csv", b"a,b\n"))
    assert (result.inserted, result.skipped_duplicates, result.total_rows) == (2, 1, 3)


def test_import_rejection_carries_the_row_errors():
    detail = {
        "message": "2 rows are invalid",
        "error_count": 2,
        "errors": [
            {"line": 2, "column": "date", "value": "x", "reason": "not a date"},
            {"line": 3, "column": "amount", "value": "y", "reason": "not a number"},
        ],
    }
    client = client_for(lambda r: httpx.Response(422, json={"detail": detail}))
    with pytest.raises(ImportRejected) as raised:
        run(client.import_file("bank.csv", b"x"))
    assert raised.value.error_count == 2
    assert [e.line for e in raised.value.errors] == [2, 3]
    assert raised.value.message == "2 rows are invalid"


def test_upload_too_large_is_explained():
    client = client_for(lambda r: httpx.Response(413, json={"detail": "Upload too large"}))
    with pytest.raises(InvalidRequest, match="too large"):
        run(client.import_file("big.csv", b"x"))


# -- #13: accounts, income, the import's preview and options -------------------------------

INCOME_METRICS = {
    **METRICS,
    "total_income": 2500.0,
    "net_savings": 1265.5,
    "savings_rate": 0.5062,
    "income_categories": [{"category": "Salary", "total": 2500.0, "count": 1, "share": 1.0}],
    "category_groups": [{"category": "Home", "total": 1234.5, "count": 3, "share": 1.0}],
    "income_groups": [{"category": "Work", "total": 2500.0, "count": 1, "share": 1.0}],
    "spend_over_time": [
        {"period_start": "2026-01-01", "total": 1010.1, "count": 2, "income": 2500.0},
        {"period_start": "2026-02-01", "total": 224.4, "count": 1, "income": 0.0},
    ],
}


def test_metrics_read_income_net_savings_and_a_null_savings_rate():
    metrics = run(client_for(lambda r: httpx.Response(200, json=INCOME_METRICS)).metrics([]))
    assert metrics.total_income == Decimal("2500.0")
    assert metrics.net_savings == Decimal("1265.5") and metrics.savings_rate == Decimal("0.5062")
    assert [c.category for c in metrics.income_categories] == ["Salary"]
    assert [p.income for p in metrics.spend_over_time] == [Decimal("2500.0"), Decimal("0.0")]
    # Income-only spending lists stay as they are: top_categories is spending.
    assert [c.category for c in metrics.top_categories] == ["Rent", "Food"]
    assert metrics.category_groups == [CategoryTotal("Home", Decimal("1234.5"), 3, Decimal(1))]
    assert [(c.category, c.total) for c in metrics.income_groups] == [("Work", Decimal(2500))]
    none = {**INCOME_METRICS, "total_income": 0.0, "net_savings": -1234.5, "savings_rate": None}
    metrics = run(client_for(lambda r: httpx.Response(200, json=none)).metrics([]))
    assert metrics.savings_rate is None and metrics.net_savings == Decimal("-1234.5")


def test_categories_are_read_by_name():
    body = [{"id": 3, "name": "Salary", "kind": "income", "count": 2, "colour": None}]
    categories = run(client_for(lambda r: httpx.Response(200, json=body)).categories())
    assert [(c.category, c.kind, c.count) for c in categories] == [("Salary", "income", 2)]


def test_accounts_are_listed_and_created():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            seen["body"] = json.loads(request.content)
            return httpx.Response(201, json={"id": 9, "institution": None, **seen["body"]})
        return httpx.Response(
            200,
            json=[
                {
                    "id": 1,
                    "name": "Main account",
                    "kind": "checking",
                    "currency": "EUR",
                    "institution": None,
                }
            ],
        )

    client = client_for(handler)
    [main] = run(client.accounts())
    assert (main.id, main.name, main.kind, main.currency) == (1, "Main account", "checking", "EUR")
    card = run(client.create_account(name="Visa", kind="credit_card", currency="USD"))
    assert seen["body"] == {"name": "Visa", "kind": "credit_card", "currency": "USD"}
    assert card.id == 9 and card.kind == "credit_card"


def test_a_duplicate_account_name_is_the_apis_sentence():
    client = client_for(
        lambda r: httpx.Response(409, json={"detail": "An account with this name already exists"})
    )
    with pytest.raises(ApiError) as raised:
        run(client.create_account(name="Main account", kind="checking", currency="EUR"))
    assert (
        raised.value.status == 409
        and raised.value.message == "An account with this name already exists"
    )


PREVIEW = {
    "detection": {
        "format": "csv",
        "encoding": "cp1252",
        "delimiter": ";",
        "header_line": 3,
        "header": ["Buchungstag", "Verwendungszweck", "Betrag (EUR)", "Saldo"],
        "columns": [
            {"index": 0, "name": "Buchungstag", "role": "date"},
            {"index": 1, "name": "Verwendungszweck", "role": "description"},
            {"index": 2, "name": "Betrag (EUR)", "role": "amount"},
            {"index": 3, "name": "Saldo", "role": "balance"},
        ],
        "mapping": {"date": [0], "description": [1], "amount": [2], "balance": [3]},
        "date_format": "%d.%m.%Y",
        "amount_sign": "spend_negative",
        "decimal_separator": ",",
        "currency": "EUR",
        "undecided": [],
    },
    "rows": [
        {
            "line": 4,
            "timestamp": "2026-03-02T00:00:00",
            "amount": 12.5,
            "description": "REWE",
            "notes": None,
            "category": None,
            "type": None,
            "currency": "EUR",
            "external_id": None,
            "kind_hint": None,
        }
    ],
    "skipped_rows": [{"line": 9, "reason": "opening balance"}],
    "skipped_row_count": 1,
    "problems": [],
    "problem_count": 0,
    "message": None,
}


def test_the_preview_sends_the_account_as_a_form_field_and_the_options_as_the_query():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["path"] = request.url.path
        seen["query"] = request.url.params.multi_items()
        seen["body"] = request.content
        return httpx.Response(200, json=PREVIEW)

    options = ImportOptions(
        account_id=4,
        mapping={"date": [0], "description": [1, 2], "amount": [3]},
        has_header=False,
        date_format="%d.%m.%Y",
        amount_sign="spend_negative",
        encoding="cp1252",
    )
    preview = run(client_for(handler).preview_import("giro.csv", b"x;y\n", options))
    assert seen["path"] == "/transactions/import/preview"
    assert seen["query"] == [
        ("mapping", '{"date":0,"description":[1,2],"amount":3}'),
        ("has_header", "false"),
        ("date_format", "%d.%m.%Y"),
        ("amount_sign", "spend_negative"),
        ("encoding", "cp1252"),
    ]
    assert b'name="account_id"\r\n\r\n4\r\n' in seen["body"]
    assert b'filename="giro.csv"' in seen["body"]
    found = preview.detection
    assert found.header_line == 3 and found.mapping["amount"] == [2]
    assert [c.role for c in found.columns] == ["date", "description", "amount", "balance"]
    assert preview.rows[0].amount == Decimal("12.5") and preview.rows[0].description == "REWE"
    assert preview.skipped_rows[0].reason == "opening balance"


def test_no_options_send_no_query_and_no_account():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["query"], seen["body"] = request.url.params.multi_items(), request.content
        return httpx.Response(200, json=PREVIEW)

    run(client_for(handler).preview_import("a.csv", b"x"))
    assert seen["query"] == [] and b"account_id" not in seen["body"]


def test_the_import_answer_lists_the_skipped_rows_and_its_ids():
    answer = {
        "inserted": 2,
        "skipped_duplicates": 0,
        "total_rows": 3,
        "skipped_rows": [{"line": 5, "reason": "pending"}],
        "skipped_row_count": 1,
        "import_id": 17,
        "account_id": 4,
    }
    result = run(
        client_for(lambda r: httpx.Response(200, json=answer)).import_file(
            "a.csv", b"x", ImportOptions(account_id=4)
        )
    )
    assert (result.import_id, result.account_id, result.skipped_row_count) == (17, 4, 1)
    assert result.skipped_rows[0].line == 5 and result.skipped_rows[0].reason == "pending"


def test_another_users_account_is_the_apis_404_sentence():
    client = client_for(lambda r: httpx.Response(404, json={"detail": "Account not found"}))
    with pytest.raises(ApiError, match="Account not found"):
        run(client.preview_import("a.csv", b"x", ImportOptions(account_id=999)))
