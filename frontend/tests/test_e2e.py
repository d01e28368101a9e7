"""End to end: the real dashboard and API on PostgreSQL, driven in Chromium.

Numbers on the page are checked against /metrics and /transactions fetched by the test, and
against sums computed here from the seeded rows. Every wait is a condition, never a sleep.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from spending_api.auth.security import create_access_token

# Spread over the xdist workers: each worker has its own stack (database, API, dashboard)
# and one Chromium for the session; each test gets contexts of its own, so none depends on another.
pytestmark = [pytest.mark.ui, pytest.mark.postgres, pytest.mark.slow]

SOURCE_DATA = """(name) => {
  const doc = (window.Bokeh && Bokeh.documents[0]) || null
  const source = doc && doc.get_model_by_name(name)
  return source ? JSON.parse(JSON.stringify(source.data)) : null
}"""

# The screen point of data coordinates (x, y) in the Bokeh figure named `name`.
SCREEN_POINT = """([name, x, y]) => {
  function find(view) {
    if (view.model && view.model.name === name) return view
    for (const child of view.children()) { const found = find(child); if (found) return found }
    return null
  }
  for (const root of Bokeh.index) {
    const view = find(root)
    if (view) {
      const box = view.el.getBoundingClientRect()
      return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)]
    }
  }
  return null
}"""


def months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def login(page, stack, username: str, query: str = "") -> None:
    """The dashboard, signed in (a tab with the token of a real /login: one page load); the
    tests of the login form use stack.login_with_form."""
    stack.login(page, username, query)


def kpi(page, key: str):
    return page.locator(f".kpi[data-kpi={key}]")


def expect_kpis(page, metrics: dict) -> None:
    """The four cards show exactly what /metrics said."""
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{Decimal(str(metrics['total_spend'])):.2f}"
    )
    expect(kpi(page, "average_monthly_spend")).to_have_attribute(
        "data-value", f"{Decimal(str(metrics['average_monthly_spend'])):.2f}"
    )
    expect(kpi(page, "transaction_count")).to_have_attribute(
        "data-value", str(metrics["transaction_count"])
    )
    top = metrics["top_categories"][0]["category"] if metrics["top_categories"] else ""
    expect(kpi(page, "top_category")).to_have_attribute("data-value", top)


def wait_for_source(page, name: str, column: str, expected: list) -> None:
    page.wait_for_function(
        """([name, column, expected]) => {
          const doc = window.Bokeh && Bokeh.documents[0]
          const source = doc && doc.get_model_by_name(name)
          if (!source) return false
          const got = Array.from(source.data[column] || [])
          return JSON.stringify(got) === JSON.stringify(expected)
        }""",
        arg=[name, column, expected],
    )


def metrics_for(stack, username: str, params: list[tuple[str, str]], granularity="month"):
    with stack.api(username) as client:
        response = client.get("/metrics", params=[*params, ("granularity", granularity)])
        response.raise_for_status()
        return response.json()


def transactions_for(stack, username: str, params, **page):
    with stack.api(username) as client:
        response = client.get("/transactions", params=[*params, *page.items()])
        response.raise_for_status()
        return response.json(), int(response.headers["X-Total-Count"])


def default_range(today: date) -> tuple[date, date]:
    return months_back(today, 12) + timedelta(days=1), today


# The total spend card in a websocket frame (Panel sends HTML escaped), and whether it
# carries its value: the placeholder card of a view made without data has none.
TOTAL_SPEND_CARD = re.compile(r"data-kpi=(?:'|&#x27;)total_spend(?:'|&#x27;)( data-value)?")


def websocket_frames(page) -> list[str]:
    """The text of every websocket frame the page receives from now on (it grows)."""
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: frames.append(
                payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            ),
        ),
    )
    return frames


def test_login_shows_the_kpis_of_metrics_with_security_headers(new_page, stack):
    page = new_page()
    frames = websocket_frames(page)
    response = page.goto(stack.ui_url)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]

    stack.submit_login_form(page, "ana")
    start, end = default_range(stack.today)
    params = [("start", start.isoformat()), ("end", end.isoformat())]
    metrics = metrics_for(stack, "ana", params)
    # The API's numbers are the seeded rows' numbers...
    assert Decimal(str(metrics["total_spend"])) == stack.users["ana"].total(start, end)
    # ...and the page shows the API's numbers.
    expect_kpis(page, metrics)
    expect(kpi(page, "total_spend").locator(".kpi-delta")).to_contain_text("previous period")
    wait_for_source(
        page, "category-source", "category", [c["category"] for c in metrics["top_categories"]]
    )
    rows, total = transactions_for(stack, "ana", params, limit=25)
    expect(page.locator("table.tx")).to_have_attribute("data-total", str(total))
    amounts = page.locator("table.tx td.amount").evaluate_all(
        "cells => cells.map(c => c.dataset.amount)"
    )
    assert amounts == [f"{Decimal(str(r['amount'])):.2f}" for r in rows]
    # The views are made with their first data: the patch that brings the cards has their
    # values (not empty views and then a second round of patches with the numbers).
    cards = [found for frame in frames for found in TOTAL_SPEND_CARD.findall(frame)]
    assert cards and cards[0] == " data-value", "the KPI cards came before their data"
    # Nothing complains, nothing is fetched from another host (checked again at the end).
    assert page.console_errors == [] and page.outside_requests == []


THEME_CSS = Path(__file__).resolve().parents[1] / "spending_ui" / "static" / "theme.css"
FIGURES_FILLED = """() => {
  const doc = window.Bokeh && Bokeh.documents[0]
  const pie = doc && doc.get_model_by_name('category-source')
  const bars = doc && doc.get_model_by_name('time-source')
  return Boolean(pie && bars && pie.data.category.length > 0 && bars.data.total.length > 0)
}"""
# A rule of spending_ui/static/theme.css: present in the document only if the stylesheet's
# text is copied into it again.
THEME_RULE = ".kpi-delta.up { color: #d1495b; }"


def test_the_theme_stylesheet_is_linked_by_url_not_copied_into_every_component(new_page, stack):
    """theme.css reaches the page as one URL (pn.config.css_files): its text is in none of
    the websocket frames (as raw_css it was copied into every component, about 80 times in
    the first patch), it is served with the security headers, and its rules apply inside
    the components' shadow roots."""
    assert THEME_RULE in THEME_CSS.read_text()
    page = new_page()
    frames = websocket_frames(page)
    stylesheets = []
    page.on("response", lambda r: stylesheets.append(r) if "/assets/theme.css" in r.url else None)
    stack.login(page, "ana")
    page.wait_for_function(FIGURES_FILLED)

    assert frames, "no websocket frames seen"
    assert sum(frame.count(THEME_RULE) for frame in frames) <= 1
    assert stylesheets, "the page did not load theme.css"
    response = stylesheets[0]
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    # Its rules apply inside the shadow roots: the card's corners, the table's amounts.
    card = page.locator(".kpi[data-kpi=total_spend]")
    assert card.evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "10px"
    amount = page.locator("table.tx td.amount").first
    assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"


def test_date_range_and_category_update_kpis_charts_and_table(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    page.locator("select").first.select_option(label="Last 3 months")
    start, end = months_back(stack.today, 3) + timedelta(days=1), stack.today
    params = [("start", start.isoformat()), ("end", end.isoformat())]
    metrics = metrics_for(stack, "ana", params)
    expect_kpis(page, metrics)
    assert Decimal(str(metrics["total_spend"])) == stack.users["ana"].total(start, end)
    wait_for_source(
        page, "time-source", "total", [float(p["total"]) for p in metrics["spend_over_time"]]
    )

    choices = page.get_by_placeholder("All categories")
    choices.click()
    choices.fill("Dini")
    page.locator(".choices__item--choice", has_text="Dining").first.click()
    page.keyboard.press("Escape")
    params.append(("category", "Dining"))
    metrics = metrics_for(stack, "ana", params)
    assert Decimal(str(metrics["total_spend"])) == stack.users["ana"].total(
        start, end, categories=("Dining",)
    )
    expect_kpis(page, metrics)
    wait_for_source(page, "category-source", "category", ["Dining"])
    wait_for_source(
        page, "time-source", "total", [float(p["total"]) for p in metrics["spend_over_time"]]
    )
    _, total = transactions_for(stack, "ana", params, limit=25)
    expect(page.locator("table.tx")).to_have_attribute("data-total", str(total))
    categories = page.locator("table.tx tbody tr td:nth-child(3)").all_inner_texts()
    assert categories and set(c.strip() for c in categories) == {"Dining"}
    query = parse_qs(urlparse(page.url).query)
    assert query["preset"] == ["last_3_months"] and query["category"] == ["Dining"]


PHONE = {
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
}


def test_on_a_phone_the_dashboard_fits_the_screen_width_and_the_menu_lies_over_it(new_page, stack):
    page = new_page(viewport=(390, 844), **PHONE)
    page.goto(stack.ui_url)
    # The login form fits as well.
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    stack.submit_login_form(page, "ana")
    start, end = default_range(stack.today)
    metrics = metrics_for(stack, "ana", [("start", start.isoformat()), ("end", end.isoformat())])
    expect_kpis(page, metrics)
    # Laid out at the phone's own width (not a zoomed-out desktop page), with nothing
    # reaching past its right edge: the sidebar starts folded away.
    assert page.evaluate("() => window.innerWidth") == 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for selector in (".kpi", "table.tx", "button:has-text('Next')"):
        boxes = [
            box for box in map(lambda e: e.bounding_box(), page.locator(selector).all()) if box
        ]
        assert boxes and all(box["x"] + box["width"] <= 390 for box in boxes), selector
    assert page.console_errors == [] and page.outside_requests == []
    # The donut is round and whole at the phone's width too.
    expect_a_round_whole_donut(page, 390)
    # The menu lies over the page and closes after a choice.
    main_width = page.locator("#main").bounding_box()["width"]
    page.locator("#sidebar-button").click()
    expect(page.locator("#sidebar")).not_to_have_class(re.compile(r"\bhidden\b"))
    # Open, it covers the page; the dashboard keeps its width (no 30 px strip).
    assert page.locator("#main").bounding_box()["width"] >= main_width - 1 >= 300
    page.locator("select").first.select_option(label="Last 3 months")
    expect(page.locator("#sidebar")).to_have_class(re.compile(r"\bhidden\b"))
    start, end = months_back(stack.today, 3) + timedelta(days=1), stack.today
    expect_kpis(
        page, metrics_for(stack, "ana", [("start", start.isoformat()), ("end", end.isoformat())])
    )


def test_pie_click_narrows_to_the_category_and_survives_a_reload(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    page.wait_for_function(f"() => ({SOURCE_DATA})('category-source')?.category?.length > 1")
    data = page.evaluate(SOURCE_DATA, "category-source")
    index = 1
    category = data["category"][index]
    middle = (data["start_angle"][index] + data["end_angle"][index]) / 2
    point = page.evaluate(
        SCREEN_POINT, ["category-figure", 0.75 * math.cos(middle), 0.75 * math.sin(middle)]
    )
    page.mouse.click(*point)

    wait_for_source(page, "category-source", "category", [category])
    start, end = default_range(stack.today)
    params = [("start", start.isoformat()), ("end", end.isoformat()), ("category", category)]
    metrics = metrics_for(stack, "ana", params)
    expect_kpis(page, metrics)
    assert parse_qs(urlparse(page.url).query)["category"] == [category]

    # A reload keeps both the login (this tab's token) and the filters (the URL).
    page.reload()
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{Decimal(str(metrics['total_spend'])):.2f}"
    )
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_bar_click_narrows_every_view_to_the_period(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    page.wait_for_function(f"() => ({SOURCE_DATA})('time-source')?.total?.length > 3")
    data = page.evaluate(SOURCE_DATA, "time-source")
    index = len(data["total"]) - 2
    point = page.evaluate(
        SCREEN_POINT, ["time-figure", data["centre"][index], data["total"][index] / 2]
    )
    page.mouse.click(*point)
    first = date.fromisoformat(data["period"][index])
    last = months_back(first, -1) - timedelta(days=1)
    page.wait_for_function(f"() => window.location.search.includes('start={first}')")
    params = [("start", first.isoformat()), ("end", last.isoformat())]
    metrics = metrics_for(stack, "ana", params, granularity="week")
    expect_kpis(page, metrics)
    wait_for_source(
        page, "time-source", "total", [float(p["total"]) for p in metrics["spend_over_time"]]
    )
    # The table is that month's too...
    _, total = transactions_for(stack, "ana", params, limit=25)
    expect(page.locator("table.tx")).to_have_attribute("data-total", str(total))
    # ...and the change is against the previous calendar month, computed from the rows.
    user = stack.users["ana"]
    before_start = months_back(first, 1)
    now, before = user.total(first, last), user.total(before_start, first - timedelta(days=1))
    change = (now - before) / before * 100
    expect(kpi(page, "total_spend").locator(".kpi-delta")).to_have_attribute(
        "data-delta", f"{change:.1f}"
    )


def test_a_refund_week_and_many_categories_draw_true_shares(new_page, stack):
    page = new_page()
    login(page, stack, "dee", query="?preset=all")
    user = stack.users["dee"]
    spent: dict[str, Decimal] = {}
    for row in user.rows:
        spent[row.category] = spent.get(row.category, Decimal(0)) + row.amount
    ranked = sorted((v, k) for k, v in spent.items() if v > 0)[::-1]
    whole = sum(v for v, _ in ranked)
    # Twelve categories: the top six and "Other", each at its share of everything spent.
    expected = [k for _, k in ranked[:6]] + ["Other"]
    wait_for_source(page, "category-source", "category", expected)
    data = page.evaluate(SOURCE_DATA, "category-source")
    other = sum(v for v, _ in ranked[6:])
    for name, start, end in zip(data["category"], data["start_angle"], data["end_angle"]):
        share = (other if name == "Other" else spent[name]) / whole
        assert math.isclose((end - start) / (2 * math.pi), float(share), rel_tol=1e-9)
    # A click on "Other" lists the categories inside it.
    middle = (data["start_angle"][6] + data["end_angle"][6]) / 2
    point = page.evaluate(
        SCREEN_POINT, ["category-figure", 0.75 * math.cos(middle), 0.75 * math.sin(middle)]
    )
    page.mouse.click(*point)
    for _, name in ranked[6:]:
        expect(page.locator(".donut-other li", has_text=name)).to_be_visible()

    # The last seven days: Dining out is a net refund, shown beside the chart, not as a slice.
    start, end = stack.today - timedelta(days=6), stack.today
    page.goto(f"{stack.ui_url}?start={start}&end={end}")
    metrics = metrics_for(stack, "dee", [("start", start.isoformat()), ("end", end.isoformat())])
    week = {c["category"]: Decimal(str(c["total"])) for c in metrics["top_categories"]}
    assert week["Dining out"] < 0
    expect_kpis(page, metrics)
    wait_for_source(
        page,
        "category-source",
        "category",
        [c for c, v in sorted(week.items(), key=lambda i: -i[1]) if v > 0],
    )
    expect(page.locator(".donut-refunds")).to_contain_text("Dining out")
    expect(kpi(page, "top_category")).not_to_contain_text(re.compile(r"-\d"))
    expect(kpi(page, "top_category")).to_contain_text("% of spend")


def test_upload_changes_the_totals_and_export_matches_transactions(new_page, stack, tmp_path):
    page = new_page()
    login(page, stack, "cam", query="?preset=all")
    before = metrics_for(stack, "cam", [])
    expect_kpis(page, before)

    day = stack.today - timedelta(days=2)
    upload = tmp_path / "bank.csv"
    upload.write_text(
        "Date,Description,Amount,Category\n"
        f"{day:%Y-%m-%d},Corner bakery,4.20,Dining\n"
        f"{day:%Y-%m-%d},Train ticket,13.80,Transport\n"
        f"{day - timedelta(days=1):%Y-%m-%d},Weekly shop,52.00,Groceries\n"
    )
    page.get_by_role("button", name="Import a file…").click()
    dialog = page.locator(".import-dialog")
    dialog.locator("input[type=file]").set_input_files(str(upload))
    expect(dialog.locator("table.import-rows")).to_have_attribute("data-rows", "3")
    import_button = dialog.get_by_role("button", name="Import", exact=True)
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(dialog.locator(".import-result")).to_contain_text("Imported 3 new transactions")
    after = metrics_for(stack, "cam", [])
    assert Decimal(str(after["total_spend"])) == Decimal(str(before["total_spend"])) + Decimal(
        "70.00"
    )
    expect_kpis(page, after)

    # The same file again: all duplicates, nothing changes.
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(dialog.locator(".import-result")).to_contain_text("3 duplicates skipped")

    # A broken file: the row errors are shown, nothing is imported.
    broken = tmp_path / "broken.csv"
    broken.write_text("Date,Description,Amount\nnot-a-date,Thing,abc\n")
    dialog.locator("input[type=file]").set_input_files(str(broken))
    expect(dialog.locator(".import-notes")).to_contain_text("cannot be read")
    expect(import_button).to_be_disabled()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Export with a filter: the file holds exactly the rows /transactions lists.
    page.get_by_placeholder("e.g. coffee").fill("shop")
    page.get_by_placeholder("e.g. coffee").press("Enter")
    rows, total = transactions_for(stack, "cam", [("q", "shop")], limit=1000)
    expect(page.locator("table.tx")).to_have_attribute("data-total", str(total))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download filtered CSV").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(content)))
    assert len(exported) == total == len(rows)
    assert sorted((r["description"], Decimal(r["amount"])) for r in exported) == sorted(
        (r["description"], Decimal(str(r["amount"]))) for r in rows
    )


def test_logout_returns_to_login_and_forgets_the_token_and_the_filters(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    choose_category(page, "Dining")
    page.wait_for_function("() => window.location.search.includes('category=Dining')")
    token = page.evaluate("() => sessionStorage.getItem('spending-dashboard.token')")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    page.wait_for_function("() => !sessionStorage.getItem('spending-dashboard.token')")
    assert "category" not in page.url
    # The server ended the session: a copy of the token (stolen earlier) is worthless now.
    revoked = httpx.get(f"{stack.api_url}/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    page.reload()
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    expect(kpi(page, "total_spend")).to_have_count(0)

    # Logging out and in again in one tab: the next user sees only their own numbers, with
    # none of the last user's filters.
    start, end = default_range(stack.today)
    page.get_by_placeholder("Your username").fill("ben")
    page.get_by_placeholder("Your password").fill(stack.users["ben"].password)
    page.get_by_role("button", name="Log in").click()
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{stack.users['ben'].total(start, end):.2f}"
    )
    expect_kpis(
        page, metrics_for(stack, "ben", [("start", start.isoformat()), ("end", end.isoformat())])
    )
    expect(page.locator(".choices__list--multiple .choices__item")).to_have_count(0)
    assert "category" not in page.url
    page.get_by_role("button", name="Log out").click()
    page.get_by_placeholder("Your username").fill("ana")
    page.get_by_placeholder("Your password").fill(stack.users["ana"].password)
    page.get_by_role("button", name="Log in").click()
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{stack.users['ana'].total(start, end):.2f}"
    )


def test_two_users_at_once_see_only_their_own_numbers(new_page, stack):
    pages = {name: new_page() for name in ("ana", "ben")}
    for name, page in pages.items():
        page.goto(stack.ui_url + "?preset=all")
    for name, page in pages.items():
        user = stack.users[name]
        page.get_by_placeholder("Your username").fill(user.username)
        page.get_by_placeholder("Your password").fill(user.password)
    for page in pages.values():
        page.get_by_role("button", name="Log in").click()
    totals = {name: f"{stack.users[name].total():.2f}" for name in pages}
    assert totals["ana"] != totals["ben"]
    for name, page in pages.items():
        expect(kpi(page, "total_spend")).to_have_attribute("data-value", totals[name])
        expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    ben_categories = sorted({r.category for r in stack.users["ben"].rows})
    pages["ben"].wait_for_function(
        """(expected) => {
          const source = Bokeh.documents[0].get_model_by_name('category-source')
          const got = Array.from(source.data.category).sort()
          return JSON.stringify(got) === JSON.stringify(expected)
        }""",
        arg=ben_categories,
    )
    assert "Rent" not in pages["ben"].locator("table.tx").inner_text()


def test_wrong_password_shows_the_message(new_page, stack):
    page = new_page()
    page.goto(stack.ui_url)
    page.get_by_placeholder("Your username").fill("ben")
    page.get_by_placeholder("Your password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".login-message")).to_contain_text("Incorrect username or password")
    expect(kpi(page, "total_spend")).to_have_count(0)


def test_backend_outage_shows_a_banner_and_recovers(new_page, stack):
    page = new_page()
    login(page, stack, "ben", query="?preset=all")
    banner = page.locator(".backend-banner")
    expect(banner).to_be_hidden()
    stack.api_server.stop()
    try:
        page.get_by_role("button", name="Week").click()
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Connection lost")
    finally:
        stack.api_server.start()
    expect(banner).to_be_hidden()
    metrics = metrics_for(stack, "ben", [], granularity="week")
    expect_kpis(page, metrics)
    wait_for_source(
        page, "time-source", "total", [float(p["total"]) for p in metrics["spend_over_time"]]
    )


def test_a_reload_resumes_and_an_expired_token_returns_to_login(new_page, stack):
    with stack.api("ana") as client:
        user_id = client.get("/me").json()["id"]
    # The shortest lifetime in which the page loads, so the wait for the expiry is short:
    # twice the last load of the dashboard in this process (at least 3 s), doubled (a new
    # tab) while the machine is busier than that.
    seconds = max(3, math.ceil(2 * max(stack.load_seconds[-3:], default=0)))
    while True:
        lifetime = timedelta(seconds=seconds)
        issued = datetime.now(timezone.utc)
        expires = issued + lifetime
        # A session at its maximum age: /refresh refuses it, so the token really runs out.
        token = create_access_token(
            user_id=user_id,
            secret_key=stack.secret_key,
            lifetime=lifetime,
            now=issued,
            auth_time=issued - timedelta(days=100),
        )
        page = new_page()
        # What the tab keeps across a reload: the dashboard resumes without the login form.
        page.add_init_script(f"sessionStorage.setItem('spending-dashboard.token', '{token}')")
        page.goto(stack.ui_url + "?preset=all")
        left_ms = (expires - datetime.now(timezone.utc)).total_seconds() * 1000 - 500
        try:
            expect(kpi(page, "total_spend")).to_have_attribute(
                "data-value", f"{stack.users['ana'].total():.2f}", timeout=max(left_ms, 1)
            )
            break
        except AssertionError:
            if seconds >= 48:
                raise
            page.close()
            seconds *= 2
    # Once the token has expired, the next request sends the user back with a message.
    page.wait_for_function(
        f"() => Date.now() > {int(expires.timestamp() * 1000) + 500}", timeout=60_000
    )
    try:
        page.get_by_role("button", name="Week").click(timeout=5_000)
    except PlaywrightTimeoutError:
        # The dashboard's own expiry check (every 15 s) ran first and took the button away:
        # the same way back, with the same message.
        pass
    expect(page.locator(".login-message")).to_contain_text("session has expired")
    expect(kpi(page, "total_spend")).to_have_count(0)


# -- issue 15: every gesture leaves every view right ------------------------------------------


def amount_box(page, which: str):
    return page.locator(f".{which}-amount input")


def test_amount_boxes_take_thousands_and_reset_to_empty(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    amount_box(page, "min").fill("1,000")
    amount_box(page, "min").press("Enter")
    start, end = default_range(stack.today)
    params = [("start", start.isoformat()), ("end", end.isoformat()), ("min_amount", "1000.00")]
    expect_kpis(page, metrics_for(stack, "ana", params))
    page.locator("#sidebar").get_by_role("button", name="Reset filters").click()
    expect(amount_box(page, "min")).to_have_value("")
    expect(amount_box(page, "max")).to_have_value("")
    expect_kpis(page, metrics_for(stack, "ana", params[:2]))
    # Typing after a reset works (no NaN left in the box).
    amount_box(page, "max").fill("20")
    amount_box(page, "max").press("Enter")
    expect_kpis(page, metrics_for(stack, "ana", [*params[:2], ("max_amount", "20.00")]))
    amount_box(page, "min").fill("abc")
    amount_box(page, "min").press("Enter")
    expect(page.locator(".amount-error")).to_contain_text("not an amount")


def test_crossed_ranges_are_swapped_and_never_show_stale_numbers(new_page, stack):
    page = new_page()
    login(page, stack, "ana", query="?preset=all")
    # Both boxes typed at once, without waiting: Max is typed before Min is applied, and
    # entered after. Min's entry must neither wipe nor lose what Max holds.
    amount_box(page, "min").fill("50")
    amount_box(page, "max").fill("20")
    amount_box(page, "min").press("Enter")
    amount_box(page, "max").press("Enter")
    # Min above Max: the range between them, never a rejected filter with old numbers.
    expect(amount_box(page, "min")).to_have_value("20")
    expect(amount_box(page, "max")).to_have_value("50")
    params = [("min_amount", "20.00"), ("max_amount", "50.00")]
    expect_kpis(page, metrics_for(stack, "ana", params))
    expect(page.locator(".dashboard-error")).to_be_hidden()
    # From after To, from a shared link: swapped as well.
    a, b = stack.today - timedelta(days=40), stack.today - timedelta(days=10)
    page.goto(f"{stack.ui_url}?start={b}&end={a}")
    expect_kpis(page, metrics_for(stack, "ana", [("start", a.isoformat()), ("end", b.isoformat())]))
    expect(page.locator(".dashboard-error")).to_be_hidden()


def test_sort_by_any_header_goes_to_the_first_page_and_shows_the_direction(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    date_header = page.locator("table.tx th.when")
    expect(date_header).to_have_attribute("aria-sort", "descending")
    expect(date_header).to_have_text("Date ▼")
    page.locator(".pager-next button").click()
    page.locator(".pager-next button").click()
    expect(page.locator(".pager-info")).to_contain_text("page 3 of")
    amount_header = page.locator("table.tx th.amount")
    amount_header.locator("button").click()
    start, end = default_range(stack.today)
    params = [("start", start.isoformat()), ("end", end.isoformat())]
    rows, _ = transactions_for(stack, "ana", params, sort="-amount", limit=25)
    expect(page.locator(".pager-info")).to_contain_text("1–25 of")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "-amount")
    expect(amount_header).to_have_text("Amount ▼")
    expect(amount_header).to_have_attribute("aria-sort", "descending")
    expect(date_header).to_have_text("Date")
    amounts = page.locator("table.tx td.amount").evaluate_all(
        "cells => cells.map(c => c.dataset.amount)"
    )
    assert amounts == [f"{Decimal(str(r['amount'])):.2f}" for r in rows]
    amount_header.locator("button").click()
    expect(amount_header).to_have_text("Amount ▲")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "amount")
    assert parse_qs(urlparse(page.url).query)["sort"] == ["amount"]
    # The keyboard works too: the header is a button.
    date_header.locator("button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "-timestamp")

    # Description and category sort like date and amount.
    table = page.locator("table.tx")
    headers = {name: page.locator(f"table.tx th.{name}") for name in ("description", "category")}
    expect(headers["description"]).to_have_attribute("aria-sort", "none")
    expect(headers["description"]).to_have_text("Description")
    page.locator(".pager-next button").click()
    expect(page.locator(".pager-info")).to_contain_text("page 2 of")

    for column, title in (("description", "Description"), ("category", "Category")):
        for sort, arrow, state in ((column, "▲", "ascending"), (f"-{column}", "▼", "descending")):
            headers[column].locator("button").click()
            expect(table).to_have_attribute("data-sort", sort)
            expect(page.locator(".pager-info")).to_contain_text("1–25 of")
            expect(headers[column]).to_have_text(f"{title} {arrow}")
            expect(headers[column]).to_have_attribute("aria-sort", state)
            rows, _ = transactions_for(stack, "ana", params, sort=sort, limit=25)
            texts = [(row[column] or "").lower() for row in rows if row[column] is not None]
            assert texts == sorted(texts, reverse=sort.startswith("-"))
            shown = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
            assert shown == [str(row["id"]) for row in rows]
            assert parse_qs(urlparse(page.url).query)["sort"] == [sort]
    # The last order (Z–A) starts with the user's last category, whatever its case.
    with stack.api("ana") as client:
        names = [row["name"] for row in client.get("/categories").json() if row["count"]]
    assert rows[0]["category"].lower() == max(name.lower() for name in names)
    expect(headers["description"]).to_have_attribute("aria-sort", "none")
    expect(page.locator("table.tx th.when")).to_have_text("Date")


DONUT_BOX = """() => {
  function find(view) {
    if (view.model && view.model.name === 'category-figure') return view
    for (const child of view.children()) { const found = find(child); if (found) return found }
    return null
  }
  for (const root of Bokeh.index) {
    const view = find(root)
    if (view) {
      const box = view.el.getBoundingClientRect()
      const [xs, ys] = [view.frame.x_scale, view.frame.y_scale]
      const frame = view.frame.bbox
      return {
        cx: box.left + xs.compute(0), cy: box.top + ys.compute(0),
        rx: Math.abs(xs.compute(0.98) - xs.compute(0)),
        ry: Math.abs(ys.compute(0.98) - ys.compute(0)),
        left: box.left + frame.left, right: box.left + frame.right,
        top: box.top + frame.top, bottom: box.top + frame.bottom,
      }
    }
  }
  return null
}"""


def expect_a_round_whole_donut(page, width: int) -> None:
    page.wait_for_function(f"() => ({SOURCE_DATA})('category-source')?.category?.length > 1")
    page.wait_for_function(f"() => ({DONUT_BOX})()?.rx > 20")
    box = page.evaluate(DONUT_BOX)
    assert math.isclose(box["rx"], box["ry"], rel_tol=0.02), box
    assert box["cx"] - box["rx"] >= box["left"] - 1 and box["cx"] + box["rx"] <= box["right"] + 1
    assert box["cy"] - box["ry"] >= box["top"] - 1 and box["cy"] + box["ry"] <= box["bottom"] + 1
    assert box["cx"] + box["rx"] <= width


# The phone's width: test_on_a_phone_the_dashboard_fits_the_screen_width.
@pytest.mark.parametrize("viewport", [(1920, 1080), (2560, 1440)])
def test_the_donut_is_round_and_whole_at_every_width(new_page, stack, viewport):
    page = new_page(viewport=viewport)
    login(page, stack, "ana")
    expect_a_round_whole_donut(page, viewport[0])


def test_a_narrow_window_and_a_tablet_open_with_the_menu_closed(new_page, stack):
    ipad = {
        "has_touch": True,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Safari/605.1.15",
    }
    for viewport, options in (((390, 844), {}), ((820, 1180), ipad)):
        page = new_page(viewport=viewport, **options)
        page.goto(stack.ui_url)
        username = page.get_by_placeholder("Your username")
        expect(username).to_be_visible()
        expect(page.locator("#sidebar")).to_have_class(re.compile(r"\bhidden\b"))
        box = username.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0]


def choose_category(page, name: str) -> None:
    choices = page.get_by_placeholder("All categories")
    choices.click()
    choices.fill(name[:4])
    page.locator(".choices__item--choice", has_text=name).first.click()
    page.keyboard.press("Escape")


CHIPS_CONFIG = """() => {
  function find(view) {
    if (view.model && view.model.type === 'MultiChoice') return view
    for (const child of view.children()) { const found = find(child); if (found) return found }
    return null
  }
  for (const root of Bokeh.index) {
    const view = find(root)
    if (view && view.choice_el) return { allowHTML: view.choice_el.config.allowHTML }
  }
  return null
}"""


def test_the_category_chips_log_no_warning_after_a_login_or_a_reload(new_page, stack):
    page = new_page()
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    stack.login_with_form(page, "ana")
    choose_category(page, "Dining")
    page.wait_for_function("() => window.location.search.includes('category=Dining')")
    expect(page.locator(".choices__list--multiple .choices__item")).to_have_count(1)
    # choices.js is told how labels come (escaped HTML): nothing to warn about.
    assert page.evaluate(CHIPS_CONFIG) == {"allowHTML": True}
    # A reload resumes the session and builds the chips again, at once.
    page.reload()
    expect(page.locator(".choices__list--multiple .choices__item")).to_contain_text("Dining")
    assert page.evaluate(CHIPS_CONFIG) == {"allowHTML": True}
    # The chips still work as Bokeh's: a click inside the widget's shadow root removes one.
    page.get_by_role("button", name="Remove item: 'Dining'").click()
    page.wait_for_function("() => !window.location.search.includes('category=')")
    expect(page.locator(".choices__list--multiple .choices__item")).to_have_count(0)
    assert not [m for m in messages if m.startswith(("warning", "error")) or "allowHTML" in m]


def test_theme_sort_and_page_live_in_the_url_and_back_restores_the_view(new_page, stack):
    page = new_page()
    login(page, stack, "ana", query="?theme=dark")
    page.locator("select").first.select_option(label="Last 3 months")
    page.wait_for_function("() => window.location.search.includes('preset=last_3_months')")
    assert "theme=dark" in page.url  # a filter change keeps the dark theme
    page.locator("table.tx th.amount button").click()
    page.wait_for_function("() => window.location.search.includes('sort=-amount')")
    page.locator(".pager-next button").click()
    page.wait_for_function("() => window.location.search.includes('page=2')")
    query = parse_qs(urlparse(page.url).query)
    assert query["theme"] == ["dark"] and query["sort"] == ["-amount"]
    # Back: the previous URL and its view (page 1 of "Largest amount").
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('page=2')")
    expect(page.locator(".pager-info")).to_contain_text("page 1 of")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "-amount")
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('sort=')")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "-timestamp")
    start, end = months_back(stack.today, 3) + timedelta(days=1), stack.today
    expect_kpis(
        page, metrics_for(stack, "ana", [("start", start.isoformat()), ("end", end.isoformat())])
    )
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('preset=')")
    start, end = default_range(stack.today)
    expect_kpis(
        page, metrics_for(stack, "ana", [("start", start.isoformat()), ("end", end.isoformat())])
    )
    # A reload of a URL with sort and page shows that page in that order.
    page.goto(f"{stack.ui_url}?sort=amount&page=2")
    expect(page.locator(".pager-info")).to_contain_text("26–50 of")
    expect(page.locator("table.tx")).to_have_attribute("data-sort", "amount")


def test_the_description_search_applies_after_a_pause_in_typing(new_page, stack):
    page = new_page()
    login(page, stack, "ana", query="?preset=all")
    page.get_by_placeholder("e.g. coffee").press_sequentially("rent", delay=30)
    # No Enter, no leaving the box: the search applies by itself.
    expect(kpi(page, "top_category")).to_have_attribute("data-value", "Rent")
    expect_kpis(page, metrics_for(stack, "ana", [("q", "rent")]))
    assert parse_qs(urlparse(page.url).query)["q"] == ["rent"]


def test_a_new_account_sees_how_to_import_and_an_empty_filter_says_there_is_no_data(
    new_page, stack
):
    page = new_page()
    login(page, stack, "eve")
    expect(page.locator("[data-first-run]")).to_be_visible()
    expect(page.locator("[data-first-run]")).to_contain_text("Import a file…")
    expect(page.get_by_text("Widen the period")).to_be_hidden()
    # Someone with data but nothing matching still gets the "widen" advice.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_function("() => !sessionStorage.getItem('spending-dashboard.token')")
    stack.login_with_form(page, "ben", query="?q=no-such-purchase")
    expect(page.get_by_text("No data for these filters")).to_be_visible()
    expect(page.locator("[data-first-run]")).to_be_hidden()
    expect(kpi(page, "transaction_count")).to_have_attribute("data-value", "0")
    # All time: still nothing; resetting the filters brings the data back.
    page.get_by_role("button", name="Show all time").click()
    page.wait_for_function("() => window.location.search.includes('preset=all')")
    expect(kpi(page, "transaction_count")).to_have_attribute("data-value", "0")
    expect(page.get_by_text("No data for these filters")).to_be_visible()
    page.get_by_role("button", name="Reset filters").first.click()
    expect(page.get_by_text("No data for these filters")).to_be_hidden()


def test_the_table_totals_the_rows_and_shows_money_in_and_dates_plainly(new_page, stack):
    page = new_page(viewport=(390, 844), **PHONE)
    login(page, stack, "dee", query="?preset=last_30_days")
    start, end = stack.today - timedelta(days=29), stack.today
    params = [("start", start.isoformat()), ("end", end.isoformat())]
    total = stack.users["dee"].total(start, end)
    expect(page.locator(".tx-total")).to_have_attribute("data-total-amount", f"{total:.2f}")
    refund = page.locator("table.tx tr", has_text="Dee refund")
    expect(refund.locator("td.amount")).to_have_text("+65.00 in")
    expect(refund.locator("td.amount")).to_have_attribute("data-amount", "-65.00")
    # Seeded at noon: the time shows; each date stays on one line on a phone.
    cells = page.locator("table.tx td.when")
    heights = cells.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().height)")
    assert heights and max(heights) < 40, heights
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    rows, _ = transactions_for(stack, "dee", params, limit=25)
    assert len(rows) == cells.count()


def test_a_date_can_be_typed_and_weeks_start_on_monday(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    first = stack.today - timedelta(days=20)
    box = page.locator(".from-date input.bk-input:visible")
    box.fill(first.isoformat())
    box.press("Enter")
    page.wait_for_function(f"() => window.location.search.includes('start={first}')")
    params = [("start", first.isoformat()), ("end", stack.today.isoformat())]
    expect_kpis(page, metrics_for(stack, "ana", params))
    page.locator(".to-date input.bk-input:visible").click()
    weekdays = page.locator(".flatpickr-calendar.open .flatpickr-weekday")
    expect(weekdays.first).to_have_text(re.compile(r"^\s*Mon\s*$"))
