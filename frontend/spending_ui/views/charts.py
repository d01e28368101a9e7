"""Top categories (donut) and spend over time (bars): Bokeh figures fed from /metrics.

Clicking a slice narrows the filters to that category (a group's slice: to the group and
every category below it), clicking a bar to that period. "By group" (Filters.by_group)
draws /metrics' category_groups instead of its top_categories.
"""

from __future__ import annotations

import math
from html import escape
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import panel as pn
import param
from bokeh.models import (
    ColumnDataSource,
    DatetimeTickFormatter,
    FixedTicker,
    HoverTool,
    NumeralTickFormatter,
    Range1d,
    TapTool,
)
from bokeh.plotting import figure
from panel.viewable import Viewer

from spending_ui.state import period_end
from spending_ui.store import DashboardStore
from spending_ui.text import LABEL_CHARS, html_text, plain
from spending_ui.theme import ACCENT, REFUND_COLOUR, money

EPOCH = datetime(1970, 1, 1)
OTHER_COLOUR = "#9aa0a6"

MAX_SLICES = 7  # the top categories drawn; the rest share one "Other" slice
OTHER = "Other"
DAY_MS = 86_400_000
LABEL_FORMAT = {"day": "%d %b %Y", "week": "week of %d %b %Y", "month": "%B %Y"}
TICK_FORMAT = {"day": "%d %b", "week": "%d %b", "month": "%b %Y"}
MAX_TICKS = {False: 6, True: 3}  # by `compact`: labels that fit side by side


def _run_locked(callback) -> None:
    """Change Bokeh models with the document lock held (async callbacks run without it)."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.add_next_tick_callback(callback)
    else:
        callback()


def spending_totals(metrics, by_group: bool = False) -> list:
    """What the donut is drawn from: the spending categories, or their groups."""
    if metrics is None:
        return []
    return metrics.category_groups if by_group else metrics.top_categories


def spending_slices(metrics, by_group: bool = False) -> tuple[list, list]:
    """(slices, rest): the top categories (or groups) by positive spend plus "Other", each
    at its share of all positive spending; `rest` are the categories inside "Other".
    Categories whose refunds exceed their purchases have no slice (see
    `refunded_categories`)."""
    positive = [item for item in spending_totals(metrics, by_group) if item.total > 0]
    spent = sum((item.total for item in positive), Decimal(0))
    if len(positive) > MAX_SLICES:
        shown, rest = positive[: MAX_SLICES - 1], positive[MAX_SLICES - 1 :]
    else:
        shown, rest = positive, []
    slices = [(item.category, item.total, item.count) for item in shown]
    if rest:
        slices.append((OTHER, sum((i.total for i in rest), Decimal(0)), sum(i.count for i in rest)))
    return [(name, total, count, total / spent) for name, total, count in slices], rest


def refunded_categories(metrics, by_group: bool = False) -> list:
    """Categories (or groups) that are net money in for the filters (refunds larger than
    purchases)."""
    return [item for item in spending_totals(metrics, by_group) if item.total < 0]


def donut_data(store: DashboardStore) -> dict:
    slices, _ = spending_slices(store.metrics, store.filters.by_group)
    colours = store.colours
    start, starts, ends = 0.0, [], []
    for _, _, _, share in slices:
        starts.append(start)
        start += float(share) * 2 * math.pi
        ends.append(start)
    return {
        "category": [name for name, *_ in slices],
        # Drawn as text by Bokeh (legend on canvas, tooltip fields escaped): no HTML needed,
        # but bidi controls dropped and the legend entry shortened.
        "label": [plain(name, LABEL_CHARS) for name, *_ in slices],
        "name": [plain(name) for name, *_ in slices],
        "total": [float(total) for _, total, _, _ in slices],
        "total_text": [money(total) for _, total, _, _ in slices],
        "share": [float(share) for *_, share in slices],
        "share_text": [f"{share * 100:.1f}%" for *_, share in slices],
        "count": [count for _, _, count, _ in slices],
        "start_angle": starts,
        "end_angle": ends,
        "colour": [colours.get(name, OTHER_COLOUR) for name, *_ in slices],
    }


def period_after(start: date, granularity: str) -> date:
    return period_end(start, granularity) + timedelta(days=1)


def _ms(day: date) -> float:
    return (datetime.combine(day, time.min) - EPOCH).total_seconds() * 1000


def timeline_data(store: DashboardStore) -> dict:
    """One bar per period, centred on it and as wide as it (months differ in length)."""
    metrics = store.metrics
    granularity = store.filters.granularity
    periods = metrics.spend_over_time if metrics else []
    colour = ACCENT
    if len(store.filters.categories) == 1:  # the bars take the one category's colour
        colour = store.colours.get(store.filters.categories[0], ACCENT)
    centres, widths = [], []
    for p in periods:
        first, after = _ms(p.period_start), _ms(period_after(p.period_start, granularity))
        centres.append((first + after) / 2)
        widths.append((after - first) * 0.85)
    return {
        "centre": centres,
        "width": widths,
        "period": [p.period_start.isoformat() for p in periods],
        "label": [p.period_start.strftime(LABEL_FORMAT[granularity]) for p in periods],
        "total": [float(p.total) for p in periods],
        "total_text": [money(p.total) for p in periods],
        "count": [p.count for p in periods],
        "colour": [colour if p.total >= 0 else REFUND_COLOUR for p in periods],
        # Income is a second series (a line over the bars): spending stays the bars alone.
        "income": [float(p.income) for p in periods],
        "income_text": [money(p.income) for p in periods],
    }


def has_income(data: dict) -> bool:
    return any(value > 0 for value in data.get("income", []))


def timeline_range(store: DashboardStore) -> tuple[float, float] | None:
    """The x range: the selected period (open ends: the matches), widened to whole periods."""
    metrics, filters = store.metrics, store.filters
    first = filters.start or (metrics.first_transaction if metrics else None)
    last = filters.end or (metrics.last_transaction if metrics else None)
    if first is None or last is None:
        return None
    granularity = filters.granularity
    return _ms(period_floor(first, granularity)), _ms(
        period_after(period_floor(last, granularity), granularity)
    )


def value_range(data: dict) -> tuple[float, float]:
    """The y range: zero, every bar (a refund goes below zero) and the income line, with room
    above."""
    values = [0.0, *data["total"], *data.get("income", [])]
    low, high = min(values), max(values)
    if low == high:
        return 0.0, 1.0
    pad = (high - low) * 0.06
    return (low - pad if low < 0 else 0.0), high + pad


def period_floor(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def timeline_ticks(data: dict, compact: bool) -> list[float]:
    """At most a few labelled bars, evenly spaced, so the labels never run together."""
    centres = data["centre"]
    step = max(1, math.ceil(len(centres) / MAX_TICKS[compact]))
    return centres[::step]


def _style(fig) -> None:
    fig.toolbar.logo = None
    fig.background_fill_alpha = 0
    fig.border_fill_alpha = 0
    fig.outline_line_color = None


def donut_notes_html(store: DashboardStore, show_other: bool) -> str:
    """Beside the donut: what "Other" holds (once clicked) and the net-refund categories."""
    metrics, by_group = store.metrics, store.filters.by_group
    _, rest = spending_slices(metrics, by_group)
    colours = store.colours
    parts = []
    if rest and show_other:
        items = "".join(
            f"<li data-category='{escape(item.category, quote=True)}'>"
            f"<span class='swatch' style='background:{colours.get(item.category, OTHER_COLOUR)}'>"
            f"</span>{html_text(item.category, LABEL_CHARS)} · {money(item.total)}</li>"
            for item in rest
        )
        parts.append(f"<div class='donut-other'><b>Other</b><ul>{items}</ul></div>")
    refunded = refunded_categories(metrics, by_group)
    if refunded:
        items = "".join(
            f"<li data-category='{escape(item.category, quote=True)}'>"
            f"{html_text(item.category, LABEL_CHARS)}"
            f" · <span class='money-in'>{money(-item.total)} in</span></li>"
            for item in refunded
        )
        parts.append(
            "<div class='donut-refunds'><b>Refunds larger than purchases</b>"
            f"<ul>{items}</ul></div>"
        )
    return "".join(parts)


class CategoryDonut(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    compact = param.Boolean(default=False, doc="A phone: the legend goes under the donut")
    show_other = param.Boolean(default=False, doc='The categories inside "Other" are listed')

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource(donut_data(self.store), name="category-source")
        fig = figure(
            height=470 if self.compact else 330,
            sizing_mode="stretch_width",
            tools="tap",
            toolbar_location=None,
            # Data ranges, so that match_aspect keeps the ring round and whole at every width
            # (fixed ranges would stretch it); an invisible square gives them their bounds
            # even before the first answer (no "could not set initial ranges").
            match_aspect=True,
            name="category-figure",
        )
        fig.rect(x=0, y=0, width=2.04, height=2.04, fill_alpha=0, line_alpha=0)
        wedges = fig.annular_wedge(
            x=0,
            y=0,
            inner_radius=0.52,
            outer_radius=0.98,
            start_angle="start_angle",
            end_angle="end_angle",
            fill_color="colour",
            line_color="white",
            line_width=2,
            hover_fill_alpha=0.8,
            selection_fill_alpha=1,
            nonselection_fill_alpha=0.9,
            legend_field="label",
            source=self.source,
        )
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("", "@name"),
                    ("Spent", "@total_text"),
                    ("Share", "@share_text"),
                    ("Items", "@count"),
                ],
                renderers=[wedges],
            )
        )
        fig.select_one(TapTool).update(behavior="select", renderers=[wedges])
        fig.axis.visible = False
        fig.grid.visible = False
        fig.legend.border_line_alpha = 0
        fig.legend.background_fill_alpha = 0
        fig.legend.label_text_font_size = "12px"
        if self.compact:  # beside the donut it would not fit a phone's width
            fig.legend.ncols = 2
            fig.add_layout(fig.legend[0], "below")
        else:
            fig.legend.location = "center_right"
            fig.add_layout(fig.legend[0], "right")
        _style(fig)
        self.figure = fig
        self.source.selected.on_change("indices", self._on_tap)
        self.store.param.watch(self._update, ["metrics", "categories"])
        self.store.filters.param.watch(self._update, ["by_group"])
        self._pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")
        # Offered once the user has groups (a category with a parent).
        self._by_group = pn.widgets.Toggle.from_param(
            self.store.filters.param.by_group,
            label="By group",
            color="primary",
            variant="outline",
            width=110,
            visible=pn.bind(
                lambda rows: any(row.parent_id for row in rows), self.store.param.category_rows
            ),
            css_classes=["by-group"],
        )
        self._notes = pn.pane.HTML(
            pn.bind(
                lambda *_: donut_notes_html(self.store, self.show_other),
                self.store.param.metrics,
                self.store.param.categories,
                self.store.filters.param.by_group,
                self.param.show_other,
            ),
            sizing_mode="stretch_width",
            css_classes=["donut-notes"],
        )

    def _update(self, *_):
        data = donut_data(self.store)
        self.show_other = False

        def apply():
            self.source.data = data

        _run_locked(apply)

    def _on_tap(self, attr, old, new):
        if not new:
            return
        category = self.source.data["category"][new[0]]
        self.source.selected.indices = []
        if category == OTHER:
            self.show_other = not self.show_other
        elif self.store.filters.by_group:
            self.store.filters.narrow_to_categories(self.store.group_members(category))
        else:
            self.store.filters.narrow_to_categories([category])

    def __panel__(self):
        return pn.Column(
            self._by_group,
            self._pane,
            self._notes,
            sizing_mode="stretch_width",
        )


class SpendOverTime(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    compact = param.Boolean(default=False, doc="A phone: fewer date labels")

    def __init__(self, **params):
        super().__init__(**params)
        data = timeline_data(self.store)
        self.source = ColumnDataSource(data, name="time-source")
        fig = figure(
            height=330,
            sizing_mode="stretch_width",
            x_axis_type="datetime",
            # Explicit ranges: the selected period, and the bars' values (data ranges would
            # warn "could not set initial ranges" while there are no bars yet).
            x_range=Range1d(*(timeline_range(self.store) or (0, DAY_MS))),
            y_range=Range1d(*value_range(data)),
            tools="tap",
            toolbar_location=None,
            name="time-figure",
        )
        self.bars = fig.vbar(
            x="centre",
            top="total",
            width="width",
            fill_color="colour",
            line_color="colour",
            hover_fill_alpha=0.75,
            nonselection_fill_alpha=1,
            source=self.source,
        )
        self.income = fig.line(
            x="centre",
            y="income",
            line_color=REFUND_COLOUR,
            line_width=2,
            source=self.source,
            visible=has_income(data),
            name="income-line",
        )
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("", "@label"),
                    ("Spent", "@total_text"),
                    ("Income", "@income_text"),
                    ("Items", "@count"),
                ],
                renderers=[self.bars],
            )
        )
        fig.select_one(TapTool).behavior = "select"
        # Small totals get decimals instead of the same rounded label twice ("0 1 1 2").
        fig.yaxis.formatter = NumeralTickFormatter(format="0,0.[00]")
        fig.xaxis.ticker = FixedTicker(ticks=timeline_ticks(data, self.compact))
        fig.xaxis.formatter = _tick_formatter(self.store.filters.granularity)
        fig.xgrid.visible = False
        _style(fig)
        self.figure = fig
        self.source.selected.on_change("indices", self._on_tap)
        self.store.param.watch(self._update, ["metrics"])
        self._switch = pn.widgets.RadioButtonGroup.from_param(
            self.store.filters.param.granularity,
            options={"Day": "day", "Week": "week", "Month": "month"},
            color="primary",
            variant="outline",
            label="",
            width=220,
        )
        self._pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")

    def _update(self, *_):
        store = self.store
        data = timeline_data(store)
        granularity = store.filters.granularity
        x_range = timeline_range(store)
        ticks = timeline_ticks(data, self.compact)
        y_range = value_range(data)

        def apply():
            self.source.data = data
            self.income.visible = has_income(data)
            if x_range:
                self.figure.x_range.update(start=x_range[0], end=x_range[1])
            self.figure.y_range.update(start=y_range[0], end=y_range[1])
            self.figure.xaxis.ticker.ticks = ticks
            self.figure.xaxis.formatter = _tick_formatter(granularity)

        _run_locked(apply)

    def _on_tap(self, attr, old, new):
        if not new:
            return
        start = datetime.fromisoformat(self.source.data["period"][new[0]]).date()
        self.source.selected.indices = []
        self.store.filters.narrow_to_period(start, self.store.filters.granularity)

    def __panel__(self):
        return pn.Column(self._switch, self._pane, sizing_mode="stretch_width")


def _tick_formatter(granularity: str) -> DatetimeTickFormatter:
    """Every tick sits on a bar, so every scale uses that bar's own label format."""
    fmt = TICK_FORMAT[granularity]
    scales = ("milliseconds", "seconds", "minsec", "minutes", "hourmin", "hours", "days")
    return DatetimeTickFormatter(**dict.fromkeys(scales, fmt), months=fmt, years=fmt, context=None)
