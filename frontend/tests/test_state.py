"""The session state without a browser: filters, URL round trip, previous period, auth, store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import base64
import json
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode

import httpx
import panel as pn
import pytest

from spending_ui.api import ApiClient
from spending_ui.state import (
    AuthState,
    Filters,
    months_before,
    period_end,
    preset_range,
    previous_period,
)
from spending_ui import store as store_module
from spending_ui.store import DashboardStore

TODAY = date(2026, 3, 31)
CATEGORY_FOOD = {
    "id": 1,
    "name": "Food",
    "kind": "spending",
    "count": 2,
    "colour": None,
    "parent_id": None,
}
METRICS = {
    "total_spend": 100.0,
    "transaction_count": 2,
    "average_monthly_spend": 100.0,
    "average_transaction": 50.0,
    "first_transaction": "2026-03-01",
    "last_transaction": "2026-03-02",
    "top_categories": [{"category": "Food", "total": 100.0, "count": 2, "share": 1.0}],
    "spend_over_time": [{"period_start": "2026-03-01", "total": 100.0, "count": 2}],
}


def run(coro):
    """Run a coroutine on its own thread: a browser test may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def jwt_with_exp(exp: datetime) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'sub': '1', 'exp': int(exp.timestamp())})}.sig"


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("this_month", date(2026, 3, 1), TODAY),
        ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
        ("last_30_days", date(2026, 3, 2), TODAY),
        ("last_3_months", date(2026, 1, 1), TODAY),
        ("last_12_months", date(2025, 4, 1), TODAY),
        ("this_year", date(2026, 1, 1), TODAY),
        ("all", None, None),
    ],
)
def test_presets(preset, start, end):
    assert preset_range(preset, TODAY) == (start, end)
    filters = Filters(today=TODAY, preset=preset)
    assert (filters.start, filters.end) == (start, end)


def test_months_before_clamps_to_the_month_end():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
    assert period_end(date(2026, 2, 1), "month") == date(2026, 2, 28)
    assert period_end(date(2026, 3, 2), "week") == date(2026, 3, 8)


def test_filters_become_query_parameters():
    filters = Filters(today=TODAY, preset="last_30_days")
    filters.param.update(categories=["Food", "Rent"], min_amount=5, max_amount=99.5, q=" cafe ")
    assert filters.to_params() == [
        ("start", "2026-03-02"),
        ("end", "2026-03-31"),
        ("category", "Food"),
        ("category", "Rent"),
        ("min_amount", "5.00"),
        ("max_amount", "99.50"),
        ("q", "cafe"),
    ]
    assert Filters(today=TODAY, preset="all").to_params() == []


def test_editing_a_date_makes_the_range_custom():
    filters = Filters(today=TODAY, preset="this_month")
    filters.start = date(2026, 2, 15)
    assert filters.preset == "custom"
    assert (filters.start, filters.end) == (date(2026, 2, 15), TODAY)
    filters.preset = "this_year"
    assert (filters.start, filters.end) == (date(2026, 1, 1), TODAY)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # A whole month: the previous calendar month (1 August has the rent too).
        (date(2026, 9, 1), date(2026, 9, 30), (date(2026, 8, 1), date(2026, 8, 31))),
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 1, 1), date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),
        # A quarter, a year: the previous quarter, the previous year.
        (date(2026, 4, 1), date(2026, 6, 30), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 1, 1), date(2026, 3, 31), (date(2025, 10, 1), date(2025, 12, 31))),
        (date(2025, 1, 1), date(2025, 12, 31), (date(2024, 1, 1), date(2024, 12, 31))),
        # A month to date: the same days of the previous month, clamped to its end.
        (date(2026, 3, 1), date(2026, 3, 10), (date(2026, 2, 1), date(2026, 2, 10))),
        (date(2024, 3, 1), date(2024, 3, 30), (date(2024, 2, 1), date(2024, 2, 29))),
        # A year to date: the same days of the previous year.
        (date(2026, 1, 1), date(2026, 3, 15), (date(2025, 1, 1), date(2025, 3, 15))),
        # Anything else: as many days just before.
        (date(2026, 3, 2), date(2026, 3, 31), (date(2026, 1, 31), date(2026, 3, 1))),
        (date(2026, 9, 2), date(2026, 9, 30), (date(2026, 8, 4), date(2026, 9, 1))),
        (date(2026, 3, 2), date(2026, 3, 8), (date(2026, 2, 23), date(2026, 3, 1))),
        (date(2026, 2, 1), date(2026, 3, 15), (date(2025, 12, 20), date(2026, 1, 31))),
        (date(2026, 3, 5), date(2026, 3, 5), (date(2026, 3, 4), date(2026, 3, 4))),
        # Open or reversed: nothing to compare.
        (None, date(2026, 3, 5), None),
        (date(2026, 3, 5), None, None),
        (date(2026, 3, 6), date(2026, 3, 5), None),
    ],
)
def test_previous_period(start, end, expected):
    assert previous_period(start, end) == expected


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        ("this_month", TODAY, (date(2026, 2, 1), date(2026, 2, 28))),
        ("this_month", date(2026, 3, 12), (date(2026, 2, 1), date(2026, 2, 12))),
        ("last_month", TODAY, (date(2026, 1, 1), date(2026, 1, 31))),
        ("this_year", TODAY, (date(2025, 1, 1), date(2025, 3, 31))),
        ("this_year", date(2024, 2, 29), (date(2023, 1, 1), date(2023, 2, 28))),
        ("last_30_days", TODAY, (date(2026, 1, 31), date(2026, 3, 1))),
        ("last_12_months", TODAY, (date(2024, 4, 1), date(2025, 3, 31))),
        ("last_12_months", date(2026, 12, 1), (date(2024, 12, 2), date(2025, 12, 1))),
        ("all", TODAY, None),
    ],
)
def test_previous_period_of_the_presets(preset, today, expected):
    filters = Filters(today=today, preset=preset)
    assert filters.previous_period() == expected
    if expected:
        assert ("start", expected[0].isoformat()) in filters.previous_params()
        assert ("end", expected[1].isoformat()) in filters.previous_params()
    else:
        assert filters.previous_params() is None


def round_trip(filters: Filters) -> Filters:
    url_query = urlencode(filters.to_query())
    restored = Filters(today=TODAY)
    restored.apply_query(parse_qs(url_query))
    return restored


@pytest.mark.parametrize(
    "values",
    [
        {"preset": "last_3_months"},
        {"preset": "all", "categories": ["Food & Drink", "Rent"], "q": "a=b&c"},
        {"min_amount": 10.5, "max_amount": 20.0, "granularity": "week"},
        {"accounts": [3, 1]},
        {"by_group": True, "granularity": "day"},
    ],
)
def test_url_round_trip_of_presets(values):
    filters = Filters(today=TODAY)
    filters.param.update(**values)
    restored = round_trip(filters)
    assert restored.param.values() | {"name": None} == filters.param.values() | {"name": None}


def test_url_round_trip_of_a_custom_range():
    filters = Filters(today=TODAY)
    filters.set_range(date(2025, 12, 1), date(2025, 12, 31))
    restored = round_trip(filters)
    assert restored.preset == "custom"
    assert (restored.start, restored.end) == (date(2025, 12, 1), date(2025, 12, 31))


def test_a_relative_preset_stays_relative_in_the_url():
    assert Filters(today=TODAY, preset="last_30_days").to_query() == [("preset", "last_30_days")]
    assert Filters(today=TODAY).to_query() == []  # the default needs no query at all
    assert Filters(today=TODAY, by_group=True).to_query() == [("groups", "1")]


def test_bad_url_values_are_ignored():
    filters = Filters(today=TODAY)
    filters.apply_query(
        {
            "preset": ["nope"],
            "min": ["abc"],
            "max": ["inf"],
            "granularity": ["year"],
            "q": ["x" * 500],
        }
    )
    assert filters.preset == "last_12_months"
    assert filters.min_amount is None and filters.max_amount is None
    assert filters.granularity == "month" and len(filters.q) == 200


def test_clicking_a_bar_narrows_to_its_period_one_level_finer():
    filters = Filters(today=TODAY)
    filters.narrow_to_period(date(2026, 2, 1), "month")
    assert (filters.preset, filters.start, filters.end) == (
        "custom",
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert filters.granularity == "week"
    filters.narrow_to_categories(["Food"])
    assert filters.categories == ["Food"]
    filters.reset()
    assert filters.is_default


# -- auth ------------------------------------------------------------------------------------


def auth_with(handler) -> AuthState:
    return AuthState(ApiClient("http://api.test", transport=httpx.MockTransport(handler)))


def login_handler(token: str):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        if request.headers.get("Authorization") != f"Bearer {token}":
            return httpx.Response(401, json={"detail": "Could not validate credentials"})
        return httpx.Response(200, json={"id": 1, "username": "ana"})

    return handler


def test_login_keeps_the_token_on_the_session_only():
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    token = jwt_with_exp(expiry)
    auth = auth_with(login_handler(token))
    cache_before = dict(pn.state.cache)
    assert run(auth.login("ana", "pw"))
    assert (auth.status, auth.username, auth.token) == ("logged_in", "ana", token)
    assert abs((auth.expires_at - expiry).total_seconds()) < 1
    assert pn.state.cache == cache_before  # nothing process-wide
    auth.logout()
    assert (auth.status, auth.token, auth.api.token) == ("logged_out", "", None)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(401, json={"detail": "Incorrect username or password"}), "Incorrect"),
        (httpx.Response(429, headers={"Retry-After": "60"}), "Too many failed attempts"),
    ],
)
def test_login_failures_become_the_message(response, message):
    auth = auth_with(lambda request: response)
    assert not run(auth.login("ana", "bad"))
    assert message in auth.message and auth.status != "logged_in" and not auth.token


def test_an_unreachable_backend_is_a_clear_login_message():
    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    auth = auth_with(refused)
    assert not run(auth.login("ana", "pw"))
    assert "cannot be reached" in auth.message


def test_restore_after_a_reload_and_expiry():
    token = jwt_with_exp(datetime.now(timezone.utc) + timedelta(minutes=5))
    auth = auth_with(login_handler(token))
    assert run(auth.restore(token))
    assert auth.status == "logged_in" and auth.username == "ana"
    assert not auth.expire_if_due()
    assert auth.expire_if_due(now=datetime.now(timezone.utc) + timedelta(minutes=6))
    assert auth.status == "logged_out" and "expired" in auth.message

    stale = jwt_with_exp(datetime.now(timezone.utc) - timedelta(minutes=1))
    again = auth_with(login_handler(token))
    assert not run(again.restore(stale))
    assert again.status == "logged_out" and "expired" in again.message
    wrong = auth_with(login_handler(token))
    assert not run(wrong.restore(jwt_with_exp(datetime.now(timezone.utc) + timedelta(1))))
    assert wrong.status == "logged_out" and "expired" in wrong.message


# -- the store -------------------------------------------------------------------------------


def store_with(handler, preset="last_30_days") -> DashboardStore:
    auth = AuthState(
        ApiClient("http://api.test", token="tok", transport=httpx.MockTransport(handler))
    )
    auth.status = "logged_in"
    return DashboardStore(auth, filters=Filters(today=TODAY, preset=preset))


def recorded_path(request: httpx.Request) -> str:
    """The path, with the review queue's /transactions told apart from the table's page."""
    review = request.url.path == "/transactions" and request.url.params.get("review") == "true"
    return "/transactions?review" if review else request.url.path


def api_handler(requests: list):
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append((recorded_path(request), request.url.params.multi_items()))
        if request.url.path == "/metrics":
            return httpx.Response(200, json=METRICS)
        if request.url.path == "/categories":
            return httpx.Response(200, json=[CATEGORY_FOOD])
        return httpx.Response(200, json=[], headers={"X-Total-Count": "0"})

    return handler


def test_refresh_asks_for_the_period_and_the_previous_one():
    requests: list = []
    store = store_with(api_handler(requests))
    run(store.refresh())
    metrics_calls = [params for path, params in requests if path == "/metrics"]
    assert [("start", "2026-03-02"), ("end", "2026-03-31"), ("granularity", "month")] in (
        metrics_calls
    )
    assert [("start", "2026-01-31"), ("end", "2026-03-01"), ("granularity", "month")] in (
        metrics_calls
    )
    assert store.metrics.total_spend == 100 and store.previous is not None
    assert store.categories == ["Food"] and store.page.total == 0 and not store.loading


def test_spinners_show_only_when_an_update_is_slow(monkeypatch):
    monkeypatch.setattr(store_module, "LOADING_DELAY_SECONDS", 0.05)
    answer = api_handler([])

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return answer(request)

    for handler, spinners_expected in ((answer, False), (slow, True)):
        store = store_with(handler)
        shown: list[tuple[str, bool]] = []
        store.param.watch(
            lambda *events: shown.extend((e.name, e.new) for e in events),
            ["loading", "table_loading"],
        )
        run(store.refresh())
        assert bool(shown) == spinners_expected, shown
        if spinners_expected:
            assert ("loading", True) in shown and ("table_loading", True) in shown
        assert store.metrics is not None and not store.loading and not store.table_loading


def test_no_previous_period_for_all_time():
    requests: list = []
    store = store_with(api_handler(requests), preset="all")
    run(store.refresh())
    assert [path for path, _ in requests].count("/metrics") == 1
    assert store.previous is None


def test_an_expired_token_during_refresh_logs_out_with_a_message():
    store = store_with(lambda r: httpx.Response(401, json={"detail": "Could not validate"}))
    run(store.refresh())
    assert store.auth.status == "logged_out" and "expired" in store.auth.message
    assert store.metrics is None and not store.loading


def test_a_backend_outage_raises_the_banner_flag():
    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    store = store_with(refused)
    run(store.refresh())
    assert store.auth.backend_down and store.auth.status == "logged_in"
    assert "cannot be reached" in store.error


def page_handler(requests: list, delay: float = 0.0):
    """The API, answering each /transactions with a page that names the query it answers."""
    answer = api_handler([])

    async def handler(request: httpx.Request) -> httpx.Response:
        requests.append((recorded_path(request), request.url.params.multi_items()))
        await asyncio.sleep(delay)  # an answer in flight while the next gesture happens
        if request.url.path == "/transactions":
            params = request.url.params
            row = {
                "id": int(params.get("offset", "0")) + 1,
                "amount": 1.0,
                "category": "Food",
                "timestamp": "2026-03-01T12:00:00",
                "description": f"{params.get('start')}..{params.get('end')} {params.get('sort')}",
            }
            return httpx.Response(200, json=[row], headers={"X-Total-Count": "100"})
        return answer(request)

    return handler


async def settle(store: DashboardStore) -> None:
    """Until every refresh started by the watchers has landed."""
    while True:
        await asyncio.sleep(0.05)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if not pending:
            return


def test_a_bar_click_is_one_state_change_and_one_refresh():
    async def scenario():
        requests: list = []
        store = store_with(page_handler(requests, delay=0.02), preset="last_12_months")
        store.watch_filters()
        changes: list = []
        store.filters.param.watch(lambda *events: changes.append(events), list(Filters.param))
        store.filters.narrow_to_period(date(2026, 2, 1), "month")
        await settle(store)
        return store, requests, changes

    store, requests, changes = run(scenario())
    assert len(changes) == 1  # start, end, preset and granularity in one change
    paths = [path for path, _ in requests]
    # One full refresh: categories, the period, its previous period, the first page and the
    # review queue.
    assert sorted(paths) == [
        "/categories",
        "/metrics",
        "/metrics",
        "/transactions",
        "/transactions?review",
    ]
    # Every view shows February: the table, the KPIs and what they are compared with.
    assert store.page.items[0].description == "2026-02-01..2026-02-28 -timestamp"
    metrics_params = [dict(params) for path, params in requests if path == "/metrics"]
    assert {(p["start"], p["end"]) for p in metrics_params} == {
        ("2026-02-01", "2026-02-28"),
        ("2026-01-01", "2026-01-31"),
    }
    assert store.metrics is not None and store.previous is not None


def test_a_granularity_switch_during_a_refresh_keeps_the_full_refresh():
    async def scenario():
        requests: list = []
        store = store_with(page_handler(requests, delay=0.05), preset="last_12_months")
        store.watch_filters()
        store.filters.set_range(date(2026, 2, 1), date(2026, 2, 28))
        await asyncio.sleep(0.01)  # the full refresh is in flight...
        store.filters.granularity = "week"  # ...when the chart switches to weeks
        await settle(store)
        return store, requests

    store, requests = run(scenario())
    assert store.page.items[0].description == "2026-02-01..2026-02-28 -timestamp"
    assert store.previous is not None
    last_metrics = [p for path, p in requests if path == "/metrics"][-1]
    assert ("granularity", "week") in last_metrics


def test_a_new_sort_starts_at_the_first_page():
    async def scenario():
        requests: list = []
        store = store_with(page_handler(requests))
        await store.refresh()
        store.page_index = 2
        await settle(store)
        requests.clear()
        store.sort = "amount"
        await settle(store)
        return store, requests

    store, requests = run(scenario())
    transactions = [dict(p) for path, p in requests if path == "/transactions"]
    assert len(transactions) == 1  # fetched once, at the new order's first page
    assert transactions[0]["offset"] == "0" and transactions[0]["sort"] == "amount"
    assert store.page_index == 0 and store.page.items[0].id == 1


def type_in(box, text: str) -> None:
    """What the browser sends as a person types: the box's text, keystroke by keystroke."""
    box.value_input = text


def enter(box) -> None:
    """Enter (or leaving the box): the typed text becomes the box's value."""
    box.value = box.value_input


def test_amount_boxes_read_thousands_and_show_empty_after_a_reset():
    from spending_ui.views.sidebar import FiltersPanel

    store = store_with(api_handler([]))
    panel = FiltersPanel(store=store)
    type_in(panel._min, "1000")
    enter(panel._min)
    assert store.filters.min_amount == 1000.0 and panel.amount_error == ""
    assert panel._min.value_input == "1,000"  # shown as read
    type_in(panel._max, "abc")
    enter(panel._max)
    assert "not an amount" in panel.amount_error and store.filters.max_amount is None
    store.filters.reset()
    assert (panel.min_text, panel.max_text, panel.amount_error) == ("", "", "")
    assert panel._min.value == "" and panel._max.value == ""
    assert panel._min.value_input == "" and panel._max.value_input == ""


@pytest.mark.parametrize(
    "order",
    [
        # One box after the other, each shown before the next keystroke ("tick": the server
        # runs what it deferred to its next turn, such as rewriting the boxes).
        ("type min", "enter min", "tick", "type max", "enter max"),
        # Max typed and entered before Min's entry was shown.
        ("type min", "enter min", "type max", "enter max"),
        # Max typed first and left pending while Min is typed, entered and shown.
        ("type max", "type min", "enter min", "tick", "enter max"),
        ("type min", "type max", "enter min", "tick", "enter max"),
        # Max's Enter event (Panel's, after the browser's change) arrives after the swap.
        ("type min", "enter min", "tick", "type max", "enter max", "tick", "late enter max"),
    ],
)
def test_both_amount_boxes_typed_at_once_end_in_one_consistent_range(order):
    from spending_ui.views.sidebar import FiltersPanel

    async def scenario():
        requests: list = []
        store = store_with(page_handler(requests, delay=0.02))
        store.watch_filters()
        panel = FiltersPanel(store=store)
        changes: list = []
        store.filters.param.watch(lambda *e: changes.append(e), ["min_amount", "max_amount"])
        steps = {
            "type min": lambda: type_in(panel._min, "50"),
            "type max": lambda: type_in(panel._max, "20"),
            "enter min": lambda: enter(panel._min),
            "enter max": lambda: enter(panel._max),
            "late enter max": lambda: panel._max._process_event(
                SimpleNamespace(event_name="enter-pressed", value_input="20")
            ),
        }
        for step in order:
            if step == "tick":
                await asyncio.sleep(0)
            else:
                steps[step]()
        await settle(store)
        return store, panel, changes, requests

    store, panel, changes, requests = run(scenario())
    # The last typed values win, as the range between them: 20 to 50.
    assert (store.filters.min_amount, store.filters.max_amount) == (20.0, 50.0)
    assert (panel._min.value_input, panel._max.value_input) == ("20", "50")
    assert (panel._min.value, panel._max.value) == ("20", "50")
    # One change per entry (the swap is part of it, not a second change)...
    assert len(changes) == 2
    # ...each fetched once, and the views show the last: metrics and page of 20 to 50.
    pages = [dict(p) for path, p in requests if path == "/transactions"]
    assert len(pages) == 2
    assert (pages[-1]["min_amount"], pages[-1]["max_amount"]) == ("20.00", "50.00")
    assert store.page is not None and store.metrics is not None


def test_crossed_ranges_are_swapped_and_the_pickers_bound_each_other():
    from spending_ui.views.sidebar import FiltersPanel

    store = store_with(api_handler([]))
    panel = FiltersPanel(store=store)
    filters = store.filters
    filters.param.update(min_amount=50.0, max_amount=20.0)
    assert (filters.min_amount, filters.max_amount) == (20.0, 50.0)
    assert (panel.min_text, panel.max_text) == ("20", "50")
    filters.param.update(start=date(2026, 3, 20), end=date(2026, 3, 10))
    assert (filters.start, filters.end) == (date(2026, 3, 10), date(2026, 3, 20))
    assert panel._start.end == date(2026, 3, 20) and panel._end.start == date(2026, 3, 10)


def test_a_url_view_is_restored_in_one_refresh_and_a_logout_clears_it():
    async def scenario():
        requests: list = []
        store = store_with(page_handler(requests))
        store.watch_filters()
        store.apply_query(
            {"preset": ["last_3_months"], "category": ["Food"], "sort": ["amount"], "page": ["3"]}
        )
        await settle(store)
        restored = (store.filters.preset, store.filters.categories, store.sort, store.page_index)
        count = len(requests)
        store.auth.logout()
        store.clear_view()
        await settle(store)
        return store, requests, count, restored

    store, requests, count, restored = run(scenario())
    assert restored == ("last_3_months", ["Food"], "amount", 2)
    assert sorted(path for path, _ in requests[:count]) == [
        "/categories",
        "/metrics",
        "/metrics",
        "/transactions",
        "/transactions?review",
    ]
    page_request = dict(next(p for path, p in requests if path == "/transactions"))
    assert page_request["offset"] == "50" and page_request["sort"] == "amount"
    # The logout: the default view, and nothing fetched for nobody.
    assert len(requests) == count
    assert store.filters.is_default and store.sort == "-timestamp" and store.page_index == 0
    assert store.metrics is None and store.page is None


def test_a_header_click_orders_by_its_column_then_reverses():
    store = store_with(api_handler([]))
    store.sort_by("amount")
    assert store.sort == "-amount"
    store.sort_by("amount")
    assert store.sort == "amount"
    store.sort_by("date")
    assert store.sort == "-timestamp"
    store.sort_by("date")
    assert store.sort == "timestamp"
    store.sort_by("description")  # text starts with A–Z
    assert store.sort == "description"
    store.sort_by("description")
    assert store.sort == "-description"
    store.sort_by("category")
    assert store.sort == "category"
    store.sort_by("category")
    assert store.sort == "-category"
    store.sort_by("merchant")  # no such column: nothing changes
    assert store.sort == "-category"


# -- the account filter (#13) ----------------------------------------------------------------


def test_the_account_filter_is_a_repeated_query_parameter_and_part_of_the_url():
    filters = Filters(today=TODAY, preset="all")
    filters.accounts = [2, 5]
    assert filters.to_params() == [("account", "2"), ("account", "5")]
    assert filters.to_query() == [("preset", "all"), ("account", "2"), ("account", "5")]
    assert not filters.is_default
    filters.reset()
    assert filters.accounts == [] and filters.is_default


def test_bad_account_ids_in_the_url_are_ignored():
    filters = Filters(today=TODAY)
    filters.apply_query({"account": ["4", "x", "-1", "\u00b2", "4", "9" * 30, "7"]})
    assert filters.accounts == [4, 7]


ACCOUNTS = [
    {"id": 1, "name": "Main account", "kind": "checking", "currency": "EUR", "institution": None},
    {"id": 2, "name": "Visa", "kind": "credit_card", "currency": "EUR", "institution": "Bank"},
]


def test_the_accounts_load_and_a_bookmarked_unknown_account_is_dropped():
    requests: list = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append((request.url.path, request.url.params.multi_items()))
        if request.url.path == "/accounts":
            return httpx.Response(200, json=ACCOUNTS)
        return api_handler([])(request)

    store = store_with(handler)
    store.filters.accounts = [2, 99]
    run(store.load_accounts())
    assert [a.name for a in store.accounts] == ["Main account", "Visa"]
    assert store.filters.accounts == [2]
    assert store.account_name(2) == "Visa" and store.account_name(5) == "Account 5"
    run(store.refresh())
    metrics = [params for path, params in requests if path == "/metrics"]
    assert all(("account", "2") in params for params in metrics)
    page = next(params for path, params in requests if path == "/transactions")
    assert ("account", "2") in page


def test_accounts_that_cannot_load_leave_the_dashboard_working():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/accounts":
            return httpx.Response(500, text="boom")
        return api_handler([])(request)

    store = store_with(handler)
    run(store.load_accounts())
    assert store.accounts == [] and store.error == "" and store.auth.status == "logged_in"
    expired = store_with(lambda r: httpx.Response(401, json={"detail": "Not authenticated"}))
    run(expired.load_accounts())
    assert expired.auth.status == "logged_out"


def test_a_new_user_with_only_default_categories_has_no_transactions():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/categories":
            body = [
                {"id": 1, "name": "Groceries", "kind": "spending", "count": 0},
                {"id": 2, "name": "Salary", "kind": "income", "count": 0},
            ]
            return httpx.Response(200, json=body)
        return api_handler([])(request)

    store = store_with(handler)
    run(store.refresh())
    assert store.categories == ["Groceries", "Salary"] and not store.has_transactions
    used = store_with(api_handler([]))
    run(used.refresh())
    assert used.has_transactions  # CATEGORY_FOOD: 2 transactions


def test_the_account_filter_appears_once_there_is_a_choice():
    from spending_ui.api import Account
    from spending_ui.views.accounts import AccountFilter

    store = store_with(api_handler([]))
    view = AccountFilter(store=store)
    assert view.__panel__().objects == []
    store.accounts = [Account(1, "Main account", "checking", "EUR")]
    assert view.__panel__().objects == []
    store.accounts = [*store.accounts, Account(2, "<b>Visa</b>", "credit_card", "USD")]
    [choice] = view.__panel__().objects
    assert choice.options == {"Main account · EUR": 1, "&lt;b&gt;Visa&lt;/b&gt; · USD": 2}
    choice.value = [2]
    assert store.filters.accounts == [2]
    # A bookmark with an account shows the filter even before the accounts are known.
    other = store_with(api_handler([]))
    other.filters.accounts = [7]
    [choice] = AccountFilter(store=other).__panel__().objects
    assert choice.options == {"Account #7": 7} and choice.value == [7]
