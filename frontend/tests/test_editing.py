"""Correcting from the dashboard (#14) without a server: what EditState sends for each gesture,
that every change ends in exactly one refresh of every view, and what the views show."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from decimal import Decimal

import httpx
import param
import pytest

from spending_ui.api import ApiClient, Metrics, Suggestion, Transaction, TransactionPage
from spending_ui.editing import EditState, parse_time
from spending_ui.state import AuthState, Filters
from spending_ui.store import REVIEW_SIZE, DashboardStore
from spending_ui.views.editing import review_html, review_pager_html, uncategorized_html
from spending_ui.views.table import table_html, why_html

TODAY = date(2026, 3, 31)
ROW = {
    "id": 7,
    "account_id": 1,
    "amount": 95.5,
    "category": "Uncategorized",
    "kind": "spending",
    "timestamp": "2026-03-30T12:00:00",
    "description": "Pizza Place",
    "notes": None,
    "category_source": "default",
    "suggestion": {"category": "Dining out", "confidence": 0.62},
}
METRICS = {
    "total_spend": 200.0,
    "transaction_count": 2,
    "average_monthly_spend": 200.0,
    "average_transaction": 100.0,
    "first_transaction": "2026-03-01",
    "last_transaction": "2026-03-30",
    "top_categories": [
        {"category": "Groceries", "total": 104.5, "count": 1, "share": 0.5225},
        {"category": "Uncategorized", "total": 95.5, "count": 1, "share": 0.4775},
    ],
    "spend_over_time": [],
}


class FakeApi:
    """Answers like the API and records (method, path, query, body) of every request."""

    def __init__(self, refuse: str | None = None):
        self.requests: list[tuple[str, str, dict, object]] = []
        self.refuse = refuse  # a PATCH of one transaction answers 409 with this detail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        query = dict(request.url.params.multi_items())
        method, path = request.method, request.url.path
        self.requests.append((method, path, query, body))
        if path == "/metrics":
            return httpx.Response(200, json=METRICS)
        if path == "/categories":
            return httpx.Response(
                200, json=[{"id": 1, "name": "Groceries", "kind": "spending", "count": 1}]
            )
        if path == "/transactions" and method == "GET":
            return httpx.Response(200, json=[ROW], headers={"X-Total-Count": "1"})
        if path == "/transactions" and method == "PATCH":
            matched = len(body["ids"])
            updated = 0 if body["dry_run"] else matched
            return httpx.Response(200, json={"matched": matched, "total": 95.5, "updated": updated})
        if path == "/transactions" and method == "POST":
            return httpx.Response(201, json={**ROW, **body, "id": 8})
        if self.refuse and path.startswith("/transactions/") and method == "PATCH":
            return httpx.Response(409, json={"detail": self.refuse})
        if path.startswith("/transactions/") and method in ("PATCH", "POST"):
            return httpx.Response(200, json={**ROW, "category_source": "user"})
        if method == "DELETE":
            return httpx.Response(204)
        if path in ("/rules", "/rules/proposals"):
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"detail": "Not found"})

    def writes(self) -> list:
        return [(m, p, b) for m, p, _, b in self.requests if m != "GET"]

    def reads(self) -> list[str]:
        return sorted(p for m, p, _, _ in self.requests if m == "GET")


def run(coro):
    return asyncio.run(coro)


def editor_with(api: FakeApi) -> EditState:
    auth = AuthState(ApiClient("http://api.test", token="tok", transport=httpx.MockTransport(api)))
    auth.status = "logged_in"
    store = DashboardStore(auth, filters=Filters(today=TODAY, preset="last_30_days"))
    run(store.refresh())
    api.requests.clear()
    return EditState(store=store)


def test_an_edit_sends_only_what_changed_then_refreshes_every_view_once(one_refresh):
    api = FakeApi()
    editor = editor_with(api)
    editor.start_edit(7)
    assert editor.edit_category == "Uncategorized" and editor.edit_description == "Pizza Place"
    editor.param.update(edit_category="Groceries", edit_notes="  with friends ")
    assert run(editor.save_edit())
    assert api.writes() == [
        ("PATCH", "/transactions/7", {"category": "Groceries", "notes": "with friends"})
    ]
    assert api.reads() == one_refresh
    assert editor.editing is None and editor.message == "Transaction saved."


def test_an_unchanged_edit_sends_nothing():
    api = FakeApi()
    editor = editor_with(api)
    editor.start_edit(7)
    assert run(editor.save_edit())
    assert api.requests == [] and editor.editing is None


def test_a_bulk_change_is_checked_by_a_dry_run_before_it_is_made(one_refresh):
    api = FakeApi()
    editor = editor_with(api)
    editor.set_page_selection(checked=[7, 9], shown=[7, 9, 11])
    editor.bulk_category = "Groceries"
    assert not run(editor.confirm_bulk())  # nothing is changed before its check
    run(editor.check_bulk())
    assert (editor.bulk_check.matched, editor.bulk_check.total) == (2, Decimal("95.5"))
    editor.bulk_category = "Transport"
    assert editor.bulk_check is None  # the check was for another category
    run(editor.check_bulk())
    api.requests.clear()
    assert run(editor.confirm_bulk())
    change = {"category": "Transport"}
    assert api.writes() == [
        ("PATCH", "/transactions", {"ids": [7, 9], "change": change, "dry_run": False})
    ]
    assert api.reads() == one_refresh
    assert editor.selected == [] and editor.bulk_check is None


def test_a_new_transaction_is_sent_with_its_sign_and_time(one_refresh):
    api = FakeApi()
    editor = editor_with(api)
    editor.store.accounts = []
    editor.param.update(
        new_account_id=2,
        new_date=date(2026, 3, 5),
        new_time="14:30",
        new_amount="1,200.5",
        new_direction="in",
        new_description="Cash gift",
        new_category="",
    )
    assert run(editor.add_transaction())
    body = {
        "account_id": 2,
        "timestamp": "2026-03-05T14:30:00",
        "amount": "-1200.50",
        "description": "Cash gift",
    }
    assert api.writes() == [("POST", "/transactions", body)]
    assert api.reads() == one_refresh and not editor.adding


@pytest.mark.parametrize(
    "field, value, message",
    [("new_time", "25:99", "is not a time"), ("new_amount", "", "Type the amount")],
)
def test_a_bad_new_transaction_is_explained_and_not_sent(field, value, message):
    api = FakeApi()
    editor = editor_with(api)
    editor.param.update(new_account_id=1, new_amount="5", new_date=TODAY)
    editor.param.update(**{field: value})
    assert not run(editor.add_transaction())
    assert message in editor.message and api.requests == []


def test_parse_time():
    assert parse_time("") == datetime.min.time()
    assert parse_time(" 09:05 ").isoformat() == "09:05:00"


def test_accepting_a_suggestion_posts_it_then_refreshes_once(one_refresh):
    api = FakeApi()
    editor = editor_with(api)
    run(editor.act("accept", 7))
    assert editor.message == "Suggestion accepted."
    assert api.writes() == [("POST", "/transactions/7/accept-suggestion", None)]
    assert api.reads() == one_refresh


def test_a_refused_change_is_a_message_and_no_refresh():
    api = FakeApi(refuse="The date of an imported row is locked")
    editor = editor_with(api)
    editor.start_edit(7)
    editor.edit_category = "Groceries"
    assert not run(editor.save_edit())
    assert editor.message == "The date of an imported row is locked"
    assert api.reads() == []
    assert editor.editing is not None  # kept open to try again


def test_the_uncategorized_share_of_this_periods_spending():
    metrics = Metrics(
        total_spend=Decimal("200.00"),
        transaction_count=2,
        average_monthly_spend=Decimal(0),
        average_transaction=Decimal(0),
        first_transaction=None,
        last_transaction=None,
        top_categories=[],
    )
    assert metrics.uncategorized_share == 0
    from spending_ui.api import _metrics

    shown = _metrics(METRICS)
    assert shown.uncategorized_share == Decimal("0.4775")
    assert "47.8%" in uncategorized_html(shown)
    assert uncategorized_html(None) == ""


def hostile(**fields) -> Transaction:
    values = dict(
        id=1,
        amount=Decimal("5"),
        category="<b>x</b>",
        timestamp=datetime(2026, 3, 1),
        description="<script>alert(1)</script>",
        category_source="learned",
        suggestion=Suggestion(category="<i>y</i>", confidence=Decimal("0.91")),
    )
    return Transaction(**{**values, **fields})


def test_why_this_category_says_who_set_it_escaped():
    html = why_html(hostile())
    assert "data-source='learned'" in html and "91% sure" in html
    assert "<i>" not in html and "&lt;i&gt;y&lt;/i&gt;" in html
    assert "You chose it" in why_html(hostile(category_source="user", suggestion=None))


def test_the_table_and_the_review_queue_escape_every_user_string():
    page = TransactionPage(items=[hostile()], total=1)
    for html in (table_html(page, {}, "", {1}), review_html(page)):
        assert "<script>" not in html and "<b>x</b>" not in html and "<i>y</i>" not in html
    assert "checked" in table_html(page, {}, "", {1})
    assert "checked" not in table_html(page, {}, "", set())
    assert "data-row-action='accept'" in review_html(page)
    assert "data-row-action='accept'" not in review_html(
        TransactionPage(items=[hostile(suggestion=None)], total=1)
    )


def test_the_table_rows_carry_provenance_and_the_suggestion():
    api = FakeApi()
    editor = editor_with(api)
    [item] = editor.store.page.items
    assert (item.category_source, item.suggestion) == (
        "default",
        Suggestion(category="Dining out", confidence=Decimal("0.62")),
    )
    assert editor.store.review.items == [item]


def test_a_delete_takes_a_second_press():
    api = FakeApi()
    editor = editor_with(api)
    editor.start_edit(7)
    editor.set_page_selection(checked=[7], shown=[7])
    assert not run(editor.delete_edited())
    assert api.requests == [] and "again" in editor.message
    run(editor.delete_edited())
    assert api.writes() == [("DELETE", "/transactions/7", None)]
    assert editor.editing is None and editor.selected == []


def test_the_page_reports_its_whole_selection_and_other_pages_keep_theirs():
    """The page sends every tick on screen, not a toggle: two ticks that reach the server as
    one change (the last value wins) still select both."""
    editor = editor_with(FakeApi())
    editor.set_page_selection(checked=[3], shown=[1, 2, 3])
    editor.set_page_selection(checked=[3, 1], shown=[1, 2, 3])
    assert editor.selected == [3, 1]
    # Another page: its ticks add to the first page's.
    editor.set_page_selection(checked=[8], shown=[7, 8, 9])
    assert editor.selected == [3, 1, 8]
    # Unticking on the first page keeps the other page's row; an id not shown is ignored.
    editor.set_page_selection(checked=[1, 42], shown=[1, 2, 3])
    assert editor.selected == [8, 1]


@pytest.mark.postgres
def test_the_review_queue_pages_largest_first_and_an_accept_keeps_its_page(live_store):
    """On the real API: "n of N" pages of the queue, the largest first; one-click accept
    takes the suggestion and the page refreshes in place; a page emptied is left for the
    new last one."""
    shops = [
        (k % 20, Decimal(5 + 7 * k % 97) + Decimal("0.25"), "Uncategorized", f"Shop {k}")
        for k in range(2 * REVIEW_SIZE + 2)
    ]
    history = [
        (9, Decimal("10.00"), "Uncategorized", "CORNER BAKERY 1234"),
        (8, Decimal("11.00"), "Uncategorized", "CORNER BAKERY 5678"),
    ]
    bakery = (1, Decimal("30.10"), "Uncategorized", "CORNER BAKERY 9012")  # on page 2
    store = live_store([*shops, *history, bakery])
    for row in run(store.api.transactions([], limit=100)).items:
        if row.description in {d for *_, d in history}:  # the user's own history
            run(store.api.update_transaction(row.id, category="Groceries"))
    run(store.api._write("POST", "/suggestions/refresh"))
    editor = EditState(store=store)
    run(store.refresh(with_rules=True))
    queue = sorted((amount for _, amount, _, _ in [*shops, bakery]), reverse=True)
    assert store.review.total == len(queue) == 23 and store.review_page_count == 3
    assert [t.amount for t in store.review.items] == queue[:REVIEW_SIZE]
    assert "1–10 of 23 · page 1 of 3" in review_pager_html(store)

    store.review_step(-1)  # nothing before the first page
    assert store.review_index == 0
    with param.parameterized.discard_events(store):
        store.review_step(1)
    run(store.refresh_review())
    assert [t.amount for t in store.review.items] == queue[REVIEW_SIZE : 2 * REVIEW_SIZE]
    [waiting] = [t for t in store.review.items if t.description == bakery[3]]
    assert waiting.suggestion is not None and waiting.suggestion.category == "Groceries"
    assert "data-row-action='accept'" in review_html(store.review)

    run(editor.act("accept", waiting.id))
    assert editor.message == "Suggestion accepted."
    queue.remove(bakery[1])
    assert store.review_index == 1 and store.review.total == 22
    assert [t.amount for t in store.review.items] == queue[REVIEW_SIZE : 2 * REVIEW_SIZE]
    assert "11–20 of 22 · page 2 of 3" in review_pager_html(store)

    with param.parameterized.discard_events(store):
        store.review_step(5)  # as far as the last page, no further
    assert store.review_index == 2
    run(store.refresh_review())
    assert [t.amount for t in store.review.items] == queue[2 * REVIEW_SIZE :]
    for item in store.review.items:  # the whole last page categorized
        assert run(editor.recategorize(item.id, "Groceries"))
    assert store.review.total == 2 * REVIEW_SIZE and store.review_index == 1
    assert [t.amount for t in store.review.items] == queue[REVIEW_SIZE : 2 * REVIEW_SIZE]
