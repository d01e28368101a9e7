"""Managing categories from the dashboard (#14), end to end on the real API: a new category
(its hostile name shown as text in the list and the pickers), a rename and a merge, each moving
the KPIs and the donut to exactly what /metrics then says and what the rows add up to."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.ui,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
]

# The editing tests' helpers (a user of the test's own, rows through the API, the figures
# checked against /metrics); the tests run in importlib mode: no package imports.
_spec = importlib.util.spec_from_file_location(
    "spending_e2e_editing", Path(__file__).with_name("test_e2e_editing.py")
)
editing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editing)

HOSTILE = "<img src=x onerror=alert(1)>Tea"  # shown whole: within LABEL_CHARS


def test_a_category_created_renamed_and_merged_moves_every_view(new_page, stack, postgres_url):
    editing.new_user(stack, postgres_url, "kit")
    editing.add(
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
    editing.login(page, stack, "kit")
    before = editing.shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in before["top_categories"]] == [
        ("Entertainment", 55.5),
        ("Dining out", 40.0),
        ("Transport", 3.2),
    ]
    editing.expect_figures(page, before)

    panel = page.locator(".categories")
    panel.get_by_text("Categories", exact=True).click()  # the card opens
    listed = panel.locator(".categories-list tr.category-row")
    expect(listed.filter(has_text="Entertainment")).to_have_attribute("data-count", "2")

    # A new category with a name that is markup: text in the list and in the pickers.
    panel.locator(".category-new-name input").fill(HOSTILE)
    panel.get_by_role("button", name="Create").click()
    expect(panel.locator(".category-message")).to_have_text(f"Category “{HOSTILE}” created.")
    made = listed.filter(has_text=HOSTILE)
    expect(made).to_have_attribute("data-count", "0")
    expect(panel.locator(".categories-list img")).to_have_count(0)
    expect(panel.locator(".category-chosen select option", has_text=HOSTILE)).to_have_count(1)
    with stack.api("kit") as client:
        assert HOSTILE in {c["name"] for c in client.get("/categories").json()}

    # Renamed: the transactions follow, and the KPIs and the donut with them.
    panel.locator(".category-chosen select").select_option(label="Entertainment")
    panel.locator(".category-edit-name input").fill("Fun & games")
    panel.get_by_role("button", name="Save").click()
    expect(listed.filter(has_text="Fun & games")).to_have_attribute("data-count", "2")
    renamed = editing.shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in renamed["top_categories"]] == [
        ("Fun & games", 55.5),
        ("Dining out", 40.0),
        ("Transport", 3.2),
    ]
    editing.expect_figures(page, renamed)

    # Merged into Dining out: the question says how many move, then the figures move.
    panel.locator(".category-target select").select_option(label="Dining out")
    panel.get_by_role("button", name="Merge…").click()
    expect(panel.locator(".category-question")).to_have_text(
        "Merge “Fun & games” into “Dining out”: 2 transactions move to it."
    )
    panel.get_by_role("button", name="Confirm").click()
    expect(listed.filter(has_text="Dining out")).to_have_attribute("data-count", "3")
    expect(listed.filter(has_text="Fun & games")).to_have_count(0)
    merged = editing.shown_metrics(stack, "kit")
    assert [(c["category"], c["total"]) for c in merged["top_categories"]] == [
        ("Dining out", 95.5),
        ("Transport", 3.2),
    ]
    editing.expect_figures(page, merged)
    expect(panel.locator(".category-chosen select option", has_text="Fun & games")).to_have_count(0)
