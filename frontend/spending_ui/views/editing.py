"""The correcting views: the edit form of one transaction, the bulk bar of the ticked rows,
the new-transaction form, the review queue and the rules. Their state is EditState; the data
they show is the store's, refreshed for every view at once after each change."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.editing import DIRECTIONS, EditState
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text, plain, select_options
from spending_ui.theme import CSS, money
from spending_ui.views.import_dialog import account_options
from spending_ui.views.table import amount_html, when_text

WIDE = {"sizing_mode": "stretch_width"}


def uncategorized_html(metrics) -> str:
    """ "X% of this period's spending is uncategorized" (from /metrics)."""
    share = None if metrics is None else metrics.uncategorized_share
    if share is None:
        return ""
    return (
        f"<div class='uncategorized-share' data-share='{share}'>"
        f"<b>{share * 100:.1f}%</b> of this period's spending is uncategorized.</div>"
    )


def bulk_html(state: EditState) -> str:
    count = len(state.selected)
    text = f"<b>{count}</b> transaction{'s' if count != 1 else ''} selected."
    check = state.bulk_check
    if check is not None:
        text += (
            f" <span class='bulk-check' data-matched='{check.matched}' "
            f"data-total='{check.total:.2f}'>Moving them to "
            f"{html_text(state.bulk_category, LABEL_CHARS)} changes {check.matched} "
            f"transaction{'s' if check.matched != 1 else ''}, total {money(check.total)}."
            "</span>"
        )
    return text


def rule_preview_html(preview) -> str:
    if preview is None:
        return ""
    rows = "".join(
        f"<tr><td class='when'>{when_text(t.timestamp)}</td>"
        f"<td>{html_text(t.description, DESCRIPTION_CHARS)}</td>"
        f"<td>{html_text(t.category, LABEL_CHARS)} → {html_text(t.new_category, LABEL_CHARS)}</td>"
        f"<td class='amount'>{amount_html(t.amount)}</td></tr>"
        for t in preview.transactions[:10]
    )
    return (
        f"<div class='rule-preview' data-count='{preview.count}' data-total='{preview.total:.2f}'>"
        f"Changes <b>{preview.count}</b> transaction{'s' if preview.count != 1 else ''}, "
        f"total {money(preview.total)}."
        f"<table class='review-table'><tbody>{rows}</tbody></table></div>"
    )


def rule_text(rule) -> str:
    """A rule in words: its conditions and what it sets."""
    parts = []
    for condition in rule.conditions:
        if condition.get("type") == "text":
            operator = str(condition.get("operator", "contains")).replace("_", " ")
            parts.append(
                f"{plain(condition.get('field', 'description'))} {plain(operator)} "
                f"“{plain(condition.get('value'), DESCRIPTION_CHARS)}”"
            )
        else:
            parts.append(plain(condition.get("type")))
    actions = rule.actions
    sets = []
    if actions.get("set_category"):
        sets.append(f"category {plain(actions['set_category'], LABEL_CHARS)}")
    if actions.get("set_description"):
        sets.append(f"description “{plain(actions['set_description'], DESCRIPTION_CHARS)}”")
    if actions.get("mark_transfer"):
        sets.append("a transfer")
    return f"When {' and '.join(parts)}: set {', '.join(sets) or 'nothing'}"


def _wrapping(*objects, **options) -> pn.FlexBox:
    """A row of widgets that wraps on a narrow screen instead of widening the page."""
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="end", **WIDE, **options)


def _button(label: str, css: str, callback, **options) -> pn.widgets.Button:
    button = pn.widgets.Button(name=label, css_classes=[css], **options)
    button.on_click(callback)
    return button


class _CategoryPickers:
    """Keeps every category Select of a view in step with the user's categories."""

    def _pickers_follow(
        self, state: EditState, *selects: pn.widgets.Select, blank: str | None = None
    ) -> None:
        def update(*_):
            options = select_options(state.store.categories)
            if blank is not None:
                options = {blank: "", **options}
            for select in selects:
                select.options = options

        state.store.param.watch(update, "categories")
        update()


class EditPanel(Viewer, _CategoryPickers):
    """One transaction's category, description and notes (the table's Edit button)."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._title = pn.pane.HTML("", **WIDE)
        self._category = pn.widgets.Select.from_param(
            state.param.edit_category, name="Category", css_classes=["edit-category"], **WIDE
        )
        self._description = pn.widgets.TextInput.from_param(
            state.param.edit_description, name="Description", css_classes=["edit-description"]
        )
        self._notes = pn.widgets.TextAreaInput.from_param(
            state.param.edit_notes, name="Notes", css_classes=["edit-notes"], height=70
        )
        self._pickers_follow(state, self._category)
        buttons = _wrapping(
            _button("Save", "edit-save", self._save, button_type="primary"),
            _button("Cancel", "edit-cancel", lambda _: state.cancel_edit()),
            _button("Delete", "edit-delete", self._delete, button_type="danger"),
        )
        self._card = pn.Card(
            self._title,
            _wrapping(self._category, self._description),
            self._notes,
            buttons,
            title="Edit transaction",
            collapsible=False,
            visible=False,
            css_classes=["edit-transaction"],
            margin=8,
            **WIDE,
        )
        state.param.watch(self._shown, "editing")

    def _shown(self, event) -> None:
        item = event.new
        with pn.io.hold():
            if item is not None:
                self._title.object = (
                    f"<div data-id='{item.id}'>{when_text(item.timestamp)} · "
                    f"{amount_html(item.amount)}</div>"
                )
            self._card.visible = item is not None

    async def _save(self, _) -> None:
        await self.state.save_edit()

    async def _delete(self, _) -> None:
        await self.state.delete_edited()

    def __panel__(self):
        return self._card


class BulkBar(Viewer, _CategoryPickers):
    """The ticked rows: a category, the dry run's count and total, then the change."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._text = pn.pane.HTML(
            bulk_html(state), css_classes=["bulk-text"], stylesheets=[CSS], **WIDE
        )
        self._category = pn.widgets.Select.from_param(
            state.param.bulk_category, name="Move to", css_classes=["bulk-category"], width=220
        )
        self._pickers_follow(state, self._category)
        self._check = _button("Check", "bulk-check-button", self._checked)
        self._confirm = _button(
            "Recategorize", "bulk-confirm", self._confirmed, button_type="primary", disabled=True
        )
        self._row = _wrapping(
            self._text,
            self._category,
            self._check,
            self._confirm,
            _button("Clear selection", "bulk-clear", lambda _: state.clear_selection()),
            visible=False,
            css_classes=["bulk-bar"],
        )
        state.param.watch(self._update, ["selected", "bulk_check", "bulk_category", "busy"])
        self._update()

    def _update(self, *_) -> None:
        state = self.state
        with pn.io.hold():
            self._text.object = bulk_html(state)
            self._confirm.disabled = state.bulk_check is None or state.busy
            self._row.visible = bool(state.selected)

    async def _checked(self, _) -> None:
        if not self.state.bulk_category and self._category.options:
            self.state.bulk_category = next(iter(self._category.options.values()))
        await self.state.check_bulk()

    async def _confirmed(self, _) -> None:
        await self.state.confirm_bulk()

    def __panel__(self):
        return self._row


class AddTransactionForm(Viewer, _CategoryPickers):
    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._open = _button("Add a transaction…", "add-open", lambda _: state.open_add())
        self._account = pn.widgets.Select.from_param(
            state.param.new_account_id, name="Account", css_classes=["add-account"]
        )
        self._category = pn.widgets.Select.from_param(
            state.param.new_category, name="Category", css_classes=["add-category"]
        )
        self._pickers_follow(state, self._category, blank="Uncategorized (default)")
        state.store.param.watch(self._accounts, "accounts")
        self._accounts()
        self._form = pn.Column(
            _wrapping(
                self._account,
                pn.widgets.DatePicker.from_param(
                    state.param.new_date, name="Date", css_classes=["add-date"]
                ),
                pn.widgets.TextInput.from_param(
                    state.param.new_time, name="Time", placeholder="14:30", width=90
                ),
            ),
            _wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.new_amount, name="Amount", css_classes=["add-amount"], width=120
                ),
                pn.widgets.Select.from_param(
                    state.param.new_direction, options={v: k for k, v in DIRECTIONS.items()}
                ),
                self._category,
            ),
            pn.widgets.TextInput.from_param(
                state.param.new_description, name="Description", css_classes=["add-description"]
            ),
            pn.widgets.TextAreaInput.from_param(state.param.new_notes, name="Notes", height=60),
            _wrapping(
                _button("Add", "add-confirm", self._add, button_type="primary"),
                _button("Cancel", "add-cancel", lambda _: setattr(state, "adding", False)),
            ),
            visible=state.param.adding,
            css_classes=["add-transaction"],
            **WIDE,
        )

    def _accounts(self, *_) -> None:
        self._account.options = account_options(self.state.store.accounts)

    async def _add(self, _) -> None:
        await self.state.add_transaction()

    def __panel__(self):
        return pn.Column(self._open, self._form, **WIDE)


def review_html(page) -> str:
    """The review queue's rows: each with its suggestion, a one-click Accept, and Choose…
    (the edit form's category picker). The buttons report through PageBridge."""
    if page is None:
        return "<div class='muted'>Loading…</div>"
    if not page.items:
        return "<div class='muted review-empty'>Nothing to review for these filters.</div>"
    rows = []
    for item in page.items:
        suggestion = item.suggestion
        if suggestion is not None:
            sure = "" if suggestion.confidence is None else f" ({suggestion.confidence:.0%})"
            said = f"Suggested: <b>{html_text(suggestion.category, LABEL_CHARS)}</b>{sure}"
            accept = (
                f"<button type='button' class='review-accept' data-row-action='accept' "
                f"data-id='{item.id}'>Accept</button>"
            )
        else:
            said, accept = "<span class='muted'>No suggestion</span>", ""
        rows.append(
            f"<tr class='review-item' data-id='{item.id}'>"
            f"<td class='when'>{when_text(item.timestamp)}</td>"
            f"<td>{html_text(item.description, DESCRIPTION_CHARS)}</td>"
            f"<td class='amount'>{amount_html(item.amount)}</td>"
            f"<td class='review-suggestion'>{said}</td>"
            f"<td class='row-actions'>{accept}<button type='button' class='row-edit' "
            f"data-row-action='edit' data-id='{item.id}'>Choose…</button></td></tr>"
        )
    more = page.total - len(page.items)
    tail = f"<div class='muted'>and {more:,} more.</div>" if more > 0 else ""
    return (
        f"<table class='review-table' data-total='{page.total}'><tbody>{''.join(rows)}</tbody>"
        f"</table>{tail}"
    )


class ReviewQueue(Viewer):
    """The largest rows nobody categorized (or the system is unsure of)."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        self._share = pn.pane.HTML("", css_classes=["review-share"], **WIDE)
        self._rows = pn.pane.HTML(
            review_html(None), stylesheets=[CSS], css_classes=["review-rows"], **WIDE
        )
        self.state.store.param.watch(self._update, ["review", "metrics"])
        self._update()

    def _update(self, *_) -> None:
        store = self.state.store
        with pn.io.hold():
            self._share.object = uncategorized_html(store.metrics)
            self._rows.object = review_html(store.review)

    def __panel__(self):
        return pn.Column(self._share, self._rows, **WIDE)


def rules_html(rules) -> str:
    if not rules:
        return "<div class='muted'>No rules yet.</div>"
    items = "".join(
        f"<li class='rule' data-id='{rule.id}'><b>{html_text(rule.name, LABEL_CHARS)}</b> · "
        f"{html_text(rule_text(rule))} <button type='button' class='rule-delete' "
        f"data-row-action='delete-rule' data-id='{rule.id}'>Delete</button></li>"
        for rule in rules
    )
    return f"<ol class='rules-list'>{items}</ol>"


def proposals_html(proposals) -> str:
    """The rules offered from repeated corrections, each with what it would change."""
    if not proposals:
        return ""
    items = "".join(
        f"<div class='rule-proposal' data-index='{index}'><b>Offered:</b> "
        f"{html_text(rule_text(proposal.rule))}{rule_preview_html(proposal.preview)}"
        f"<button type='button' class='proposal-accept' data-row-action='proposal' "
        f"data-id='{index}'>Create this rule</button></div>"
        for index, proposal in enumerate(proposals)
    )
    return f"<div class='rule-proposals'><b>Rules you could add</b>{items}</div>"


class RulesPanel(Viewer, _CategoryPickers):
    """The user's rules, a new one (previewed before it is saved) and the rules offered from
    repeated corrections (each with its preview; nothing is saved without a click)."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._list = pn.pane.HTML("", stylesheets=[CSS], **WIDE)
        self._proposals = pn.pane.HTML("", stylesheets=[CSS], **WIDE)
        self._category = pn.widgets.Select.from_param(
            state.param.rule_category, name="Set category", css_classes=["rule-category"]
        )
        self._pickers_follow(state, self._category)
        self._preview = pn.pane.HTML("", stylesheets=[CSS], **WIDE)
        self._save = _button("Save rule", "rule-save", self._saved, button_type="primary")
        self._form = pn.Column(
            _wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.rule_text,
                    name="Description contains",
                    css_classes=["rule-text"],
                ),
                self._category,
                pn.widgets.TextInput.from_param(
                    state.param.rule_name, name="Name (optional)", css_classes=["rule-name"]
                ),
            ),
            _wrapping(_button("Preview", "rule-preview-button", self._previewed), self._save),
            self._preview,
            css_classes=["rule-form"],
            **WIDE,
        )
        state.store.param.watch(self._update, ["rules", "proposals"])
        state.param.watch(self._preview_shown, ["rule_preview", "busy"])
        self._update()
        self._preview_shown()

    def _update(self, *_) -> None:
        store = self.state.store
        with pn.io.hold():
            self._list.object = rules_html(store.rules)
            self._proposals.object = proposals_html(store.proposals)

    def _preview_shown(self, *_) -> None:
        state = self.state
        with pn.io.hold():
            self._preview.object = rule_preview_html(state.rule_preview)
            self._save.disabled = state.previewed_rule is None or state.busy

    async def _previewed(self, _) -> None:
        if not self.state.rule_category and self._category.options:
            self.state.rule_category = next(iter(self._category.options.values()))
        await self.state.preview_rule()

    async def _saved(self, _) -> None:
        await self.state.save_rule()

    def __panel__(self):
        return pn.Column(
            self._list,
            pn.pane.HTML("<b>New rule</b>"),
            self._form,
            self._proposals,
            **WIDE,
        )


class Message(Viewer):
    state = param.ClassSelector(class_=EditState)

    def __panel__(self):
        return pn.pane.HTML(
            pn.bind(
                lambda text: f"<div class='edit-message' role='status'>{html_text(text)}</div>",
                self.state.param.message,
            ),
            visible=self.state.param.message.rx.bool(),
            **WIDE,
        )
