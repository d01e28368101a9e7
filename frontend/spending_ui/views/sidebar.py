"""The sidebar: the filters, and the data tools (the import dialog's button, the export)."""

from __future__ import annotations

import asyncio
import io
import logging

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import ApiError
from spending_ui.importing import ImportState
from spending_ui.state import MAX_Q_LENGTH, PRESETS, amount_text, parse_amount
from spending_ui.store import DashboardStore
from spending_ui.text import choice_options, html_text

logger = logging.getLogger(__name__)


SEARCH_PAUSE_MS = 400  # the description search applies this long after the last keystroke


class FiltersPanel(Viewer):
    store = param.ClassSelector(class_=DashboardStore)
    # The amount boxes hold text ("1,000"), read into the filters' numbers.
    min_text = param.String(default="")
    max_text = param.String(default="")
    amount_error = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        filters = self.store.filters
        self._preset = pn.widgets.Select.from_param(
            filters.param.preset,
            options={label: key for key, label in PRESETS.items()},
            label="Period",
            sizing_mode="stretch_width",
        )
        self._start = pn.widgets.DatePicker.from_param(
            filters.param.start,
            label="From",
            sizing_mode="stretch_width",
            css_classes=["from-date"],
        )
        self._end = pn.widgets.DatePicker.from_param(
            filters.param.end, label="To", sizing_mode="stretch_width", css_classes=["to-date"]
        )
        self._categories = pn.widgets.MultiChoice.from_param(
            filters.param.categories,
            options=choice_options(sorted({*self.store.categories, *filters.categories})),
            label="Categories",
            placeholder="All categories",
            sizing_mode="stretch_width",
        )
        low, high = amount_text(filters.min_amount), amount_text(filters.max_amount)
        with param.parameterized.discard_events(self):
            self.param.update(min_text=low, max_text=high)
        # Each box's `value` is its text as entered (Enter, leaving it), `value_input` as typed.
        self._min = pn.widgets.TextInput.from_param(
            self.param.min_text,
            value_input=low,
            label="Min amount",
            placeholder="Any",
            sizing_mode="stretch_width",
            css_classes=["min-amount"],
        )
        self._max = pn.widgets.TextInput.from_param(
            self.param.max_text,
            value_input=high,
            label="Max amount",
            placeholder="Any",
            sizing_mode="stretch_width",
            css_classes=["max-amount"],
        )
        self._amount_error = pn.pane.HTML(
            pn.bind(
                lambda text: f"<div class='muted'>{html_text(text)}</div>", self.param.amount_error
            ),
            visible=self.param.amount_error.rx.bool(),
            css_classes=["amount-error"],
            margin=(0, 10),
        )
        self._q = pn.widgets.TextInput.from_param(
            filters.param.q,
            label="Description contains",
            placeholder="e.g. coffee",
            sizing_mode="stretch_width",
        )
        self._search_timer = None
        self._q.param.watch(self._typing, "value_input")
        self._reset = pn.widgets.Button(
            label="Reset filters", color="light", sizing_mode="stretch_width"
        )
        self._reset.on_click(lambda _: filters.reset())
        self.store.param.watch(self._options, "categories")
        # Each date box cannot go past the other: From after To is not offered.
        filters.param.watch(self._date_bounds, ["start", "end"])
        filters.param.watch(self._show_amounts, ["min_amount", "max_amount"])
        # box -> (the text it had as entered, the text it was given instead), see _read_amounts
        self._rewritten: dict[str, tuple[str, str]] = {}
        self.param.watch(self._read_amounts, ["min_text", "max_text"])
        self._date_bounds()

    def _options(self, event):
        self._categories.options = choice_options(
            sorted({*event.new, *self.store.filters.categories})
        )

    def _date_bounds(self, *_):
        filters = self.store.filters
        with pn.io.hold():
            self._start.end = filters.end
            self._end.start = filters.start

    def _show_amounts(self, *_):
        """The boxes show the amount filters (swapped, formatted, emptied by a reset), except
        a box typed in since its last entry: that text is the user's next word."""
        filters = self.store.filters

        def show():
            texts = amount_text(filters.min_amount), amount_text(filters.max_amount)
            with pn.io.hold():
                for box, name, text in zip((self._min, self._max), ("min_text", "max_text"), texts):
                    if box.value_input != box.value:
                        continue
                    if box.value != text:
                        self._rewritten[name] = (box.value, text)
                    with param.parameterized.discard_events(self):
                        self.param.update({name: text})
                    box.param.update(value=text, value_input=text)
                self.amount_error = ""

        # On the next tick: a box is not updated by the change it sent itself (a swap).
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(show)
            return
        try:
            asyncio.get_running_loop().call_soon(show)
        except RuntimeError:  # no event loop (a unit test): at once
            show()

    def _read_amounts(self, *events):
        """An entered box: its text, with the other box's amount as applied, in one change
        (the last entered texts win, whatever the order the server gets them in)."""
        filters = self.store.filters
        entered = {event.name: event.new for event in events}
        for name, box in (("min_text", self._min), ("max_text", self._max)):
            if name not in entered:
                continue
            was, shown = self._rewritten.get(name, (None, None))
            if entered[name] == was and box.value_input == shown:
                # A late copy of an entry already applied (Panel's Enter event follows
                # Bokeh's change) that arrives after the box was rewritten (a swap).
                del entered[name]
            else:
                self._rewritten.pop(name, None)
        if not entered:
            self._show_amounts()
            return
        try:
            low = parse_amount(entered["min_text"]) if "min_text" in entered else filters.min_amount
            high = (
                parse_amount(entered["max_text"]) if "max_text" in entered else filters.max_amount
            )
        except ValueError as exc:
            self.amount_error = str(exc)
            return
        self.amount_error = ""
        before = (filters.min_amount, filters.max_amount)
        filters.set_amounts(low, high)
        if (filters.min_amount, filters.max_amount) == before:
            self._show_amounts()  # the same range: the boxes still show it as applied

    def _typing(self, event):
        """Apply the search after a short pause in typing (Enter and leaving the box too)."""
        if self._search_timer is not None:
            self._search_timer.stop()
        if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            return
        text = event.new

        def apply():
            self._search_timer = None
            if self._q.value_input == text:
                self.store.filters.q = text[:MAX_Q_LENGTH]

        self._search_timer = pn.state.add_periodic_callback(apply, period=SEARCH_PAUSE_MS, count=1)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Filters", margin=(0, 10)),
            self._preset,
            pn.Row(self._start, self._end, sizing_mode="stretch_width"),
            self._categories,
            pn.Row(self._min, self._max, sizing_mode="stretch_width"),
            self._amount_error,
            self._q,
            self._reset,
            sizing_mode="stretch_width",
        )


class DataPanel(Viewer):
    """Import a bank file (through the import dialog); download the filtered transactions."""

    store = param.ClassSelector(class_=DashboardStore)
    importer = param.ClassSelector(class_=ImportState)

    def __init__(self, **params):
        super().__init__(**params)
        self._open = pn.widgets.Button(
            label="Import a file…",
            color="primary",
            sizing_mode="stretch_width",
            css_classes=["import-open"],
        )
        self._open.on_click(lambda _: self.importer.show())
        self._error = pn.pane.HTML("", visible=False, sizing_mode="stretch_width")
        self._download = pn.widgets.FileDownload(
            callback=self._export,
            filename="transactions.csv",
            label="Download filtered CSV",
            color="default",
            sizing_mode="stretch_width",
            css_classes=["export-button"],
        )

    async def _export(self):
        try:
            content = await self.store.export_csv()
        except ApiError as exc:
            self._error.param.update(
                object=f"<div class='muted'>{html_text(f'Export failed: {exc.message}')}</div>",
                visible=True,
            )
            raise
        self._error.visible = False
        return io.BytesIO(content)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Your data", margin=(0, 10)),
            pn.pane.HTML(
                "<div class='muted'>Import what your bank exports (CSV, OFX, QIF, CAMT.053)."
                "</div>",
                margin=(0, 10),
            ),
            self._open,
            pn.pane.HTML("<hr style='opacity:.3'>", sizing_mode="stretch_width"),
            self._download,
            self._error,
            sizing_mode="stretch_width",
        )
