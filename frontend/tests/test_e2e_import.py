"""The dashboard for real money (#13), end to end: the import dialog (a new account, a changed
column role, the preview, the import), the income cards and the account filter, each checked
against what the API itself answers. Needs the API of #13 (accounts, income metrics)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.ui, pytest.mark.postgres, pytest.mark.slow]

SOURCE_DATA = """(name) => {
  const doc = (window.Bokeh && Bokeh.documents[0]) || null
  const source = doc && doc.get_model_by_name(name)
  return source ? JSON.parse(JSON.stringify(source.data)) : null
}"""


@pytest.fixture(scope="module")
def fay(stack, postgres_url):
    """A user of this module's own: what it imports changes no other test's figures."""
    from argon2 import PasswordHasher, profiles

    from spending_api.auth.repository import create_user
    from spending_api.db import Database
    from spending_api.settings import Settings

    seeded = type(next(iter(stack.users.values())))  # the stack's own record of a user
    user = seeded("fay", "fay-password-1", ())
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    settings = Settings(database_url=postgres_url, secret_key=stack.secret_key)
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            create_user(session, username=user.username, password_hash=hasher.hash(user.password))
            session.commit()
    finally:
        database.dispose()
    stack.users[user.username] = user
    return user


def login(page, stack, username: str, query: str = "") -> None:
    """The dashboard, signed in (see Stack.login in conftest.py)."""
    stack.login(page, username, query)


def kpi(page, key: str):
    return page.locator(f".kpi[data-kpi={key}]")


def api_get(stack, username: str, path: str, params=()):
    with stack.api(username) as client:
        response = client.get(path, params=list(params))
        response.raise_for_status()
        return response.json()


def expect_income_kpis(page, metrics: dict) -> None:
    """The income cards show exactly what /metrics said; no income: no rate, a dash."""
    for key in ("total_income", "net_savings"):
        expect(kpi(page, key)).to_have_attribute("data-value", f"{Decimal(str(metrics[key])):.2f}")
    rate = metrics["savings_rate"]
    expect(kpi(page, "savings_rate")).to_have_attribute(
        "data-value", "" if rate is None else str(Decimal(str(rate)))
    )
    expect(kpi(page, "total_spend")).to_have_attribute(
        "data-value", f"{Decimal(str(metrics['total_spend'])):.2f}"
    )


def test_import_into_a_new_account_with_a_changed_role_then_income_and_the_account_filter(
    new_page, stack, fay, tmp_path
):
    page = new_page()
    login(page, stack, "fay", query="?preset=all")
    expect(page.locator("[data-first-run]")).to_be_visible()

    # The dialog: a new card account, created from the dialog and chosen for the import.
    page.get_by_role("button", name="Import a file…").click()
    dialog = page.locator(".import-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_placeholder("e.g. Visa card").fill("Travel <card>")
    dialog.get_by_placeholder("EUR").fill("EUR")
    dialog.get_by_role("button", name="Create account").click()
    # Created and chosen (a Bokeh select's option values are its labels, drawn as text).
    expect(dialog.locator(".import-account select")).to_have_value("Travel <card> (EUR)")
    accounts = {a["name"]: a for a in api_get(stack, "fay", "/accounts")}
    assert len(accounts) == 2
    travel = accounts["Travel <card>"]["id"]

    upload = tmp_path / "statement.csv"
    upload.write_text(
        "Date,Text,Amount,Category,Memo\n"
        "2026-03-02,Weekly shop,-52.00,Groceries,receipt 1\n"
        "2026-03-03,ACME payroll,2000.00,Salary,march\n"
        "2026-03-04,Corner cafe,-8.50,Dining out,with <b>Bo</b>\n"
    )
    dialog.locator("input[type=file]").set_input_files(str(upload))
    expect(dialog.locator("table.import-rows")).to_have_attribute("data-rows", "3")
    # Memo is not read as the notes until the user says so (or it is, and stays so).
    memo = dialog.locator(".import-role-4 select")
    memo.select_option(label="Notes / reference")
    dialog.get_by_role("button", name="Preview again").click()
    expect(dialog.locator("table.import-rows")).to_contain_text("with <b>Bo</b>")
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.locator(".import-result")).to_contain_text("Imported 3 new transactions")
    rows = api_get(stack, "fay", "/transactions", [("account", str(travel))])
    assert sorted(r["notes"] for r in rows) == ["march", "receipt 1", "with <b>Bo</b>"]
    assert {r["account_id"] for r in rows} == {travel}

    # Income beside spending, as /metrics says; salary is no slice of the spending donut.
    everything = api_get(stack, "fay", "/metrics", [("granularity", "month")])
    assert Decimal(str(everything["total_income"])) == Decimal("2000.00")
    assert Decimal(str(everything["total_spend"])) == Decimal("60.50")
    expect_income_kpis(page, everything)
    page.wait_for_function(
        f"() => JSON.stringify(({SOURCE_DATA})('category-source')?.category)"
        " === JSON.stringify(['Groceries', 'Dining out'])"
    )
    assert "Salary" not in page.evaluate(SOURCE_DATA, "category-source")["category"]

    # The account filter: the new account only, kept in the URL.
    dialog.get_by_role("button", name="Close").click()
    main = next(a["id"] for name, a in accounts.items() if name != "Travel <card>")
    choices = page.get_by_placeholder("All accounts")
    choices.click()
    choices.fill("Trav")
    # Scoped to the account filter: "Travel" is also a default category.
    page.locator(".account-filter .choices__item--choice", has_text="Travel <card>").click()
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => window.location.search.includes('account={travel}')")
    assert parse_qs(urlparse(page.url).query)["account"] == [str(travel)]
    expect_income_kpis(
        page,
        api_get(stack, "fay", "/metrics", [("account", str(travel)), ("granularity", "month")]),
    )
    # The other account holds nothing: the empty state, not the numbers of both.
    page.goto(f"{stack.ui_url}?preset=all&account={main}")
    expect(page.get_by_text("No data for these filters")).to_be_visible()
    assert page.console_errors == []


HOSTILE = "<img src=x onerror=window.__xss=1>"


def test_the_preview_shows_a_files_markup_as_text(new_page, stack, tmp_path):
    """A file's text, the API's sentences and column names reach the dialog only escaped."""
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, stack, "ben")
    upload = tmp_path / "hostile.csv"
    upload.write_text(
        f'Date,Description,Amount,"{HOSTILE}"\n'
        f'2026-03-02,"{HOSTILE}",12.00,x\n'
        "2026-03-03,Bakery,3.00,y\n"
    )
    page.get_by_role("button", name="Import a file…").click()
    dialog = page.locator(".import-dialog")
    dialog.locator("input[type=file]").set_input_files(str(upload))
    table = dialog.locator("table.import-rows")
    expect(table).to_have_attribute("data-rows", "2")
    expect(table).to_contain_text(HOSTILE)
    assert dialog.locator("img").count() == 0
    # Nothing was stored by looking: ben's figures are as before.
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.console_errors == []
