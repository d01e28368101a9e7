"""End to end: the real dashboard and API on PostgreSQL, driven in Chromium.

Numbers on the page are checked against /metrics and /transactions fetched by the test, and
against sums computed here from the seeded rows. Every wait is a condition, never a sleep.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from spending_api.auth.security import create_access_token

# One xdist worker runs them all: one API, one dashboard and one Chromium for the session.
pytestmark = [
    pytest.mark.ui,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
]

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
    user = stack.users[username]
    page.goto(stack.ui_url + query)
    page.get_by_placeholder("Your username").fill(user.username)
    page.get_by_placeholder("Your password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".kpi[data-kpi=total_spend][data-value]")).to_be_attached()


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


def test_login_shows_the_kpis_of_metrics_with_security_headers(new_page, stack):
    page = new_page()
    response = page.goto(stack.ui_url)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]

    login(page, stack, "ana")
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
    # Only the blocked web font may complain; everything else works under the CSP.
    errors = [e for e in page.console_errors if "fonts.googleapis.com" not in e]
    assert errors == []


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


def test_on_a_phone_the_dashboard_fits_the_screen_width(new_page, stack):
    page = new_page(viewport=(390, 844), **PHONE)
    page.goto(stack.ui_url)
    # The login form fits as well.
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    login(page, stack, "ana")
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
    assert page.console_errors == [] or all("fonts" in e for e in page.console_errors)


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


def test_bar_click_narrows_to_the_period(new_page, stack):
    page = new_page()
    login(page, stack, "ana")
    page.wait_for_function(f"() => ({SOURCE_DATA})('time-source')?.total?.length > 3")
    data = page.evaluate(SOURCE_DATA, "time-source")
    index = len(data["total"]) - 2
    point = page.evaluate(
        SCREEN_POINT, ["time-figure", data["period_start"][index], data["total"][index] / 2]
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
    page.locator("input[type=file]").set_input_files(str(upload))
    import_button = page.get_by_role("button", name="Import CSV")
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(page.locator(".import-result")).to_contain_text("Imported 3 new transactions")
    after = metrics_for(stack, "cam", [])
    assert Decimal(str(after["total_spend"])) == Decimal(str(before["total_spend"])) + Decimal(
        "70.00"
    )
    expect_kpis(page, after)

    # The same file again: all duplicates, nothing changes.
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(page.locator(".import-result")).to_contain_text("3 duplicates skipped")

    # A broken file: the row errors are shown, nothing is imported.
    broken = tmp_path / "broken.csv"
    broken.write_text("Date,Description,Amount\nnot-a-date,Thing,abc\n")
    page.locator("input[type=file]").set_input_files(str(broken))
    import_button.click()
    expect(page.locator(".import-result")).to_contain_text("Nothing was imported")

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


def test_logout_returns_to_login_and_forgets_the_token(new_page, stack):
    page = new_page()
    login(page, stack, "ben")
    token = page.evaluate("() => sessionStorage.getItem('spending-dashboard.token')")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    page.wait_for_function("() => !sessionStorage.getItem('spending-dashboard.token')")
    # The server ended the session: a copy of the token (stolen earlier) is worthless now.
    revoked = httpx.get(f"{stack.api_url}/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    page.reload()
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    expect(kpi(page, "total_spend")).to_have_count(0)

    # Logging out and in again in one tab: the next user sees only their own numbers.
    page.get_by_placeholder("Your username").fill("ana")
    page.get_by_placeholder("Your password").fill(stack.users["ana"].password)
    page.get_by_role("button", name="Log in").click()
    start, end = default_range(stack.today)
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{stack.users['ana'].total(start, end):.2f}"
    )
    page.get_by_role("button", name="Log out").click()
    page.get_by_placeholder("Your username").fill("ben")
    page.get_by_placeholder("Your password").fill(stack.users["ben"].password)
    page.get_by_role("button", name="Log in").click()
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{stack.users['ben'].total(start, end):.2f}"
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


def test_empty_state_says_there_is_no_data(new_page, stack):
    page = new_page()
    login(page, stack, "ben", query="?preset=all&q=no-such-purchase")
    expect(kpi(page, "transaction_count")).to_have_attribute("data-value", "0")
    expect(page.get_by_text("No data for these filters")).to_be_visible()
    page.get_by_role("button", name="Show all time").click()
    expect(kpi(page, "transaction_count")).to_have_attribute("data-value", "0")
    page.get_by_role("button", name="Reset filters").first.click()
    expect(page.get_by_text("No data for these filters")).to_be_hidden()


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
    # 3 s on a quiet machine, doubled (a fresh tab) while a busy one needs longer.
    for seconds in (3, 6, 12, 24, 48):
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
            if seconds == 48:
                raise
            page.context.close()
    # Once the token has expired, the next request sends the user back with a message.
    page.wait_for_function(f"() => Date.now() > {int(expires.timestamp() * 1000) + 500}")
    page.get_by_role("button", name="Week").click()
    expect(page.locator(".login-message")).to_contain_text("session has expired")
    expect(kpi(page, "total_spend")).to_have_count(0)
