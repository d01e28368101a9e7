"""The logged-in main area: filter summary, KPIs, charts, transactions, and the empty state."""

from __future__ import annotations


import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.categories import CategoryState
from spending_ui.editing import EditState
from spending_ui.rules import RulesState
from spending_ui.store import DashboardStore
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text
from spending_ui.views.categories import categories_card
from spending_ui.views.charts import CategoryDonut, SpendOverTime
from spending_ui.views.editing import (
    AddTransactionForm,
    BulkBar,
    EditPanel,
    Message,
    ReviewQueue,
    uncategorized_html,
)
from spending_ui.views.kpis import KpiCards
from spending_ui.views.on_demand import card_built_on_expand
from spending_ui.views.rules import RulesPanel
from spending_ui.views.table import TransactionsTable


def summary_html(store: DashboardStore) -> str:
    filters = store.filters
    parts = [f"<b>{html_text(filters.describe_range())}</b>"]
    if filters.preset != "custom" and filters.start and filters.end:
        parts.append(f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}")
    if filters.categories:
        parts.append("in " + ", ".join(html_text(c, LABEL_CHARS) for c in filters.categories))
    if filters.accounts:
        names = (html_text(store.account_name(a), LABEL_CHARS) for a in filters.accounts)
        parts.append("accounts " + ", ".join(names))
    if filters.min_amount is not None or filters.max_amount is not None:
        low = "…" if filters.min_amount is None else f"{filters.min_amount:,.2f}"
        high = "…" if filters.max_amount is None else f"{filters.max_amount:,.2f}"
        parts.append(f"amounts {low} to {high}")
    if filters.q:
        parts.append(f"description contains “{html_text(filters.q, DESCRIPTION_CHARS)}”")
    return "<div class='muted' style='font-size:14px'>" + " · ".join(parts) + "</div>"


FIRST_RUN_HTML = """
<div class='empty first-run' data-first-run='true'>
<h3>Welcome! Import your first bank statement</h3>
<div>You have no transactions yet. Export a file from your online banking (CSV, OFX, QIF
or CAMT.053), then press <b>Import a file…</b> under <b>Your data</b> in the sidebar (the ☰ menu
on a phone): choose the account, check the preview, and import.</div>
<ul class='first-run-files'>
<li>Most banks' exports work as they are; the preview shows what each column was read as,
and you can change it before importing.</li>
<li>Comma, semicolon or tab separated; dates like 2026-03-31, 31/03/2026 or 03/31/2026;
amounts like 1,234.56 or 1.234,56.</li>
<li>Importing the same file twice is safe: rows already stored are skipped.</li>
</ul>
</div>
"""


class DashboardView(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    editor = param.ClassSelector(class_=EditState, default=None, allow_None=True)
    rules = param.ClassSelector(class_=RulesState, default=None, allow_None=True)
    compact = param.Boolean(default=False, doc="Laid out for a phone's width")

    def __init__(self, **params):
        super().__init__(**params)
        store = self.store
        if self.editor is None:
            self.editor = EditState(store=store)
        editor = self.editor
        if self.rules is None:
            self.rules = RulesState(store=store)
        self._summary = pn.pane.HTML(summary_html(store), sizing_mode="stretch_width")
        self._error = pn.pane.Alert(
            "",
            alert_type="warning",
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["dashboard-error"],
        )
        self._empty = pn.Column(
            pn.pane.HTML(
                "<div class='empty' data-empty='true'><h3>No data for these filters</h3>"
                "<div>Nothing matches the period and filters you chose. Widen the period, "
                "clear a filter, or import a CSV from your bank.</div></div>",
                sizing_mode="stretch_width",
            ),
            pn.Row(
                pn.Spacer(),
                _button("Show all time", lambda _: setattr(store.filters, "preset", "all")),
                _button("Reset filters", lambda _: store.filters.reset()),
                pn.Spacer(),
                sizing_mode="stretch_width",
            ),
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["empty-state"],
        )
        self._first_run = pn.pane.HTML(
            FIRST_RUN_HTML,
            sizing_mode="stretch_width",
            visible=False,
            css_classes=["first-run"],
        )
        self._donut = pn.Card(
            CategoryDonut(store=store, compact=self.compact),
            title="Top categories",
            collapsible=False,
            sizing_mode="stretch_width",
            min_width=280,
            styles={"flex": "1 1 380px"},
            margin=8,
        )
        self._timeline = pn.Card(
            SpendOverTime(store=store, compact=self.compact),
            title="Spend over time",
            collapsible=False,
            sizing_mode="stretch_width",
            min_width=280,
            styles={"flex": "2 1 520px"},
            margin=8,
        )
        self._charts = pn.FlexBox(self._donut, self._timeline, sizing_mode="stretch_width")
        self._uncategorized = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["uncategorized"], margin=(0, 10)
        )
        self._table = pn.Card(
            Message(state=editor),
            AddTransactionForm(state=editor),
            EditPanel(state=editor),
            BulkBar(state=editor),
            TransactionsTable(store=store, editor=editor),
            title="Transactions",
            collapsible=False,
            sizing_mode="stretch_width",
            margin=8,
        )
        self._review = pn.Card(
            ReviewQueue(state=editor),
            title="To review (largest first)",
            collapsible=True,
            sizing_mode="stretch_width",
            margin=8,
            css_classes=["review-queue"],
        )
        self._rules = card_built_on_expand(
            "Rules", lambda: RulesPanel(state=self.rules), margin=8, css_classes=["rules"]
        )
        self._category_state = CategoryState(store=store)
        self._categories = categories_card(self._category_state)
        store.filters.param.watch(self._update_summary, list(store.filters.param))
        store.param.watch(self._update_summary, "accounts")  # the names in the summary
        store.param.watch(self._update_state, ["metrics", "has_transactions", "error"])
        store.param.watch(self._loading, "loading")
        self._update_state()

    def _loading(self, event):
        with pn.io.hold():
            self._donut.loading = event.new
            self._timeline.loading = event.new

    def _update_summary(self, *_):
        self._summary.object = summary_html(self.store)

    def _update_state(self, *_):
        store = self.store
        empty = store.metrics is not None and store.metrics.transaction_count == 0
        # No transactions at all (a new account): how to get some in, not "widen the period".
        first_run = empty and not store.has_transactions
        self._first_run.visible = first_run
        self._empty.visible = empty and not first_run
        self._charts.visible = not empty
        self._table.visible = not empty
        self._error.param.update(object=html_text(store.error), visible=bool(store.error))
        self._uncategorized.object = uncategorized_html(store.metrics)

    def __panel__(self):
        return pn.Column(
            self._summary,
            self._error,
            KpiCards(store=self.store),
            self._uncategorized,
            self._first_run,
            self._empty,
            self._charts,
            self._table,
            self._review,
            self._rules,
            self._categories,
            sizing_mode="stretch_width",
        )


def _button(label: str, callback) -> pn.widgets.Button:
    button = pn.widgets.Button(label=label, color="primary", variant="outline")
    button.on_click(callback)
    return button
