"""The transactions table: one page at a time from /transactions, sorted and paged by the API."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import TransactionPage
from spending_ui.store import SORTS, DashboardStore
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text
from spending_ui.theme import CSS, money


def table_html(page: TransactionPage | None, colours: dict[str, str]) -> str:
    if page is None:
        return "<div class='muted'>Loading transactions…</div>"
    if not page.items:
        return "<div class='muted'>No transactions for these filters.</div>"
    rows = []
    for item in page.items:
        colour = colours.get(item.category, "#888")
        rows.append(
            f"<tr data-id='{item.id}'>"
            f"<td>{item.timestamp:%d %b %Y %H:%M}</td>"
            f"<td>{html_text(item.description, DESCRIPTION_CHARS)}</td>"
            f"<td><span class='swatch' style='background:{colour}'></span>"
            f"{html_text(item.category, LABEL_CHARS)}</td>"
            f"<td class='amount' data-amount='{item.amount:.2f}'>{money(item.amount)}</td></tr>"
        )
    return (
        f"<table class='tx' data-total='{page.total}'><thead><tr><th>Date</th><th>Description"
        "</th><th>Category</th><th class='amount'>Amount</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


class TransactionsTable(Viewer):
    store = param.ClassSelector(class_=DashboardStore)

    def __init__(self, **params):
        super().__init__(**params)
        store = self.store
        self._sort = pn.widgets.Select.from_param(
            store.param.sort,
            options={label: key for key, label in SORTS.items()},
            name="",
            width=180,
        )
        self._prev = pn.widgets.Button(name="‹ Previous", width=110, css_classes=["pager-prev"])
        self._next = pn.widgets.Button(name="Next ›", width=110, css_classes=["pager-next"])
        self._info = pn.pane.HTML("", css_classes=["pager-info"], margin=(12, 10))
        self._table = pn.pane.HTML(
            table_html(None, {}),
            sizing_mode="stretch_width",
            css_classes=["transactions"],
            stylesheets=[CSS],
        )
        self._prev.on_click(lambda _: self._move(-1))
        self._next.on_click(lambda _: self._move(1))
        store.param.watch(self._update, ["page", "categories"])
        store.param.watch(self._loading, "table_loading")
        self._update()

    def _move(self, step: int) -> None:
        target = self.store.page_index + step
        if 0 <= target < self.store.page_count:
            self.store.page_index = target

    def _loading(self, event):
        self._table.loading = event.new

    def _update(self, *_):
        store = self.store
        page = store.page
        self._table.object = table_html(page, store.colours)
        total = page.total if page else 0
        first = store.page_index * store.page_size + 1 if total else 0
        last = min(total, (store.page_index + 1) * store.page_size)
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
                self._sort,
                pn.Spacer(styles={"flex": "1 1 0"}, height=0, margin=0),
                self._info,
                self._prev,
                self._next,
                flex_wrap="wrap",
                align_items="center",
                sizing_mode="stretch_width",
            ),
            self._table,
            sizing_mode="stretch_width",
        )
