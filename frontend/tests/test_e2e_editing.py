"""Correcting from the dashboard (#14), end to end on the real API: a category edited in the
table moves the KPIs and the donut to exactly what /metrics then says; a suggestion taken
from the review queue leaves it and becomes the user's category; a category created (its hostile
name shown as text), renamed and merged moves every view the same way."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.ui, pytest.mark.postgres, pytest.mark.slow]


def new_user(stack, postgres_url, username: str):
    """A user of this module's own: its edits change no other test's figures."""
    from argon2 import PasswordHasher, profiles

    from spending_api.auth.repository import create_user
    from spending_api.db import Database
    from spending_api.settings import Settings

    seeded = type(next(iter(stack.users.values())))  # the stack's own record of a user
    user = seeded(username, f"{username}-password-1", ())
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


def add(stack, username: str, rows: list[dict]) -> list[dict]:
    """Manual transactions through the API, days before today."""
    created = []
    with stack.api(username) as client:
        for days, amount, description, category in rows:
            moment = datetime.combine(stack.today - timedelta(days=days), time(12, 0))
            body = {"timestamp": moment.isoformat(), "amount": amount, "description": description}
            if category:
                body["category"] = category
            response = client.post("/transactions", json=body)
            response.raise_for_status()
            created.append(response.json())
    return created


def login(page, stack, username: str) -> None:
    """The dashboard, signed in (see Stack.login in conftest.py)."""
    stack.login(page, username)


def shown_metrics(stack, username: str) -> dict:
    """/metrics for the dashboard's default period."""
    from spending_ui.state import Filters

    with stack.api(username) as client:
        params = [*Filters(today=stack.today).to_params(), ("granularity", "month")]
        response = client.get("/metrics", params=params)
        response.raise_for_status()
        return response.json()


def expect_figures(page, metrics: dict) -> None:
    """The cards and the donut show exactly what /metrics said."""
    expect(page.locator(".kpi[data-kpi=total_spend]")).to_have_attribute(
        "data-value", f"{Decimal(str(metrics['total_spend'])):.2f}"
    )
    top = [c for c in metrics["top_categories"] if Decimal(str(c["total"])) > 0]
    expect(page.locator(".kpi[data-kpi=top_category]")).to_have_attribute(
        "data-value", top[0]["category"] if top else ""
    )
    page.wait_for_function(
        """(expected) => {
          const doc = window.Bokeh && Bokeh.documents[0]
          const source = doc && doc.get_model_by_name("category-source")
          if (!source) return false
          const got = Array.from(source.data.category || []).map(
            (name, i) => [name, source.data.total[i]])
          return JSON.stringify(got) === JSON.stringify(expected)
        }""",
        arg=[[c["category"], float(c["total"])] for c in top],
    )


def test_a_category_edited_in_the_table_moves_the_kpis_and_the_donut(new_page, stack, postgres_url):
    new_user(stack, postgres_url, "gil")
    add(
        stack,
        "gil",
        [
            (3, "40.00", "Grocer Mart", "Groceries"),
            (2, "95.50", "Pizza Place", None),
            (1, "3.20", "Bus ticket", "Transport"),
        ],
    )
    page = new_page()
    login(page, stack, "gil")

    before = shown_metrics(stack, "gil")
    assert before["top_categories"][0]["category"] == "Uncategorized"
    expect_figures(page, before)
    share = Decimal("95.50") / (Decimal("40.00") + Decimal("95.50") + Decimal("3.20"))
    expect(page.locator(".uncategorized .uncategorized-share")).to_have_attribute(
        "data-share", str(share.quantize(Decimal("0.0001")))
    )

    row = page.locator("table.tx tbody tr", has_text="Pizza Place")
    expect(row.locator("td.why .why")).to_have_attribute("data-source", "default")
    row.locator("button.row-edit").click()
    editor = page.locator(".edit-transaction")
    expect(editor).to_be_visible()
    # The categories in use (GET /categories lists those until category records are served).
    editor.locator("select").first.select_option(label="Groceries")
    editor.locator(".edit-notes textarea").fill("with friends")
    editor.get_by_role("button", name="Save").click()

    row = page.locator("table.tx tbody tr", has_text="Pizza Place")
    expect(row.locator("td:nth-child(3)")).to_have_text("Groceries")
    expect(row.locator("td.why .why")).to_have_attribute("data-source", "user")
    after = shown_metrics(stack, "gil")
    assert [(c["category"], c["total"]) for c in after["top_categories"]] == [
        ("Groceries", 135.5),
        ("Transport", 3.2),
    ]
    assert after["total_spend"] == before["total_spend"]
    expect_figures(page, after)
    expect(page.locator(".uncategorized-share").first).to_have_attribute("data-share", "0.0000")
    with stack.api("gil") as client:
        [stored] = [
            t for t in client.get("/transactions").json() if t["description"] == "Pizza Place"
        ]
    assert (stored["category"], stored["notes"], stored["category_source"]) == (
        "Groceries",
        "with friends",
        "user",
    )


def test_a_suggestion_accepted_from_the_review_queue(new_page, stack, postgres_url):
    new_user(stack, postgres_url, "hal")
    add(
        stack,
        "hal",
        [
            (9, "10.00", "CORNER BAKERY 1234", "Groceries"),
            (8, "11.00", "CORNER BAKERY 5678", "Groceries"),
            (7, "30.00", "CITY CINEMA", "Entertainment"),
            (1, "12.40", "CORNER BAKERY 9012", None),
        ],
    )
    with stack.api("hal") as client:
        client.post("/suggestions/refresh").raise_for_status()
        queue = client.get("/transactions", params={"review": "true", "sort": "-amount"}).json()
    [waiting] = [t for t in queue if t["description"] == "CORNER BAKERY 9012"]
    assert waiting["suggestion"]["category"] == "Groceries", waiting

    page = new_page()
    login(page, stack, "hal")
    item = page.locator(f".review-item[data-id='{waiting['id']}']")
    expect(item).to_contain_text("Suggested: Groceries")
    item.get_by_role("button", name="Accept").click()

    expect(page.locator(f".review-item[data-id='{waiting['id']}']")).to_have_count(0)
    row = page.locator("table.tx tbody tr", has_text="CORNER BAKERY 9012")
    expect(row.locator("td:nth-child(3)")).to_have_text("Groceries")
    expect(row.locator("td.why .why")).to_have_attribute("data-source", "user")
    expect_figures(page, shown_metrics(stack, "hal"))
    with stack.api("hal") as client:
        [stored] = [t for t in client.get("/transactions").json() if t["id"] == waiting["id"]]
    assert (stored["category"], stored["category_source"]) == ("Groceries", "user")


def test_ticked_rows_recategorized_then_a_rule_previewed_saved_reordered_and_deleted(
    new_page, stack, postgres_url
):
    new_user(stack, postgres_url, "ivy")
    rows = add(
        stack,
        "ivy",
        [
            (4, "12.00", "City Taxi", None),
            (3, "18.50", "City Taxi", None),
            (2, "7.25", "Metro card", "Transport"),
            (1, "22.00", "Night Bus", None),
        ],
    )
    page = new_page()
    login(page, stack, "ivy")
    taxis = [r["id"] for r in rows if r["description"] == "City Taxi"]
    # Both ticks at once, without waiting for the server (the page sends its whole selection).
    for transaction_id in taxis:
        page.locator(f"table.tx input.row-select[data-id='{transaction_id}']").click()
    bar = page.locator(".bulk-bar")
    expect(bar).to_contain_text("2 transactions selected")
    bar.locator("select").select_option(label="Transport")
    bar.get_by_role("button", name="Check").click()
    check = bar.locator(".bulk-check")
    expect(check).to_have_attribute("data-matched", "2")
    expect(check).to_have_attribute("data-total", "30.50")
    with stack.api("ivy") as client:  # the check changed nothing
        assert {t["category"] for t in client.get("/transactions").json()} == {
            "Uncategorized",
            "Transport",
        }
    bar.get_by_role("button", name="Recategorize").click()
    expect(bar).to_be_hidden()
    after = shown_metrics(stack, "ivy")
    assert [(c["category"], c["total"]) for c in after["top_categories"]] == [
        ("Transport", 37.75),
        ("Uncategorized", 22.0),
    ]
    expect_figures(page, after)

    rules = page.locator(".rules")
    rules.get_by_text("Rules", exact=True).click()  # the card opens
    # Not the default condition: starts with, and an amount range.
    rules.locator(".rule-operator select").select_option(label="starts with")
    rules.locator(".rule-text input").fill("night")
    rules.locator(".rule-amount-max input").fill("30")
    rules.locator(".rule-category select").select_option(label="Transport")
    rules.get_by_role("button", name="Preview").click()
    # Two taxis corrected alike: a rule is offered, with its preview, and not saved.
    expect(rules.locator(".rule-proposals .rule-proposal").first).to_be_visible()
    preview = rules.locator(".rule-form .rule-preview")
    expect(preview).to_have_attribute("data-count", "1")
    expect(preview).to_have_attribute("data-total", "22.00")
    expect(preview).to_contain_text("Night Bus")
    with stack.api("ivy") as client:
        assert client.get("/rules").json() == []  # a preview saves nothing
    rules.get_by_role("button", name="Save rule").click()
    listed = rules.locator(".rules-list .rule")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("description starts with “night” and amount at most 30")
    expect_figures(page, shown_metrics(stack, "ivy"))
    with stack.api("ivy") as client:
        stored = client.get("/transactions").json()
        [night] = client.get("/rules").json()
    assert {t["category"] for t in stored} == {"Transport"}
    assert night["conditions"][0]["operator"] == "starts_with"

    # The offered rule saved too, then moved before the first, then the first deleted.
    rules.get_by_role("button", name="Create this rule").click()
    expect(listed).to_have_count(2)
    with stack.api("ivy") as client:
        taxi = next(r for r in client.get("/rules").json() if r["id"] != night["id"])
    rules.locator(f".rule[data-id='{taxi['id']}'] .rule-up").click()
    expect(listed.first).to_have_attribute("data-id", str(taxi["id"]))
    with stack.api("ivy") as client:
        assert [r["id"] for r in client.get("/rules").json()] == [taxi["id"], night["id"]]
    rules.locator(f".rule[data-id='{night['id']}'] .rule-delete").click()
    expect(listed).to_have_count(1)
    expect(listed.first).to_have_attribute("data-id", str(taxi["id"]))
    with stack.api("ivy") as client:
        assert [r["id"] for r in client.get("/rules").json()] == [taxi["id"]]


HOSTILE_CATEGORY = "<img src=x onerror=alert(1)>Tea"  # shown whole: within LABEL_CHARS


def test_a_category_created_renamed_and_merged_moves_every_view(new_page, stack, postgres_url):
    new_user(stack, postgres_url, "kit")
    add(
        stack,
        "kit",
        [
            (4, "30.00", "Cinema", "Entertainment"),
            (3, "25.50", "Concert", "Entertainment"),
            (2, "40.00", "Pizza Place", "Dining out"),
            (1, "3.20", "Bus ticket", "Transport"),
        ],
    )
    page = new_page()
    login(page, stack, "kit")
    before = shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in before["top_categories"]] == [
        ("Entertainment", 55.5),
        ("Dining out", 40.0),
        ("Transport", 3.2),
    ]
    expect_figures(page, before)

    panel = page.locator(".categories")
    panel.get_by_text("Categories", exact=True).click()  # the card opens
    listed = panel.locator(".categories-list tr.category-row")
    expect(listed.filter(has_text="Entertainment")).to_have_attribute("data-count", "2")

    # A new category with a name that is markup: text in the list and in the pickers.
    panel.locator(".category-new-name input").fill(HOSTILE_CATEGORY)
    panel.get_by_role("button", name="Create").click()
    expect(panel.locator(".category-message")).to_have_text(
        f"Category “{HOSTILE_CATEGORY}” created."
    )
    made = listed.filter(has_text=HOSTILE_CATEGORY)
    expect(made).to_have_attribute("data-count", "0")
    expect(panel.locator(".categories-list img")).to_have_count(0)
    expect(
        panel.locator(".category-chosen select option", has_text=HOSTILE_CATEGORY)
    ).to_have_count(1)
    with stack.api("kit") as client:
        assert HOSTILE_CATEGORY in {c["name"] for c in client.get("/categories").json()}

    # Renamed: the transactions follow, and the KPIs and the donut with them.
    panel.locator(".category-chosen select").select_option(label="Entertainment")
    panel.locator(".category-edit-name input").fill("Fun & games")
    panel.get_by_role("button", name="Save").click()
    expect(listed.filter(has_text="Fun & games")).to_have_attribute("data-count", "2")
    renamed = shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in renamed["top_categories"]] == [
        ("Fun & games", 55.5),
        ("Dining out", 40.0),
        ("Transport", 3.2),
    ]
    expect_figures(page, renamed)

    # Merged into Dining out: the question says how many move, then the figures move.
    panel.locator(".category-target select").select_option(label="Dining out")
    panel.get_by_role("button", name="Merge…").click()
    expect(panel.locator(".category-question")).to_have_text(
        "Merge “Fun & games” into “Dining out”: 2 transactions move to it."
    )
    panel.get_by_role("button", name="Confirm").click()
    expect(listed.filter(has_text="Dining out")).to_have_attribute("data-count", "3")
    expect(listed.filter(has_text="Fun & games")).to_have_count(0)
    merged = shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in merged["top_categories"]] == [
        ("Dining out", 95.5),
        ("Transport", 3.2),
    ]
    expect_figures(page, merged)
    expect(panel.locator(".category-chosen select option", has_text="Fun & games")).to_have_count(0)

    # Transport grouped under Dining out with a colour of its own (the picker), then the
    # donut by group: one slice, the group's total from /metrics.
    by_group = page.get_by_role("button", name="By group")
    expect(by_group).to_be_hidden()  # offered once there is a group
    panel.locator(".category-chosen select").select_option(label="Transport")
    panel.locator(".category-edit-parent select").select_option(label="Dining out")
    panel.locator(".category-edit-own-colour input").check()
    panel.locator(".category-edit-colour input").fill("#aabbcc")
    panel.get_by_role("button", name="Save").click()
    expect(listed.filter(has_text="Transport").locator(".group")).to_have_text("Dining out")
    with stack.api("kit") as client:
        transport = [c for c in client.get("/categories").json() if c["name"] == "Transport"]
    assert transport[0]["colour"] == "#aabbcc"
    grouped = shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in grouped["category_groups"]] == [
        ("Dining out", 98.7)
    ]
    by_group.click()
    page.wait_for_function("""() => {
          const source = Bokeh.documents[0].get_model_by_name("category-source")
          return JSON.stringify(Array.from(source.data.category)) === '["Dining out"]'
            && source.data.total[0] === 98.7
        }""")
    assert "groups=1" in page.url


def test_the_parts_made_on_demand_are_absent_until_opened_then_work(new_page, stack, postgres_url):
    """The folded cards and the hidden forms are not in the page after login (views/on_demand.py);
    the new-transaction form and the change-password card then work once opened (the edit
    form, the bulk bar, the rules, the categories and the import dialog: the tests above and
    test_e2e_import.py)."""
    user = new_user(stack, postgres_url, "lia")
    add(stack, "lia", [(2, "40.00", "Grocer Mart", "Groceries")])
    page = new_page()
    login(page, stack, "lia")
    expect(page.locator("table.tx tbody tr", has_text="Grocer Mart")).to_have_count(1)
    for part in (
        ".password-card input[type=password]",
        ".rules .rule-form",
        ".categories .categories-list",
        ".edit-transaction",
        ".bulk-bar",
        ".add-transaction",
        ".import-dialog",
    ):
        expect(page.locator(part)).to_have_count(0)

    page.get_by_role("button", name="Add a transaction…").click()
    form = page.locator(".add-transaction")
    expect(form).to_be_visible()
    form.locator(".add-amount input").fill("12.50")
    form.locator(".add-description input").fill("Corner shop")
    form.get_by_role("button", name="Add", exact=True).click()
    expect(form).to_be_hidden()
    row = page.locator("table.tx tbody tr", has_text="Corner shop")
    expect(row.locator("td.amount")).to_contain_text("12.50")
    with stack.api("lia") as client:
        added = [t for t in client.get("/transactions").json() if t["description"] == "Corner shop"]
    assert [(t["amount"], t["category"]) for t in added] == [(12.5, "Uncategorized")]

    card = page.locator(".password-card")
    card.get_by_text("Change password", exact=True).click()  # the card unfolds
    boxes = card.locator("input[type=password]")
    expect(boxes).to_have_count(3)
    new_password = "lia-password-2"
    for box, text in zip(boxes.all(), (user.password, new_password, new_password)):
        box.fill(text)
    card.locator("button.bk-btn", has_text="Change password").click()
    expect(card.locator(".password-message")).to_contain_text("Password changed")
    response = httpx.post(
        f"{stack.api_url}/login", json={"username": "lia", "password": new_password}
    )
    assert response.status_code == 200
