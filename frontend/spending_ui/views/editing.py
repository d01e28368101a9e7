"""The correcting views: the edit form of one transaction, the bulk bar of the ticked rows,
the new-transaction form and the review queue (the rules are views/rules.py). Their state is
EditState; the data they show is the store's, refreshed for every view at once after each
change."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.editing import DIRECTIONS, EditState
from spending_ui.store import REVIEW_SIZE
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text, select_options
from spending_ui.theme import money
from spending_ui.views.import_dialog import account_options
from spending_ui.views.on_demand import built_when
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


def wrapping(*objects, **options) -> pn.FlexBox:
    """A row of widgets that wraps on a narrow screen instead of widening the page."""
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="end", **WIDE, **options)


def button(label: str, css: str, callback, **options) -> pn.widgets.Button:
    button = pn.widgets.Button(label=label, css_classes=[css], **options)
    button.on_click(callback)
    return button


class CategoryPickers:
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


class EditPanel(Viewer, CategoryPickers):
    """One transaction's category, description and notes (the table's Edit button); made
    when the first one is edited."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        self._view = built_when(self.state.param.editing.rx.is_not(None), self._build)

    def _build(self) -> pn.Card:
        state = self.state
        self._title = pn.pane.HTML("", **WIDE)
        self._category = pn.widgets.Select.from_param(
            state.param.edit_category, label="Category", css_classes=["edit-category"], **WIDE
        )
        self._description = pn.widgets.TextInput.from_param(
            state.param.edit_description, label="Description", css_classes=["edit-description"]
        )
        self._notes = pn.widgets.TextAreaInput.from_param(
            state.param.edit_notes, label="Notes", css_classes=["edit-notes"], height=70
        )
        self._pickers_follow(state, self._category)
        buttons = wrapping(
            button("Save", "edit-save", self._save, color="primary"),
            button("Cancel", "edit-cancel", lambda _: state.cancel_edit()),
            button("Delete", "edit-delete", self._delete, color="danger"),
        )
        self._card = pn.Card(
            self._title,
            wrapping(self._category, self._description),
            self._notes,
            buttons,
            title="Edit transaction",
            collapsible=False,
            visible=False,
            css_classes=["edit-transaction"],
            margin=8,
            **WIDE,
        )
        state.param.watch(lambda event: self._show(event.new), "editing")
        self._show(state.editing)
        return self._card

    def _show(self, item) -> None:
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
        return self._view


class BulkBar(Viewer, CategoryPickers):
    """The ticked rows: a category, the dry run's count and total, then the change; made
    when the first row is ticked."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        self._view = built_when(self.state.param.selected.rx.bool(), self._build)

    def _build(self) -> pn.FlexBox:
        state = self.state
        self._text = pn.pane.HTML(bulk_html(state), css_classes=["bulk-text"], **WIDE)
        self._category = pn.widgets.Select.from_param(
            state.param.bulk_category, label="Move to", css_classes=["bulk-category"], width=220
        )
        self._pickers_follow(state, self._category)
        self._check = button("Check", "bulk-check-button", self._checked)
        self._confirm = button(
            "Recategorize", "bulk-confirm", self._confirmed, color="primary", disabled=True
        )
        self._row = wrapping(
            self._text,
            self._category,
            self._check,
            self._confirm,
            button("Clear selection", "bulk-clear", lambda _: state.clear_selection()),
            visible=False,
            css_classes=["bulk-bar"],
        )
        state.param.watch(self._update, ["selected", "bulk_check", "bulk_category", "busy"])
        self._update()
        return self._row

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
        return self._view


class AddTransactionForm(Viewer, CategoryPickers):
    """The "Add a transaction…" button, and its form, made when it is first opened."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._open = button("Add a transaction…", "add-open", lambda _: state.open_add())
        self._form = built_when(state.param.adding, self._build)

    def _build(self) -> pn.Column:
        state = self.state
        self._account = pn.widgets.Select.from_param(
            state.param.new_account_id, label="Account", css_classes=["add-account"]
        )
        self._category = pn.widgets.Select.from_param(
            state.param.new_category, label="Category", css_classes=["add-category"]
        )
        self._pickers_follow(state, self._category, blank="Uncategorized (default)")
        state.store.param.watch(self._accounts, "accounts")
        self._accounts()
        return pn.Column(
            wrapping(
                self._account,
                pn.widgets.DatePicker.from_param(
                    state.param.new_date, label="Date", css_classes=["add-date"]
                ),
                pn.widgets.TextInput.from_param(
                    state.param.new_time, label="Time", placeholder="14:30", width=90
                ),
            ),
            wrapping(
                pn.widgets.TextInput.from_param(
                    state.param.new_amount, label="Amount", css_classes=["add-amount"], width=120
                ),
                pn.widgets.Select.from_param(
                    state.param.new_direction, options={v: k for k, v in DIRECTIONS.items()}
                ),
                self._category,
            ),
            pn.widgets.TextInput.from_param(
                state.param.new_description, label="Description", css_classes=["add-description"]
            ),
            pn.widgets.TextAreaInput.from_param(state.param.new_notes, label="Notes", height=60),
            wrapping(
                button("Add", "add-confirm", self._add, color="primary"),
                button("Cancel", "add-cancel", lambda _: setattr(state, "adding", False)),
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
    return (
        f"<table class='review-table' data-total='{page.total}'><tbody>{''.join(rows)}</tbody>"
        "</table>"
    )


def review_pager_html(store) -> str:
    """Where the review queue's page is: "11–20 of 47 · page 2 of 5"."""
    page = store.review
    total = page.total if page else 0
    if not total:
        return ""
    first = store.review_index * REVIEW_SIZE + 1
    last = first + len(page.items) - 1
    return (
        f"<span class='review-pager-info' data-total='{total}' "
        f"data-page='{store.review_index + 1}' data-pages='{store.review_page_count}'>"
        f"{first:,}–{last:,} of {total:,} · page {store.review_index + 1} of "
        f"{store.review_page_count}</span>"
    )


class ReviewQueue(Viewer):
    """The rows nobody categorized (or the system is unsure of), the largest first, a page
    at a time."""

    state = param.ClassSelector(class_=EditState)

    def __init__(self, **params):
        super().__init__(**params)
        store = self.state.store
        self._share = pn.pane.HTML("", css_classes=["review-share"], **WIDE)
        self._rows = pn.pane.HTML(review_html(None), css_classes=["review-rows"], **WIDE)
        self._info = pn.pane.HTML("", css_classes=["review-pager"], margin=(12, 10))
        self._prev = button("‹ Previous", "review-prev", lambda _: store.review_step(-1))
        self._next = button("Next ›", "review-next", lambda _: store.review_step(1))
        self._pager = wrapping(self._info, self._prev, self._next)
        store.param.watch(self._update, ["review", "review_index", "metrics"])
        self._update()

    def _update(self, *_) -> None:
        store = self.state.store
        with pn.io.hold():
            self._share.object = uncategorized_html(store.metrics)
            self._rows.object = review_html(store.review)
            self._info.object = review_pager_html(store)
            self._prev.disabled = store.review_index == 0
            self._next.disabled = store.review_index + 1 >= store.review_page_count
            self._pager.visible = store.review_page_count > 1

    def __panel__(self):
        return pn.Column(self._share, self._pager, self._rows, **WIDE)


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
