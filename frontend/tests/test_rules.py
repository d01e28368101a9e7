"""The rules from the dashboard (#14), state against the real API (in this process, on
PostgreSQL): the form's every condition and action, its preview before saving (checked
against the seeded rows), saving and running, order, enable, edit, delete, the offered
rules, and the API's refusals shown as escaped text."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import pytest

from spending_ui.api import Rule
from spending_ui.rules import RulesState
from spending_ui.views.rules import message_html, rule_preview_html, rule_text, rules_html

pytestmark = [pytest.mark.postgres]

ROWS = [
    (1, Decimal("12.40"), "Uncategorized", "CITY TAXI 0042"),
    (2, Decimal("18.60"), "Uncategorized", "City Taxi 0042"),
    (3, Decimal("64.00"), "Uncategorized", "CITY TAXI airport"),
    (4, Decimal("-20.00"), "Uncategorized", "City Taxi refund"),
    (5, Decimal("9.99"), "Uncategorized", "Night Bus <b>x</b>"),
    (6, Decimal("31.25"), "Groceries", "Tesco Metro"),
]


def run(coro):
    return asyncio.run(coro)


def rules_for(live_store, rows=ROWS) -> RulesState:
    store = live_store(rows)
    run(store.refresh(with_rules=True))
    return RulesState(store=store)


def stored(state: RulesState) -> dict[str, str]:
    """Description -> category, as the API now has them."""
    page = run(state.store.api.transactions([], limit=100))
    return {t.description: t.category for t in page.items}


def test_a_rule_with_a_regex_and_an_amount_range_previews_exactly_its_rows(live_store):
    rules = rules_for(live_store)
    rules.param.update(
        text_field="description",
        text_operator="regex",
        text_value=r"^city\s+taxi\b",
        amount_min="10",
        amount_max="50",
        direction="out",
        set_category="Transport",
        rule_name="Taxis",
    )
    assert run(rules.preview_rule())
    # Independently: the taxis (any case) of 10..50 going out, i.e. not the 64.00 ride nor
    # the refund.
    expected = {
        description: amount
        for _, amount, _, description in ROWS
        if re.match(r"^city\s+taxi\b", description, re.I) and Decimal(10) <= amount <= 50
    }
    preview = rules.preview
    assert preview.count == len(expected) == 2
    assert preview.total == sum(expected.values())
    assert {t.description for t in preview.transactions} == set(expected)
    assert {t.new_category for t in preview.transactions} == {"Transport"}
    assert run(rules.store.api.rules()) == []  # a preview saves nothing
    html = rule_preview_html(preview)
    assert "data-count='2'" in html and f"data-total='{preview.total:.2f}'" in html

    assert run(rules.save())
    [saved] = rules.store.rules
    assert saved.name == "Taxis" and saved.actions == {
        "set_category": "Transport",
        "set_description": None,
        "mark_transfer": False,
    }
    assert saved.conditions == [
        {"type": "text", "field": "description", "operator": "regex", "value": r"^city\s+taxi\b"},
        {"type": "amount", "minimum": "10", "maximum": "50", "direction": "out"},
    ]
    categories = stored(rules)
    assert {d for d, c in categories.items() if c == "Transport"} == set(expected)
    assert "2 transactions changed" in rules.message
    assert rules.text_value == "" and rules.previewed is None  # the form is clear again


def test_a_changed_form_needs_a_new_preview_and_a_blank_form_says_what_is_missing(live_store):
    rules = rules_for(live_store)
    assert not run(rules.preview_rule())
    assert rules.message.startswith("Give the rule a condition")
    rules.text_value = "bus"
    assert not run(rules.preview_rule())
    assert rules.message.startswith("Choose what the rule does")
    rules.set_description = "Night bus"
    assert run(rules.preview_rule()) and rules.preview.count == 1
    assert rules.preview.transactions[0].new_description == "Night bus"
    rules.amount_min = "abc"  # the form changed: its preview is gone, and the amount is bad
    assert rules.preview is None and not run(rules.save())
    assert rules.message == "Preview the rule first."
    assert not run(rules.preview_rule()) and "is not an amount" in rules.message


def test_an_invalid_regex_is_the_apis_sentence_shown_escaped(live_store):
    rules = rules_for(live_store)
    rules.param.update(text_operator="regex", text_value="(<b>", set_category="Transport")
    assert not run(rules.preview_rule())
    assert rules.message.startswith("The regular expression is not valid")
    assert rules.preview is None and run(rules.store.api.rules()) == []
    assert message_html(rules.message).startswith("<div class='rules-message' role='status'>")
    # Whatever the API's sentence quotes is text, never markup.
    assert message_html("bad (<b>)") == (
        "<div class='rules-message' role='status'><bdi>bad (&lt;b&gt;)</bdi></div>"
    )


def test_a_rule_in_words_and_its_list_escape_every_user_string():
    rule = Rule(
        id=1,
        name="<b>n</b>",
        conditions=[
            {"type": "text", "field": "description", "operator": "starts_with", "value": "AMZN"},
            {"type": "amount", "minimum": "5", "maximum": None, "direction": None},
            {"type": "category", "categories": ["<i>c</i>"]},
        ],
        actions={"set_category": "Shopping", "set_description": "Amazon", "mark_transfer": False},
    )
    assert rule_text(rule) == (
        "When description starts with “AMZN” and amount at least 5 and category is <i>c</i>: "
        "set category Shopping, description “Amazon”"
    )
    html = rules_html([rule, Rule(2, "x", [{"type": "text", "value": "a"}], {}, enabled=False)])
    assert "<b>n</b>" not in html and "&lt;b&gt;n&lt;/b&gt;" in html and "<i>" not in html
    # The first cannot move up, the last not down; a disabled rule says so and offers Enable.
    assert "data-row-action='rule-up' data-id='1' disabled" in html
    assert "data-row-action='rule-down' data-id='2' disabled" in html
    assert "(disabled)" in html and ">Enable<" in html


def test_an_edited_rule_keeps_the_conditions_the_form_has_no_place_for():
    from spending_ui.api import ApiClient
    from spending_ui.state import AuthState
    from spending_ui.store import DashboardStore

    rules = RulesState(store=DashboardStore(AuthState(ApiClient("http://api.test"))))
    conditions = [
        {"type": "account", "account_ids": [4]},
        {"type": "text", "field": "payee", "operator": "equals", "value": "a"},
        {"type": "text", "field": "description", "operator": "contains", "value": "b"},
        {"type": "amount", "minimum": "1.50", "maximum": None, "direction": "in"},
    ]
    rules.load(Rule(5, "r", conditions, {"mark_transfer": True}), editing_id=5)
    assert (rules.text_field, rules.text_operator, rules.text_value) == ("payee", "equals", "a")
    assert (rules.amount_min, rules.amount_max, rules.direction) == ("1.50", "", "in")
    assert rules.account_ids == [4] and rules.kept_conditions == [conditions[2]]
    rule = rules.form_rule()
    assert rule.id == 5 and rule.actions == {"mark_transfer": True}
    assert sorted(map(str, rule.conditions)) == sorted(
        map(str, [*conditions[:3], {"type": "amount", "minimum": "1.50", "direction": "in"}])
    )


def test_money_in_and_account_and_category_conditions_and_the_transfer_action(live_store):
    rules = rules_for(live_store)
    [account] = run(rules.store.api.accounts())
    rules.param.update(
        text_field="description",
        text_operator="starts_with",
        text_value="city taxi",
        direction="in",
        account_ids=[account.id],
        current_categories=["Uncategorized"],
        mark_transfer=True,
    )
    assert run(rules.preview_rule())
    assert [t.description for t in rules.preview.transactions] == ["City Taxi refund"]
    assert rules.preview.total == Decimal("-20.00")
    rule = rules.previewed
    assert rule_text(rule, {account.id: "Main"}.get) == (
        "When description starts with “city taxi” and money in and account is Main and "
        "category is Uncategorized: mark as a transfer"
    )


def test_rules_are_reordered_enabled_edited_and_deleted_through_the_api(live_store):
    rules = rules_for(live_store)
    api = rules.store.api
    for name, text in (("First", "taxi"), ("Second", "bus"), ("Third", "tesco")):
        run(
            api.create_rule(
                Rule(
                    id=None,
                    name=name,
                    conditions=[{"type": "text", "value": text}],
                    actions={"set_category": "Transport"},
                )
            )
        )
    run(rules.store.changed())

    def order() -> list[str]:
        return [rule.name for rule in run(api.rules())]

    assert [r.name for r in rules.store.rules] == order() == ["First", "Second", "Third"]
    first, second, third = (r.id for r in rules.store.rules)
    run(rules.act("rule-up", third))
    assert order() == ["First", "Third", "Second"] == [r.name for r in rules.store.rules]
    run(rules.act("rule-up", third))
    assert order() == ["Third", "First", "Second"]
    assert not run(rules.move(third, -1))  # already first: nothing sent
    run(rules.act("rule-down", first))
    assert order() == ["Third", "Second", "First"]
    html = rules_html(rules.store.rules)
    assert html.index("Third") < html.index("Second") < html.index("First")

    run(rules.act("rule-toggle", second))
    assert [r.enabled for r in run(api.rules())] == [True, False, True]
    assert "(disabled)" in rules_html(rules.store.rules)

    rules.edit(second)
    assert (rules.editing_id, rules.rule_name, rules.text_value) == (second, "Second", "bus")
    assert not rules.enabled
    rules.param.update(text_operator="equals", text_value="Night Bus <b>x</b>", enabled=True)
    assert run(rules.preview_rule()) and rules.preview.count == 1
    assert run(rules.save())
    edited = next(r for r in run(api.rules()) if r.id == second)
    assert edited.enabled and edited.conditions[0]["operator"] == "equals"
    assert order() == ["Third", "Second", "First"]  # an edit keeps its place
    assert rules.editing_id is None

    run(rules.act("rule-delete", third))
    assert order() == ["Second", "First"] and "deleted" in rules.message


def test_run_all_runs_the_enabled_rules_in_order_and_never_over_a_users_category(live_store):
    rules = rules_for(live_store)
    api = rules.store.api
    taxi = {"type": "text", "value": "taxi"}
    for name, category, enabled in (
        ("Taxis are travel", "Travel", True),
        ("Taxis are transport", "Transport", True),
        ("Off", "Shopping", False),
    ):
        conditions = [taxi] if name != "Off" else [{"type": "text", "value": "bus"}]
        rule = Rule(None, name, conditions, {"set_category": category}, enabled=enabled)
        run(api.create_rule(rule))
    page = run(api.transactions([], limit=100))
    by_text = {t.description: t for t in page.items}
    run(api.update_transaction(by_text["CITY TAXI airport"].id, category="Groceries"))
    run(rules.store.changed())
    assert run(rules.run())
    categories = stored(rules)
    # In order, each seeing the earlier ones' changes: the last that sets the category wins;
    # the user's own choice stays; "Off" is off.
    assert categories == {
        "CITY TAXI 0042": "Transport",
        "City Taxi 0042": "Transport",
        "CITY TAXI airport": "Groceries",
        "City Taxi refund": "Transport",
        "Night Bus <b>x</b>": "Uncategorized",
        "Tesco Metro": "Groceries",
    }
    assert "3 transactions changed" in rules.message


def test_an_offered_rule_is_previewed_and_saved_or_edited_first(live_store):
    rules = rules_for(live_store)
    api = rules.store.api
    page = run(api.transactions([], limit=100))
    taxis = [t for t in page.items if t.description in ("CITY TAXI 0042", "City Taxi 0042")]
    for taxi in taxis:  # the same merchant corrected twice
        run(api.update_transaction(taxi.id, category="Transport"))
    run(rules.store.changed())
    [offered] = rules.store.proposals
    assert offered.rule.actions["set_category"] == "Transport"
    assert offered.rule.conditions[0]["field"] == "merchant"
    assert run(api.rules()) == []  # offering saves nothing

    rules.edit_proposal(0)
    assert rules.editing_id is None and rules.text_field == "merchant"
    assert rules.set_category == "Transport"
    assert run(rules.preview_rule())
    assert rules.preview.count == offered.preview.count

    assert not run(rules.accept_proposal(5))  # no such offer (the list changed): nothing sent
    assert run(api.rules()) == []
    run(rules.act("proposal", 0))
    [saved] = run(api.rules())
    assert saved.conditions[0]["field"] == "merchant" and rules.store.proposals == []
