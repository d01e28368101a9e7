"""The parts made on demand (views/on_demand.py): a folded card's body is not made until it is
unfolded, a form not until it is opened; once made, its widgets are bound to the state both
ways, as they were when everything was made at login."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import panel as pn
import param
import pytest

from spending_ui.api import ApiClient
from spending_ui.editing import EditState
from spending_ui.rules import RulesState
from spending_ui.state import AuthState
from spending_ui.views.dashboard import DashboardView
from spending_ui.views.on_demand import built_when, card_built_on_expand
from spending_ui.views.password import PasswordView


def run(coro):
    return asyncio.run(coro)


def parts(layout, css: str) -> list:
    """Every object inside `layout` with this CSS class."""
    return [obj for obj in layout.select() if css in (getattr(obj, "css_classes", None) or [])]


class Flags(param.Parameterized):
    open = param.Boolean(default=False)
    chosen = param.List(default=[])


def test_a_folded_cards_body_is_made_when_it_is_first_unfolded_and_only_then():
    made = []

    def build():
        made.append(pn.widgets.TextInput(label="body"))
        return made[-1]

    card = card_built_on_expand("Later", build, css_classes=["later"], margin=8)
    assert card.collapsed and card.collapsible and card.objects == [] and made == []
    assert (card.title, card.css_classes, card.margin) == ("Later", ["later"], 8)
    card.collapsed = False
    assert card.objects == made and len(made) == 1
    card.collapsed = True
    card.collapsed = False
    assert card.objects == made and len(made) == 1  # made once, then kept


@pytest.mark.parametrize("use_rx", [False, True])
def test_a_part_is_made_the_first_time_its_condition_holds(use_rx):
    flags = Flags()
    made = []
    shown = flags.param.chosen.rx.bool() if use_rx else flags.param.open
    holder = built_when(shown, lambda: made.append(pn.pane.HTML("x")) or made[-1])
    assert holder.objects == [] and made == []
    if use_rx:
        flags.chosen = [1]
        flags.chosen = [1, 2]
        flags.chosen = []
    else:
        flags.open = True
        flags.open = False
        flags.open = True
    assert holder.objects == made and len(made) == 1


def test_a_part_whose_condition_already_holds_is_made_at_once():
    holder = built_when(Flags(open=True).param.open, lambda: pn.pane.HTML("now"))
    assert [obj.object for obj in holder.objects] == ["now"]


ROWS = [
    (3, Decimal("40.00"), "Groceries", "Grocer Mart"),
    (2, Decimal("95.50"), "Uncategorized", "Pizza Place"),
    (1, Decimal("3.20"), "Transport", "Bus ticket"),
]


@pytest.mark.postgres
def test_the_dashboard_makes_its_hidden_parts_when_first_opened(live_store):
    store = live_store(ROWS)
    run(store.refresh(with_rules=True))
    run(store.load_accounts())
    editor, rules = EditState(store=store), RulesState(store=store)
    view = DashboardView(store=store, editor=editor, rules=rules)
    page = view.__panel__()
    later = (
        "rule-text",
        "category-new-name",
        "edit-transaction",
        "bulk-bar",
        "add-transaction",
        "add-amount",
    )
    assert {css: parts(page, css) for css in later} == {css: [] for css in later}
    assert parts(page, "add-open")  # the button that opens the form is there from the start

    # The rules card: unfolded, its form edits the rules' state and shows its changes.
    view._rules.collapsed = False
    [rule_text] = parts(page, "rule-text")
    rule_text.value = "pizza"
    assert rules.text_value == "pizza"
    rules.text_value = "bus"
    assert rule_text.value == "bus"
    [rule_category] = parts(page, "rule-category")
    assert {"Groceries", "Transport"} <= set(rule_category.options.values())

    # The categories card: the list of the user's categories, and the new-category form.
    view._categories.collapsed = False
    [listing] = parts(page, "categories-list")
    html = listing.object() if callable(listing.object) else listing.object
    assert "Groceries" in html and "Transport" in html and "Grocer Mart" not in html
    [new_name] = parts(page, "category-new-name")
    new_name.value = "Tea"
    assert view._category_state.new_name == "Tea"

    # The edit form: made by the first edit, showing that transaction, bound both ways.
    pizza = next(t for t in store.page.items if t.description == "Pizza Place")
    editor.start_edit(pizza.id)
    [card] = parts(page, "edit-transaction")
    assert card.visible and f"data-id='{pizza.id}'" in card.objects[0].object
    [category] = parts(card, "edit-category")
    assert category.value == "Uncategorized" and "Groceries" in category.options.values()
    category.value = "Groceries"
    [notes] = parts(card, "edit-notes")
    notes.value = "with friends"
    assert (editor.edit_category, editor.edit_notes) == ("Groceries", "with friends")
    editor.cancel_edit()
    assert not card.visible and parts(page, "edit-transaction") == [card]  # kept, hidden

    # The bulk bar: made by the first ticked row, counting the ticked rows.
    editor.set_page_selection(checked=[pizza.id], shown=[t.id for t in store.page.items])
    [bar] = parts(page, "bulk-bar")
    assert bar.visible and "<b>1</b> transaction selected" in parts(bar, "bulk-text")[0].object
    editor.clear_selection()
    assert not bar.visible

    # The new-transaction form: made when first opened, with the user's accounts.
    editor.open_add()
    [form] = parts(page, "add-transaction")
    assert form.visible
    [account] = parts(form, "add-account")
    assert list(account.options.values()) == [a.id for a in store.accounts]
    assert account.value == store.accounts[0].id == editor.new_account_id
    [amount] = parts(form, "add-amount")
    amount.value = "12.50"
    assert editor.new_amount == "12.50"
    editor.adding = False
    assert not form.visible


def test_the_change_password_card_gets_its_form_when_first_unfolded():
    view = PasswordView(auth=AuthState(ApiClient("http://api.test")))
    card = view.__panel__()
    assert card.collapsed and card.objects == [] and "password-card" in card.css_classes
    card.collapsed = False
    boxes = card.select(pn.widgets.PasswordInput)
    assert [box.label for box in boxes] == [
        "Current password",
        "New password",
        "Repeat the new password",
    ]
    boxes[1].value, boxes[2].value = "new password 1", "new password 2"
    run(view._change())
    assert "Enter your current password" in parts(card, "password-message")[0].object
