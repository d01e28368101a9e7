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


def test_categories_are_read_from_the_category_records():
    records = [
        {
            "id": 7,
            "name": "Food",
            "kind": "spending",
            "count": 2,
            "colour": None,
            "parent_id": None,
        },
        {
            "id": 8,
            "name": "Salary",
            "kind": "income",
            "count": 0,
            "colour": "#00ff00",
            "parent_id": 7,
        },
    ]
    categories = run(client_for(lambda r: httpx.Response(200, json=records)).categories())
    assert [(c.category, c.count) for c in categories] == [("Food", 2), ("Salary", 0)]


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

    result = run(client_for(handler).import_csv("bank.csv", b"a,b\n"))
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
        run(client.import_csv("bank.csv", b"x"))
    assert raised.value.error_count == 2
    assert [e.line for e in raised.value.errors] == [2, 3]
    assert raised.value.message == "2 rows are invalid"


def test_upload_too_large_is_explained():
    client = client_for(lambda r: httpx.Response(413, json={"detail": "Upload too large"}))
    with pytest.raises(InvalidRequest, match="too large"):
        run(client.import_csv("big.csv", b"x"))
