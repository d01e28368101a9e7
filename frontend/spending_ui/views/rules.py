"""The rules card: the user's rules in order (each in words, with its buttons), the rule form
with every condition and action, its preview before saving, and the rules offered from
repeated corrections. Their state is RulesState; the buttons in the HTML report through
PageBridge (`data-row-action`)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.rules import RULE_DIRECTIONS, TEXT_FIELDS, TEXT_OPERATORS, RulesState
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, choice_options, html_text, plain
from spending_ui.theme import money
from spending_ui.views.editing import WIDE, CategoryPickers, button, wrapping
from spending_ui.views.import_dialog import account_options
from spending_ui.views.table import amount_html, when_text

PREVIEW_ROWS = 10  # rows of a preview shown (the count and total are of all of them)


def _amount_words(condition: dict) -> str:
    low, high = condition.get("minimum"), condition.get("maximum")
    parts = []
    if low is not None and high is not None:
        parts.append(f"amount {low} to {high}")
    elif low is not None:
        parts.append(f"amount at least {low}")
    elif high is not None:
        parts.append(f"amount at most {high}")
    direction = condition.get("direction")
    if direction:
        parts.append("money in" if direction == "in" else "money out")
    return ", ".join(parts)


def rule_text(rule, account_name: Callable[[int], str] | None = None) -> str:
    """A rule in words, as text (to be escaped where shown): its conditions and what it sets."""
    name_of = account_name or (lambda account_id: f"account {account_id}")
    parts = []
    for condition in rule.conditions:
        kind = condition.get("type")
        if kind == "text":
            field = plain(condition.get("field", "description"))
            operator = TEXT_OPERATORS.get(condition.get("operator"), "contains")
            value = plain(condition.get("value"), DESCRIPTION_CHARS)
            parts.append(f"{field} {operator} “{value}”")
        elif kind == "amount":
            parts.append(_amount_words(condition))
        elif kind == "account":
            names = [plain(name_of(int(i)), LABEL_CHARS) for i in condition.get("account_ids", [])]
            parts.append(f"account is {' or '.join(names)}")
        elif kind == "category":
            names = [plain(c, LABEL_CHARS) for c in condition.get("categories", [])]
            parts.append(f"category is {' or '.join(names)}")
        else:
            parts.append(plain(kind))
    actions = rule.actions
    sets = []
    if actions.get("set_category"):
        sets.append(f"category {plain(actions['set_category'], LABEL_CHARS)}")
    if actions.get("set_description"):
        sets.append(f"description “{plain(actions['set_description'], DESCRIPTION_CHARS)}”")
    does = [f"set {', '.join(sets)}"] if sets else []
    if actions.get("mark_transfer"):
        does.append("mark as a transfer")
    return f"When {' and '.join(parts)}: {' and '.join(does) or 'change nothing'}"


def _action(action: str, target: int, label: str, css: str, disabled: bool = False) -> str:
    off = " disabled" if disabled else ""
    return (
        f"<button type='button' class='{css}' data-row-action='{action}' "
        f"data-id='{target}'{off}>{label}</button>"
    )


def rules_html(rules, account_name: Callable[[int], str] | None = None) -> str:
    """The rules in the order they run, each with Up, Down, Edit, Enable/Disable, Run and
    Delete."""
    if not rules:
        return "<div class='muted rules-empty'>No rules yet.</div>"
    items = []
    last = len(rules) - 1
    for index, rule in enumerate(rules):
        off = "" if rule.enabled else " <span class='muted'>(disabled)</span>"
        buttons = "".join(
            [
                _action("rule-up", rule.id, "↑", "rule-up", disabled=index == 0),
                _action("rule-down", rule.id, "↓", "rule-down", disabled=index == last),
                _action("rule-edit", rule.id, "Edit", "rule-edit"),
                _action(
                    "rule-toggle", rule.id, "Disable" if rule.enabled else "Enable", "rule-toggle"
                ),
                _action("rule-run", rule.id, "Run", "rule-run"),
                _action("rule-delete", rule.id, "Delete", "rule-delete"),
            ]
        )
        items.append(
            f"<li class='rule' data-id='{rule.id}' data-enabled='{str(rule.enabled).lower()}'>"
            f"<b>{html_text(rule.name, LABEL_CHARS)}</b>{off} · "
            f"<span class='rule-words'>{html_text(rule_text(rule, account_name))}</span> "
            f"<span class='row-actions'>{buttons}</span></li>"
        )
    return f"<ol class='rules-list'>{''.join(items)}</ol>"


def rule_preview_html(preview) -> str:
    """What a rule would change: how many transactions, their total, and the first rows."""
    if preview is None:
        return ""
    rows = []
    for t in preview.transactions[:PREVIEW_ROWS]:
        description = html_text(t.description, DESCRIPTION_CHARS)
        if t.new_description is not None and t.new_description != t.description:
            description += f" → {html_text(t.new_description, DESCRIPTION_CHARS)}"
        rows.append(
            f"<tr class='rule-change' data-id='{t.id}'><td class='when'>{when_text(t.timestamp)}"
            f"</td><td>{description}</td><td>{html_text(t.category, LABEL_CHARS)} → "
            f"{html_text(t.new_category, LABEL_CHARS)}</td>"
            f"<td class='amount'>{amount_html(t.amount)}</td></tr>"
        )
    more = preview.count - len(rows)
    tail = f"<div class='muted'>and {more:,} more.</div>" if more > 0 else ""
    return (
        f"<div class='rule-preview' data-count='{preview.count}' data-total='{preview.total:.2f}'>"
        f"Changes <b>{preview.count}</b> transaction{'s' if preview.count != 1 else ''}, "
        f"total {money(preview.total)}."
        f"<table class='review-table'><tbody>{''.join(rows)}</tbody></table>{tail}</div>"
    )


def proposals_html(proposals) -> str:
    """The rules offered from repeated corrections, each with what it would change."""
    if not proposals:
        return ""
    items = "".join(
        f"<div class='rule-proposal' data-index='{index}'><b>Offered:</b> "
        f"{html_text(rule_text(proposal.rule))}{rule_preview_html(proposal.preview)}"
        f"{_action('proposal', index, 'Create this rule', 'proposal-accept')}"
        f"{_action('proposal-edit', index, 'Edit it first', 'proposal-edit')}</div>"
        for index, proposal in enumerate(proposals)
    )
    return f"<div class='rule-proposals'><b>Rules you could add</b>{items}</div>"


def message_html(text: str) -> str:
    """What the last change did, or the API's reason it was refused: as text."""
    return f"<div class='rules-message' role='status'>{html_text(text)}</div>"


class RuleForm(Viewer, CategoryPickers):
    """A rule's conditions (a blank one is left out; all given must hold) and actions."""

    state = param.ClassSelector(class_=RulesState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._title = pn.pane.HTML("", css_classes=["rule-form-title"], **WIDE)
        self._set_category = pn.widgets.Select.from_param(
            state.param.set_category, label="Set category", css_classes=["rule-category"]
        )
        self._pickers_follow(state, self._set_category, blank="(leave the category)")
        self._categories = pn.widgets.MultiChoice.from_param(
            state.param.current_categories,
            label="Current category is one of",
            css_classes=["rule-current-categories"],
            width=280,
        )
        self._accounts = pn.widgets.MultiChoice.from_param(
            state.param.account_ids,
            label="Account is one of",
            css_classes=["rule-accounts"],
            width=280,
        )
        store = state.store
        store.param.watch(self._options, ["categories", "accounts"])
        self._options()
        self._preview = pn.pane.HTML("", **WIDE)
        self._save = button("Save rule", "rule-save", self._saved, color="primary")
        self._cancel = button("Cancel editing", "rule-cancel", lambda _: state.clear_form())
        self._body = pn.Column(
            self._title,
            wrapping(
                pn.widgets.Select.from_param(
                    state.param.text_field,
                    label="Look at",
                    options={v: k for k, v in TEXT_FIELDS.items()},
                    css_classes=["rule-field"],
                    width=200,
                ),
                pn.widgets.Select.from_param(
                    state.param.text_operator,
                    label="How",
                    options={v: k for k, v in TEXT_OPERATORS.items()},
                    css_classes=["rule-operator"],
                    width=220,
                ),
                pn.widgets.TextInput.from_param(
                    state.param.text_value,
                    label="Text (any case)",
                    css_classes=["rule-text"],
                ),
            ),
            wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.amount_min,
                    label="Amount from",
                    css_classes=["rule-amount-min"],
                    width=120,
                ),
                pn.widgets.TextInput.from_param(
                    state.param.amount_max,
                    label="up to",
                    css_classes=["rule-amount-max"],
                    width=120,
                ),
                pn.widgets.Select.from_param(
                    state.param.direction,
                    label="Money",
                    options={v: k for k, v in RULE_DIRECTIONS.items()},
                    css_classes=["rule-direction"],
                    width=140,
                ),
                self._accounts,
                self._categories,
            ),
            wrapping(
                self._set_category,
                pn.widgets.TextInput.from_param(
                    state.param.set_description,
                    label="Set description (clean payee name)",
                    css_classes=["rule-set-description"],
                ),
                pn.widgets.Checkbox.from_param(
                    state.param.mark_transfer,
                    label="Mark as transfer",
                    css_classes=["rule-transfer"],
                ),
            ),
            wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.rule_name, label="Name (optional)", css_classes=["rule-name"]
                ),
                pn.widgets.Checkbox.from_param(
                    state.param.enabled, label="Enabled", css_classes=["rule-enabled"]
                ),
                pn.widgets.Checkbox.from_param(
                    state.param.apply_existing,
                    label="Also run it on existing transactions",
                    css_classes=["rule-apply-existing"],
                ),
            ),
            wrapping(
                button("Preview", "rule-preview-button", self._previewed),
                self._save,
                self._cancel,
            ),
            self._preview,
            css_classes=["rule-form"],
            **WIDE,
        )
        state.param.watch(self._shown, ["preview", "busy", "editing_id", "kept_conditions"])
        self._shown()

    def _options(self, *_) -> None:
        store = self.state.store
        with pn.io.hold():
            self._categories.options = choice_options(store.categories)
            accounts = account_options(store.accounts)
            # choices.js shows these labels as HTML: escaped.
            self._accounts.options = {escape(label): i for label, i in accounts.items()}

    def _shown(self, *_) -> None:
        state = self.state
        editing = state.saved_rule(state.editing_id) if state.editing_id is not None else None
        if editing is not None:
            title = f"<b>Edit rule</b> {html_text(editing.name, LABEL_CHARS)}"
        else:
            title = "<b>New rule</b> <span class='muted'>(every condition given must hold)</span>"
        if state.kept_conditions:
            count = len(state.kept_conditions)
            title += (
                f" <span class='muted rule-kept'>plus {count} more condition"
                f"{'s' if count != 1 else ''} the form does not show, kept as "
                f"{'they are' if count != 1 else 'it is'}</span>"
            )
        with pn.io.hold():
            self._title.object = title
            self._preview.object = rule_preview_html(state.preview)
            self._save.disabled = state.previewed is None or state.busy
            self._cancel.visible = state.editing_id is not None

    async def _previewed(self, _) -> None:
        await self.state.preview_rule()

    async def _saved(self, _) -> None:
        await self.state.save()

    def __panel__(self):
        return self._body


class RulesPanel(Viewer):
    """The user's rules, the form (previewed before it is saved) and the rules offered from
    repeated corrections (each with its preview; nothing is saved without a click)."""

    state = param.ClassSelector(class_=RulesState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._list = pn.pane.HTML("", css_classes=["rules-rows"], **WIDE)
        self._proposals = pn.pane.HTML("", **WIDE)
        self._run_all = button(
            "Run all enabled rules on existing transactions", "rules-run-all", self._run
        )
        self._message = pn.pane.HTML(
            pn.bind(message_html, state.param.message),
            visible=state.param.message.rx.bool(),
            **WIDE,
        )
        state.store.param.watch(self._update, ["rules", "proposals", "accounts"])
        self._update()

    def _update(self, *_) -> None:
        store = self.state.store
        with pn.io.hold():
            self._list.object = rules_html(store.rules, store.account_name)
            self._run_all.visible = bool(store.rules)
            self._proposals.object = proposals_html(store.proposals)

    async def _run(self, _) -> None:
        await self.state.run()

    def __panel__(self):
        return pn.Column(
            self._message,
            self._list,
            self._run_all,
            RuleForm(state=self.state),
            self._proposals,
            **WIDE,
        )
