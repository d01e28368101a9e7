"""The sidebar: the filters, and the data tools (CSV import and filtered export)."""

from __future__ import annotations

import asyncio
import io
import logging

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import ApiError, ImportRejected
from spending_ui.state import MAX_Q_LENGTH, PRESETS, amount_text, parse_amount
from spending_ui.store import DashboardStore
from spending_ui.text import choice_options, html_text

logger = logging.getLogger(__name__)
MAX_ROW_ERRORS_SHOWN = 8
ROW_VALUE_CHARS = 60
# The import result is HTML built from escaped text, never Markdown: Markdown would turn a
# URL or [text](link) inside a file's value or the API's message into a clickable link.
NOTICE_STYLES = {
    "success": "background:#e6f4ea;color:#14532d;border:1px solid #b7dfc3",
    "danger": "background:#fdecea;color:#7f1d1d;border:1px solid #f5c2c0",
}


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
            name="Period",
            sizing_mode="stretch_width",
        )
        self._start = pn.widgets.DatePicker.from_param(
            filters.param.start, name="From", sizing_mode="stretch_width", css_classes=["from-date"]
        )
        self._end = pn.widgets.DatePicker.from_param(
            filters.param.end, name="To", sizing_mode="stretch_width", css_classes=["to-date"]
        )
        self._categories = pn.widgets.MultiChoice.from_param(
            filters.param.categories,
            options=choice_options(sorted({*self.store.categories, *filters.categories})),
            name="Categories",
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
            name="Min amount",
            placeholder="Any",
            sizing_mode="stretch_width",
            css_classes=["min-amount"],
        )
        self._max = pn.widgets.TextInput.from_param(
            self.param.max_text,
            value_input=high,
            name="Max amount",
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
            name="Description contains",
            placeholder="e.g. coffee",
            sizing_mode="stretch_width",
        )
        self._search_timer = None
        self._q.param.watch(self._typing, "value_input")
        self._reset = pn.widgets.Button(
            name="Reset filters", button_type="light", sizing_mode="stretch_width"
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


def import_message(result) -> str:
    return (
        f"Imported {result.inserted:,} new transaction{'s' if result.inserted != 1 else ''}; "
        f"{result.skipped_duplicates:,} duplicate{'s' if result.skipped_duplicates != 1 else ''} "
        f"skipped ({result.total_rows:,} rows read)."
    )


def row_error_text(error) -> str:
    """One problem, for a person: where (line, column), what, and the value as typed."""
    where = f"Line {error.line:,}" if error.line is not None else "The file"
    if error.column:
        where += f", column {error.column}"
    value = f" (“{error.value}”)" if error.value else ""
    return f"{where}: {error.reason}{value}"


def rejection_html(exc: ImportRejected) -> str:
    items = "".join(
        f"<li>{html_text(row_error_text(e))}</li>" for e in exc.errors[:MAX_ROW_ERRORS_SHOWN]
    )
    more = exc.error_count - min(len(exc.errors), MAX_ROW_ERRORS_SHOWN)
    tail = f"<li>… and {more:,} more</li>" if more > 0 else ""
    count = (
        f" ({exc.error_count:,} problem{'s' if exc.error_count != 1 else ''})"
        if exc.error_count
        else ""
    )
    listing = f"<ul>{items}{tail}</ul>" if items or tail else ""
    return f"<b>Nothing was imported.</b> {html_text(exc.message)}{count}{listing}"


class DataPanel(Viewer):
    """Upload a bank CSV; download the filtered transactions as CSV."""

    store = param.ClassSelector(class_=DashboardStore)

    def __init__(self, **params):
        super().__init__(**params)
        self._file = pn.widgets.FileInput(accept=".csv,text/csv", sizing_mode="stretch_width")
        self._upload = pn.widgets.Button(
            name="Import CSV", button_type="primary", disabled=True, sizing_mode="stretch_width"
        )
        self._result = pn.pane.HTML(
            "",
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["import-result"],
        )
        self._download = pn.widgets.FileDownload(
            callback=self._export,
            filename="transactions.csv",
            label="Download filtered CSV",
            button_type="default",
            sizing_mode="stretch_width",
            css_classes=["export-button"],
        )
        self._file.param.watch(self._file_chosen, "value")
        self._upload.on_click(self._import)
        self.store.auth.param.watch(self._forget_result, "status")

    def _forget_result(self, event):
        if event.new != "logged_in":
            self._result.visible = False

    def _file_chosen(self, event):
        self._upload.disabled = not event.new
        self._result.visible = False

    def _show(self, html: str, kind: str) -> None:
        notice = (
            f"<div class='notice notice-{kind}' role='status' style='{NOTICE_STYLES[kind]};"
            f"padding:10px 12px;border-radius:6px'>{html}</div>"
        )
        self._result.param.update(object=notice, visible=True)

    async def _import(self, _):
        content, filename = self._file.value, self._file.filename or "upload.csv"
        if not content:
            return
        self._upload.param.update(disabled=True, name="Importing…")
        try:
            result = await self.store.import_csv(filename, content)
        except ImportRejected as exc:
            self._show(rejection_html(exc), "danger")
        except ApiError as exc:
            message = self.store.auth.handle(exc)
            self._show(html_text(message), "danger")
        else:
            self._show(import_message(result), "success")
        finally:
            self._upload.param.update(disabled=not self._file.value, name="Import CSV")

    async def _export(self):
        try:
            content = await self.store.export_csv()
        except ApiError as exc:
            self._show(html_text(f"Export failed: {exc.message}"), "danger")
            raise
        return io.BytesIO(content)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Your data", margin=(0, 10)),
            pn.pane.HTML("<div class='muted'>Import a bank export (CSV).</div>", margin=(0, 10)),
            self._file,
            self._upload,
            self._result,
            pn.pane.HTML("<hr style='opacity:.3'>", sizing_mode="stretch_width"),
            self._download,
            sizing_mode="stretch_width",
        )
