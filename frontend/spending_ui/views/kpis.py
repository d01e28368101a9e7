"""The KPI cards (spending, then income, net savings and savings rate), each with its change
against the previous period of the same length."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import Metrics
from spending_ui.store import DashboardStore
from spending_ui.text import LABEL_CHARS, html_text
from spending_ui.theme import money, percent_change

KPIS = (
    ("total_spend", "Total spend"),
    ("average_monthly_spend", "Avg. monthly spend"),
    ("transaction_count", "Transactions"),
    ("top_category", "Top category"),
    ("total_income", "Income"),
    ("net_savings", "Net savings"),
    ("savings_rate", "Savings rate"),
)
# Cards where a rise is good news: their arrows take the colours the other way round.
MORE_IS_BETTER = {"total_income", "net_savings", "savings_rate"}
INCOME_CSS = """
.kpi.more-is-better .kpi-delta.up { color: #2a9d5c; }
.kpi.more-is-better .kpi-delta.down { color: #d1495b; }
"""


def _delta_html(current: Decimal, previous: Metrics | None, previous_value: Decimal | None) -> str:
    if previous is None or previous_value is None:
        return "<div class='kpi-delta none'>No previous period to compare</div>"
    change = percent_change(current, previous_value)
    if change is None:
        if current:
            return "<div class='kpi-delta new'>New: nothing in the previous period</div>"
        return "<div class='kpi-delta flat'>No change vs previous period</div>"
    if abs(change) < Decimal("0.05"):
        return "<div class='kpi-delta flat' data-delta='0.0'>No change vs previous period</div>"
    direction, arrow = ("up", "▲") if change > 0 else ("down", "▼")
    return (
        f"<div class='kpi-delta {direction}' data-delta='{change:.1f}'>"
        f"{arrow} {abs(change):.1f}% vs previous period</div>"
    )


def kpi_html(key: str, metrics: Metrics | None, previous: Metrics | None, colours: dict) -> str:
    """One card's HTML; `data-value` carries the exact value from /metrics for tests and tools."""
    label = dict(KPIS)[key]
    if metrics is None:
        return (
            f"<div class='kpi' data-kpi='{key}'><div class='kpi-label'>{label}</div>"
            "<div class='kpi-value'>…</div></div>"
        )
    if key in MORE_IS_BETTER:
        return _income_kpi_html(key, label, metrics, previous)
    if key == "top_category":
        top = metrics.top_category
        if top is None:
            value, shown, delta = "", "—", "<div class='kpi-delta none'>No spending</div>"
        else:
            value = top.category
            colour = colours.get(top.category, "#888")
            swatch = f"<span class='swatch' style='background:{colour}'></span>"
            shown = f"{swatch}{html_text(top.category, LABEL_CHARS)}"
            # Its share of what was spent: refunds elsewhere do not inflate it past 100%.
            share = f"{top.total / metrics.positive_spend * 100:.0f}% of spend · {money(top.total)}"
            before = previous.category_total(top.category) if previous else None
            delta = _delta_html(top.total, previous, before).replace(
                "vs previous period", "in this category"
            )
            delta = f"<div class='kpi-delta flat'>{share}</div>{delta}"
    else:
        current = getattr(metrics, key)
        before = getattr(previous, key) if previous else None
        value = f"{current:.2f}" if key != "transaction_count" else str(current)
        shown = money(current) if key != "transaction_count" else f"{current:,}"
        delta = _delta_html(Decimal(current), previous, None if before is None else Decimal(before))
    return (
        f"<div class='kpi' data-kpi='{key}' data-value='{escape(value, quote=True)}'>"
        f"<div class='kpi-label'>{label}</div><div class='kpi-value'>{shown}</div>{delta}</div>"
    )


def _change_html(change: Decimal | None, text: str) -> str:
    """An absolute change (money, percentage points): `text` formats its size."""
    if change is None:
        return "<div class='kpi-delta none'>No previous period to compare</div>"
    if not change:
        return "<div class='kpi-delta flat' data-delta='0'>No change vs previous period</div>"
    direction, arrow = ("up", "▲") if change > 0 else ("down", "▼")
    return (
        f"<div class='kpi-delta {direction}' data-delta='{change}'>"
        f"{arrow} {text} vs previous period</div>"
    )


def _income_kpi_html(key: str, label: str, metrics: Metrics, previous: Metrics | None) -> str:
    """Income (its change in percent), net savings (in money), savings rate (in points);
    "—" where there is nothing to show (no income: no rate)."""
    current = getattr(metrics, key)
    before = getattr(previous, key) if previous else None
    if current is None:
        value, shown = "", "—"
        delta = (
            "<div class='kpi-delta none'>No income in this period</div>"
            if key == "savings_rate" and metrics.total_income is not None
            else "<div class='kpi-delta none'>Not reported</div>"
        )
    elif key == "savings_rate":
        value, shown = f"{current}", f"{current * 100:.1f}%"
        change = None if before is None else (current - before) * 100
        delta = _change_html(change, f"{abs(change or 0):.1f} pts")
        if previous is not None and before is None:
            delta = "<div class='kpi-delta none'>No income in the previous period</div>"
    elif key == "net_savings":
        value, shown = f"{current:.2f}", money(current)
        change = None if before is None else current - before
        delta = _change_html(change, money(abs(change or 0)))
    else:
        value, shown = f"{current:.2f}", money(current)
        delta = _delta_html(current, previous, before)
    return (
        f"<div class='kpi more-is-better' data-kpi='{key}' "
        f"data-value='{escape(value, quote=True)}'>"
        f"<div class='kpi-label'>{label}</div><div class='kpi-value'>{shown}</div>{delta}</div>"
    )


class KpiCards(Viewer):
    store = param.ClassSelector(class_=DashboardStore)

    def __init__(self, **params):
        super().__init__(**params)
        self._cards = {
            key: pn.pane.HTML(
                kpi_html(key, None, None, {}),
                sizing_mode="stretch_width",
                min_width=160,
                margin=(5, 8),
                stylesheets=[INCOME_CSS],
                styles={"flex": "1 1 220px"},
                css_classes=[f"kpi-{key}"],
            )
            for key, _ in KPIS
        }
        self.store.param.watch(self._update, ["metrics", "previous", "categories"])
        self.store.param.watch(self._loading, "loading")
        self._layout = pn.FlexBox(
            *self._cards.values(), flex_wrap="wrap", sizing_mode="stretch_width"
        )
        self._update()

    def _loading(self, event):
        with pn.io.hold():  # one browser patch for all the cards
            for card in self._cards.values():
                card.loading = event.new

    def _update(self, *_):
        store = self.store
        colours = store.colours
        for key, pane in self._cards.items():
            pane.object = kpi_html(key, store.metrics, store.previous, colours)

    def __panel__(self):
        return self._layout
