"""The transactions table: one page at a time from /transactions, sorted and paged by the API."""

from __future__ import annotations

from datetime import time
from html import escape

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import TransactionPage
from spending_ui.editing import EditState
from spending_ui.store import SORT_COLUMNS, DashboardStore
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text, plain
from spending_ui.theme import money


def when_text(timestamp) -> str:
    """The day, and the time only when the bank gave one (imports without a time are 00:00)."""
    if timestamp.time() == time.min:
        return f"{timestamp:%d %b %Y}"
    return f"{timestamp:%d %b %Y} <span class='time'>{timestamp:%H:%M}</span>"


def amount_html(amount) -> str:
    """Spending as a plain amount; money in (a refund, a payment) says so."""
    if amount < 0:
        return f"<span class='money-in'>+{money(-amount)} in</span>"
    return money(amount)


def header_html(column: str, title: str, sort: str) -> str:
    """A sortable column's header: a button (PageBridge reports its clicks), the direction
    shown as ▼/▲ and as aria-sort when the table is ordered by that column."""
    arrow, state = ("", "none")
    if sort in SORT_COLUMNS[column]:
        arrow, state = (" ▼", "descending") if sort.startswith("-") else (" ▲", "ascending")
    css_class = {"date": "when"}.get(column, column)
    return (
        f"<th class='{css_class}' aria-sort='{state}'>"
        f"<button type='button' class='sort' data-sort-column='{column}'>{title}{arrow}</button>"
        "</th>"
    )


SOURCES = {
    "user": "You chose it",
    "rule": "Set by a rule",
    "bank": "From the bank's file",
    "learned": "Learned from your history",
    "default": "Nobody chose it yet",
}


def why_html(item) -> str:
    """ "Why this category?": who set it, and what the system would suggest."""
    source = item.category_source or "default"
    text = SOURCES.get(source, source)
    suggestion = item.suggestion
    if suggestion is not None:
        sure = "" if suggestion.confidence is None else f" ({suggestion.confidence:.0%} sure)"
        verb = "learned" if source == "learned" else "suggested"
        text += f"; {verb}: {plain(suggestion.category, LABEL_CHARS)}{sure}"
    return f"<span class='why' data-source='{escape(source, quote=True)}'>{html_text(text)}</span>"


def table_html(
    page: TransactionPage | None,
    colours: dict[str, str],
    sort: str = "",
    selected: frozenset[int] | set[int] = frozenset(),
) -> str:
    if page is None:
        return "<div class='muted'>Loading transactions…</div>"
    if not page.items:
        return "<div class='muted'>No transactions for these filters.</div>"
    rows = []
    for item in page.items:
        colour = colours.get(item.category, "#888")
        rows.append(
            f"<tr data-id='{item.id}'>"
            f"<td class='when'>{when_text(item.timestamp)}</td>"
            f"<td class='edits' data-row-action='edit' data-id='{item.id}'>"
            f"{html_text(item.description, DESCRIPTION_CHARS)}</td>"
            f"<td><span class='swatch' style='background:{colour}'></span>"
            f"{html_text(item.category, LABEL_CHARS)}</td>"
            f"<td class='amount' data-amount='{item.amount:.2f}'>{amount_html(item.amount)}</td>"
            f"<td class='why'>{why_html(item)}</td>"
            "<td class='row-actions'>"
            f"<input type='checkbox' class='row-select' data-row-action='select' "
            f"data-id='{item.id}' aria-label='Select'{' checked' if item.id in selected else ''}>"
            f"<button type='button' class='row-edit' data-row-action='edit' data-id='{item.id}'>"
            "Edit</button></td>"
            "</tr>"
        )
    return (
        f"<table class='tx' data-total='{page.total}' data-sort='{sort}'><thead><tr>"
        f"{header_html('date', 'Date', sort)}{header_html('description', 'Description', sort)}"
        f"{header_html('category', 'Category', sort)}{header_html('amount', 'Amount', sort)}"
        "<th class='why'>Why this category?</th><th class='row-actions'></th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table>"
    )


def total_html(page: TransactionPage | None, metrics) -> str:
    """The filtered rows' count and sum (all pages: /metrics has the same filters)."""
    if page is None or metrics is None or not page.total:
        return ""
    return (
        f"<div class='tx-total' data-total-amount='{metrics.total_spend:.2f}'>"
        f"{page.total:,} transaction{'s' if page.total != 1 else ''} · total "
        f"<b>{money(metrics.total_spend)}</b></div>"
    )


class TransactionsTable(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    editor = param.ClassSelector(class_=EditState, default=None, allow_None=True)

    def __init__(self, **params):
        super().__init__(**params)
        store = self.store
        self._prev = pn.widgets.Button(label="‹ Previous", width=110, css_classes=["pager-prev"])
        self._next = pn.widgets.Button(label="Next ›", width=110, css_classes=["pager-next"])
        self._info = pn.pane.HTML("", css_classes=["pager-info"], margin=(12, 10))
        self._table = pn.pane.HTML(
            table_html(None, {}),
            sizing_mode="stretch_width",
            css_classes=["transactions"],
        )
        self._total = pn.pane.HTML("", css_classes=["transactions-total"], margin=(4, 10))
        self._prev.on_click(lambda _: self._move(-1))
        self._next.on_click(lambda _: self._move(1))
        store.param.watch(self._update, ["page", "categories", "metrics"])
        if self.editor is not None:
            self.editor.param.watch(self._update, "selected")
        store.param.watch(self._loading, "table_loading")
        self._update()

    def _selected(self) -> set[int]:
        return set(self.editor.selected) if self.editor is not None else set()

    def _move(self, step: int) -> None:
        target = self.store.page_index + step
        if 0 <= target < self.store.page_count:
            self.store.page_index = target

    def _loading(self, event):
        self._table.loading = event.new

    def _update(self, *_):
        store = self.store
        page = store.page
        total = page.total if page else 0
        first = store.page_index * store.page_size + 1 if total else 0
        last = min(total, (store.page_index + 1) * store.page_size)
        with pn.io.hold():
            self._table.object = table_html(page, store.colours, store.sort, self._selected())
            self._total.object = total_html(page, store.metrics)
            self._info.object = (
                f"<span data-total='{total}'>{first:,}–{last:,} of {total:,}</span>"
                f" · page {store.page_index + 1} of {store.page_count}"
            )
            self._prev.disabled = store.page_index == 0
            self._next.disabled = store.page_index + 1 >= store.page_count

    def __panel__(self):
        return pn.Column(
            # Wraps on a phone instead of pushing the pager off the screen.
            pn.FlexBox(
                pn.Spacer(styles={"flex": "1 1 0"}, height=0, margin=0),
                self._info,
                self._prev,
                self._next,
                flex_wrap="wrap",
                align_items="center",
                sizing_mode="stretch_width",
            ),
            self._table,
            self._total,
            sizing_mode="stretch_width",
        )
