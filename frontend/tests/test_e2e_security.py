"""Attacks that run in a page, in Chromium (issue #11, items 1, 3 and 10).

A user whose CSV import holds markup, bidi overrides and very long names (stored), and a
link that carries markup in `?category=` (reflected) or in Bokeh's `bokeh-absolute-url`:
no script of theirs runs, the names are shown as literal text, and they stay in their box.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

import httpx
import pytest
from playwright.sync_api import expect

# Like test_e2e.py: on any worker, against that worker's stack.
pytestmark = [pytest.mark.ui, pytest.mark.postgres, pytest.mark.slow]

TOKEN_KEY = "spending-dashboard.token"
STORED = "<img src=x onerror=__xss=1>"  # 27 characters: shown whole
STORED_DESCRIPTION = "<img src=x onerror=__xss=2> coffee"
REFLECTED = "<img src=x onerror=__xss=3>"
BIDI = "Rent\u202eexe.fdp"
LONG = "Subscriptions, memberships and other recurring payments of the household"
PASSWORD = "mallory-password-1"


def _create_user(postgres_url: str, username: str) -> None:
    from argon2 import PasswordHasher, profiles
    from spending_api.auth.repository import create_user
    from spending_api.db import Database
    from spending_api.settings import Settings

    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)  # logins check it quickly
    database = Database.from_settings(Settings(database_url=postgres_url, secret_key="x" * 40))
    try:
        with database.session() as session:
            create_user(session, username=username, password_hash=cheap.hash(PASSWORD))
            session.commit()
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def mallory(stack, postgres_url) -> str:
    """A user whose bank CSV holds hostile names, imported through the API."""
    _create_user(postgres_url, "mallory")
    token = httpx.post(
        f"{stack.api_url}/login", json={"username": "mallory", "password": PASSWORD}
    ).json()["access_token"]
    day = stack.today - timedelta(days=3)
    rows = [
        (STORED, STORED_DESCRIPTION, "500.00"),
        (BIDI, "Invoice \u202eexe.fdp", "120.00"),
        (LONG, LONG + " " + LONG, "80.00"),
        ("Groceries", "Weekly shop", "40.00"),
    ]
    lines = ["Date,Description,Amount,Category"] + [
        f'{day:%Y-%m-%d},"{d}",{amount},"{c}"' for c, d, amount in rows
    ]
    response = httpx.post(
        f"{stack.api_url}/transactions/import",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("bank.csv", "\n".join(lines).encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == len(rows)
    return "mallory"


def _log_in(page, stack, username: str, password: str, query: str = "") -> None:
    page.goto(stack.ui_url + query)
    page.get_by_placeholder("Your username").fill(username)
    page.get_by_placeholder("Your password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".kpi[data-kpi=total_spend][data-value]")).to_be_attached()


def _watch_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def record(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return dialogs


def test_bokeh_absolute_url_cannot_inject_a_script(new_page, stack):
    page = new_page()
    dialogs = _watch_dialogs(page)
    payload = '"><img src=x onerror=alert(document.domain)>'
    response = page.goto(f"{stack.ui_url}?bokeh-absolute-url={quote(payload)}")
    assert response.status == 400
    assert page.locator("img").count() == 0
    # The same page without the argument still works.
    page.goto(stack.ui_url)
    expect(page.get_by_placeholder("Your username")).to_be_visible()
    assert dialogs == []
    # The refused page's own 400 is the one console line this test expects.
    _expect_console(page, ["status of 400 (Bad Request)"])


def _expect_console(page, expected: list[str]) -> None:
    """Checks that the page logged exactly these problems (the attack's traces) and takes them
    off the list that new_page fails the test on."""
    assert len(page.console_errors) == len(expected), page.console_errors
    for error, part in zip(page.console_errors, expected):
        assert part in error, (part, page.console_errors)
    page.console_errors.clear()


def test_markup_that_gets_into_the_page_cannot_read_the_token(new_page, stack):
    """Defence in depth: even an element injected into the live page runs no handler."""
    page = new_page()
    user = stack.users["ana"]
    _log_in(page, stack, user.username, user.password)
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')")  # the prize is there
    stolen = page.evaluate(
        """(key) => new Promise(resolve => {
          window.__violations = []
          document.addEventListener('securitypolicyviolation',
            e => window.__violations.push(e.violatedDirective))
          document.body.insertAdjacentHTML('beforeend',
            `<img id=probe src=x onerror="window.__stolen=sessionStorage.getItem('${key}')">`)
          // Listeners run after the inline handler would have: by then it ran or was blocked.
          document.getElementById('probe').addEventListener('error',
            () => resolve(window.__stolen === undefined ? null : window.__stolen))
        })""",
        TOKEN_KEY,
    )
    assert stolen is None
    page.wait_for_function("window.__violations.includes('script-src-attr')")
    # What the attack leaves in the console: the CSP's refusal and the probe's broken image.
    _expect_console(
        page, ["violates the following Content Security Policy", "status of 404 (Not Found)"]
    )


def test_hostile_names_are_shown_as_text_and_stay_in_their_box(new_page, stack, mallory):
    page = new_page()
    dialogs = _watch_dialogs(page)
    query = "?" + urlencode(
        [("preset", "all"), ("category", STORED), ("category", REFLECTED), ("category", BIDI)],
        quote_via=quote,
    )
    query += "&" + urlencode([("category", LONG)], quote_via=quote)
    _log_in(page, stack, mallory, PASSWORD, query)

    # The table lists the stored rows, as text.
    table = page.locator("table.tx")
    expect(table).to_have_attribute("data-total", "3")
    expect(table).to_contain_text(STORED_DESCRIPTION)
    expect(table).to_contain_text(STORED)
    assert table.locator("img").count() == 0
    # The top category is the stored payload, shown literally (and kept exactly in data-value).
    top = page.locator(".kpi[data-kpi=top_category]")
    expect(top).to_have_attribute("data-value", STORED)
    expect(top.locator(".kpi-value")).to_have_text(STORED)
    # The multi-select shows the chosen names (stored and reflected) as text.
    chosen = page.locator(".choices__list--multiple .choices__item")
    expect(chosen).to_have_count(4)
    labels = chosen.evaluate_all(
        "items => items.map(i => i.textContent.replace('Remove item', ''))"
    )
    assert STORED in " ".join(labels) and REFLECTED in " ".join(labels)
    assert page.locator(".choices img").count() == 0
    # The summary line names the filters as text too.
    expect(page.get_by_text(REFLECTED, exact=False).first).to_be_attached()

    # Bidi overrides: shown without them, isolated; long names shortened, full in the title.
    cells = table.locator("td bdi").evaluate_all(
        "cells => cells.map(c => [c.textContent, c.getAttribute('title')])"
    )
    assert all("\u202e" not in text for text, _ in cells)
    assert ["Rentexe.fdp", None] in cells
    long_cells = [(text, title) for text, title in cells if title == LONG]
    assert long_cells and all(len(text) <= 32 and text.endswith("…") for text, _ in long_cells)
    # The donut's legend entries are bounded and override-free (the legend is on a canvas).
    legend = page.evaluate(
        """() => Array.from(Bokeh.documents[0].get_model_by_name('category-source').data.label)"""
    )
    assert sorted(legend) == sorted([STORED, "Rentexe.fdp", LONG[:31].rstrip() + "…"])
    # Nothing is pushed past the page's width.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def test_a_tab_used_again_by_the_next_test_holds_no_token_and_no_listener(shared_context, stack):
    """The tests' tabs are used again (conftest.SharedContext): one that a test left signed in
    comes back signed out, without that test's listeners; one given an init script is closed;
    a context left with local storage is replaced."""
    page = shared_context.new_page()
    heard: list[str] = []
    page.on("console", lambda message: heard.append(message.text))
    stack.login(page, "ana")
    shared_context.release([page])

    again = shared_context.new_page()
    assert again is page and again.url == "about:blank"
    again.goto(stack.ui_url)
    expect(again.get_by_placeholder("Your username")).to_be_visible()
    assert again.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") is None
    heard.clear()
    again.evaluate("() => console.log('after the reset')")
    assert heard == []

    again.add_init_script("window.leftOver = true")
    shared_context.release([again])
    assert again.is_closed()
    fresh = shared_context.new_page()
    fresh.goto(stack.ui_url)
    assert fresh.evaluate("() => window.leftOver") is None
    # Local storage is the whole context's: a context left with some is replaced.
    fresh.evaluate("() => localStorage.setItem('left-over', '1')")
    fresh.goto("about:blank")
    shared_context.release([fresh])
    assert shared_context.context is None
