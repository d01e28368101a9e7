"""Top categories (donut) and spend over time (bars): Bokeh figures fed from /metrics.

Clicking a slice narrows the filters to that category, clicking a bar to that period.
"""

from __future__ import annotations

import math
from datetime import datetime, time

import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, NumeralTickFormatter, TapTool
from bokeh.plotting import figure
from panel.viewable import Viewer

from spending_ui.store import DashboardStore
from spending_ui.text import LABEL_CHARS, plain
from spending_ui.theme import ACCENT, money

MAX_SLICES = 10
PERIOD_MS = {"day": 86_400_000, "week": 7 * 86_400_000, "month": 30 * 86_400_000}
LABEL_FORMAT = {"day": "%d %b %Y", "week": "week of %d %b %Y", "month": "%B %Y"}


def _run_locked(callback) -> None:
    """Change Bokeh models with the document lock held (async callbacks run without it)."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.add_next_tick_callback(callback)
    else:
        callback()


def donut_data(store: DashboardStore) -> dict:
    metrics = store.metrics
    items = list(metrics.top_categories[:MAX_SLICES]) if metrics else []
    colours = store.colours
    grand = float(sum((item.total for item in items), 0)) or 1.0
    start, starts, ends = 0.0, [], []
    for item in items:
        starts.append(start)
        start += float(item.total) / grand * 2 * math.pi
        ends.append(start)
    return {
        "category": [item.category for item in items],
        # Drawn as text by Bokeh (legend on canvas, tooltip fields escaped): no HTML needed,
        # but bidi controls dropped and the legend entry shortened.
        "label": [plain(item.category, LABEL_CHARS) for item in items],
        "name": [plain(item.category) for item in items],
        "total": [float(item.total) for item in items],
        "total_text": [money(item.total) for item in items],
        "share": [float(item.share) for item in items],
        "count": [item.count for item in items],
        "start_angle": starts,
        "end_angle": ends,
        "colour": [colours.get(item.category, "#888") for item in items],
    }


def timeline_data(store: DashboardStore) -> dict:
    metrics = store.metrics
    granularity = store.filters.granularity
    periods = metrics.spend_over_time if metrics else []
    return {
        "period_start": [datetime.combine(p.period_start, time.min) for p in periods],
        "period": [p.period_start.isoformat() for p in periods],
        "label": [p.period_start.strftime(LABEL_FORMAT[granularity]) for p in periods],
        "total": [float(p.total) for p in periods],
        "total_text": [money(p.total) for p in periods],
        "count": [p.count for p in periods],
    }


def _style(fig) -> None:
    fig.toolbar.logo = None
    fig.background_fill_alpha = 0
    fig.border_fill_alpha = 0
    fig.outline_line_color = None


class CategoryDonut(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    compact = param.Boolean(default=False, doc="A phone: the legend goes under the donut")

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource(donut_data(self.store), name="category-source")
        fig = figure(
            height=470 if self.compact else 330,
            sizing_mode="stretch_width",
            tools="tap",
            toolbar_location=None,
            x_range=(-1.1, 1.1),
            y_range=(-1.1, 1.1),
            match_aspect=True,
            name="category-figure",
        )
        fig.annular_wedge(
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
            HoverTool(tooltips=[("", "@name"), ("Spent", "@total_text"), ("Items", "@count")])
        )
        fig.select_one(TapTool).behavior = "select"
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
        self._pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")

    def _update(self, *_):
        data = donut_data(self.store)

        def apply():
            self.source.data = data

        _run_locked(apply)

    def _on_tap(self, attr, old, new):
        if not new:
            return
        category = self.source.data["category"][new[0]]
        self.source.selected.indices = []
        self.store.filters.narrow_to_category(category)

    def __panel__(self):
        return self._pane


class SpendOverTime(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    compact = param.Boolean(default=False, doc="A phone: slanted date labels")

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource(timeline_data(self.store), name="time-source")
        fig = figure(
            height=330,
            sizing_mode="stretch_width",
            x_axis_type="datetime",
            tools="tap",
            toolbar_location=None,
            name="time-figure",
        )
        self.bars = fig.vbar(
            x="period_start",
            top="total",
            width=PERIOD_MS["month"] * 0.8,
            color=ACCENT,
            hover_fill_alpha=0.75,
            nonselection_fill_alpha=1,
            source=self.source,
        )
        fig.add_tools(
            HoverTool(
                tooltips=[("", "@label"), ("Spent", "@total_text"), ("Items", "@count")],
                renderers=[self.bars],
            )
        )
        fig.select_one(TapTool).behavior = "select"
        fig.yaxis.formatter = NumeralTickFormatter(format="0,0")
        fig.xgrid.visible = False
        fig.y_range.start = 0
        if self.compact:  # side by side, the dates overlap on a phone's width
            fig.xaxis.major_label_orientation = math.pi / 4
        _style(fig)
        self.figure = fig
        self.source.selected.on_change("indices", self._on_tap)
        self.store.param.watch(self._update, ["metrics"])
        self._switch = pn.widgets.RadioButtonGroup.from_param(
            self.store.filters.param.granularity,
            options={"Day": "day", "Week": "week", "Month": "month"},
            button_type="primary",
            button_style="outline",
            name="",
            width=220,
        )
        self._pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")

    def _update(self, *_):
        data = timeline_data(self.store)
        granularity = self.store.filters.granularity
        colour = ACCENT
        categories = self.store.filters.categories
        if len(categories) == 1:
            colour = self.store.colours.get(categories[0], ACCENT)

        def apply():
            self.bars.glyph.width = PERIOD_MS[granularity] * 0.8
            self.bars.glyph.fill_color = colour
            self.bars.glyph.line_color = colour
            self.source.data = data

        _run_locked(apply)

    def _on_tap(self, attr, old, new):
        if not new:
            return
        start = datetime.fromisoformat(self.source.data["period"][new[0]]).date()
        self.source.selected.indices = []
        self.store.filters.narrow_to_period(start, self.store.filters.granularity)

    def __panel__(self):
        return pn.Column(self._switch, self._pane, sizing_mode="stretch_width")
