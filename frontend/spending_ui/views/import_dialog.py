"""The import dialog: account, file, what was detected (columns and their roles, date format,
sign, header, encoding), the preview of the first rows, then the import and what it skipped.

Every string from the file, the API or the user is shown through spending_ui/text.py.
"""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from spending_ui.api import ACCOUNT_KINDS, ImportPreview, ImportRejected, ImportResult
from spending_ui.importing import (
    DETECT,
    IGNORE,
    ImportState,
)
from spending_ui.text import DESCRIPTION_CHARS, LABEL_CHARS, html_text, plain
from spending_ui.theme import money
from spending_ui.views.on_demand import built_when

ACCEPT = ".csv,.txt,.tsv,.ofx,.qfx,.qif,.xml,.sta"
MAX_LISTED = 50  # skipped rows and problems listed; the rest are counted
ROLE_LABELS = {
    IGNORE: "(ignore)",
    "date": "Date",
    "amount": "Amount",
    "debit": "Debit (money out)",
    "credit": "Credit (money in)",
    "direction": "Direction (D/C, in/out)",
    "description": "Description",
    "payee": "Payee / merchant",
    "category": "Category",
    "type": "Type",
    "currency": "Currency",
    "balance": "Balance",
    "notes": "Notes / reference",
    "time": "Time of day",
    "status": "Status (pending)",
    "id": "Bank's transaction id",
    "counter_account": "Other party's account",
}


def role_label(role: str) -> str:
    """The label of a role; one the API added since this list was written shows its name."""
    return ROLE_LABELS.get(role) or role.replace("_", " ").capitalize()


HEADER_LABELS = {DETECT: "Detect", "yes": "Yes", "no": "No (first row is data)"}
SIGN_LABELS = {
    DETECT: "Detect",
    "spend_positive": "Spending is positive",
    "spend_negative": "Spending is negative",
}
DIALOG_CSS = """
.import-preview { overflow-x: auto; }
.import-preview table { border-collapse: collapse; width: 100%; font-size: 13px; }
.import-preview th, .import-preview td { padding: 3px 6px; border-bottom: 1px solid #8883;
  text-align: left; vertical-align: top; }
.import-preview td.amount { text-align: right; white-space: nowrap; }
.import-list ul { margin: 4px 0 0 0; padding-left: 20px; max-height: 220px; overflow-y: auto; }
.import-undecided { color: #8a5a00; }
"""
NOTICE_STYLES = {
    "success": "background:#e6f4ea;color:#14532d;border:1px solid #b7dfc3",
    "danger": "background:#fdecea;color:#7f1d1d;border:1px solid #f5c2c0",
    "info": "background:#eef3fc;color:#1e3a6e;border:1px solid #c5d5f2",
}


def _notice(html: str, kind: str) -> str:
    return (
        f"<div class='notice notice-{kind}' role='status' style='{NOTICE_STYLES[kind]};"
        f"padding:10px 12px;border-radius:6px'>{html}</div>"
    )


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def skipped_html(rows, count: int, title: str) -> str:
    """The rows left out on purpose, line and reason, as an escaped list."""
    if not count and not rows:
        return ""
    items = "".join(f"<li>{html_text(skipped_text(r))}</li>" for r in rows[:MAX_LISTED])
    more = count - min(len(rows), MAX_LISTED)
    tail = f"<li>… and {more:,} more</li>" if more > 0 else ""
    return (
        f"<div class='import-list import-skipped'><b>{html_text(title)}</b>"
        f" ({_plural(count, 'row')})<ul>{items}{tail}</ul></div>"
    )


def skipped_text(row) -> str:
    where = f"Line {row.line:,}" if row.line is not None else "The file"
    return f"{where}: {plain(row.reason, DESCRIPTION_CHARS)}"


def problems_html(errors, count: int, title: str) -> str:
    """The file's bad rows: line, column, the value found and why, as an escaped list."""
    if not count and not errors:
        return ""
    items = "".join(f"<li>{html_text(problem_text(e))}</li>" for e in errors[:MAX_LISTED])
    more = count - min(len(errors), MAX_LISTED)
    tail = f"<li>… and {more:,} more</li>" if more > 0 else ""
    return (
        f"<div class='import-list import-problems'><b>{html_text(title)}</b>"
        f" ({_plural(count, 'problem')})<ul>{items}{tail}</ul></div>"
    )


def problem_text(error) -> str:
    where = f"Line {error.line:,}" if error.line is not None else "The file"
    if error.column:
        where += f", column {error.column}"
    value = f" (“{plain(error.value, DESCRIPTION_CHARS)}”)" if error.value else ""
    return f"{where}: {error.reason}{value}"


def detection_html(preview: ImportPreview | None) -> str:
    if preview is None:
        return ""
    found = preview.detection
    facts = [f"Format: {found.format.upper()}"]
    if found.encoding:
        facts.append(f"encoding {found.encoding}")
    if found.delimiter:
        shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(
            found.delimiter, found.delimiter
        )
        facts.append(f"separator {shown}")
    if found.format == "csv":
        facts.append(
            f"header on line {found.header_line}" if found.header_line else "no header row"
        )
    if found.date_format:
        facts.append(f"dates {found.date_format}")
    if found.currency:
        facts.append(f"currency {found.currency}")
    parts = [f"<div class='muted'>{html_text(' · '.join(facts))}</div>"]
    if found.undecided:
        items = "".join(f"<li>{html_text(u)}</li>" for u in found.undecided)
        parts.append(
            "<div class='import-undecided'><b>Please check:</b> the file does not say this "
            f"for sure; importing confirms what is shown.<ul>{items}</ul></div>"
        )
    return "".join(parts)


def preview_table_html(preview: ImportPreview | None) -> str:
    """The first rows as they would be stored; amounts as money out / money in."""
    if preview is None:
        return ""
    if not preview.rows:
        return "<div class='muted'>No transaction rows were found with these options.</div>"
    head = (
        "<tr><th>Line</th><th>Date</th><th>Description</th><th>Category</th>"
        "<th>Type</th><th>Notes</th><th>Amount</th></tr>"
    )
    body = []
    for row in preview.rows:
        amount = (
            f"{money(row.amount)}"
            if row.amount >= 0
            else f"<span class='money-in'>{money(-row.amount)} in</span>"
        )
        when = f"{row.timestamp:%Y-%m-%d}" + (
            f" {row.timestamp:%H:%M}" if row.timestamp.time().isoformat() != "00:00:00" else ""
        )
        body.append(
            f"<tr data-line='{row.line}'><td>{row.line}</td><td>{when}</td>"
            f"<td>{html_text(row.description, DESCRIPTION_CHARS)}</td>"
            f"<td>{html_text(row.category or '', LABEL_CHARS)}</td>"
            f"<td>{html_text(row.type or '', LABEL_CHARS)}</td>"
            f"<td>{html_text(row.notes or '', DESCRIPTION_CHARS)}</td>"
            f"<td class='amount'>{amount}</td></tr>"
        )
    caption = f"The first {_plural(len(preview.rows), 'row')} as they would be stored"
    return (
        f"<div class='import-preview'><div class='muted'>{html_text(caption)}</div>"
        f"<table class='import-rows' data-rows='{len(preview.rows)}'>{head}{''.join(body)}"
        "</table></div>"
    )


def preview_notes_html(preview: ImportPreview | None, refused: ImportRejected | None = None):
    """Why the import would be refused as it is, and the rows it would leave out."""
    if refused is not None:
        listing = problems_html(refused.errors, refused.error_count, "Problems")
        return _notice(
            "<b>The file cannot be read with these options.</b> "
            f"{html_text(refused.message)}{listing}",
            "danger",
        )
    if preview is None:
        return ""
    parts = []
    if preview.message:
        parts.append(_notice(html_text(preview.message), "danger"))
    parts.append(problems_html(preview.problems, preview.problem_count, "Problems"))
    parts.append(
        skipped_html(preview.skipped_rows, preview.skipped_row_count, "Rows that will be skipped")
    )
    return "".join(parts)


def mismatch_html(sentences: list[str]) -> str:
    if not sentences:
        return ""
    items = "".join(f"<li>{html_text(s)}</li>" for s in sentences)
    return (
        "<div class='import-undecided import-mismatch'><b>Not as chosen:</b> press "
        f"<i>Preview again</i> to read the file with your choices.<ul>{items}</ul></div>"
    )


def result_html(result: ImportResult | None, rejection: ImportRejected | None, message: str):
    if message:
        return _notice(html_text(message), "danger")
    if rejection is not None:
        listing = problems_html(rejection.errors, rejection.error_count, "Problems")
        return _notice(
            f"<b>Nothing was imported.</b> {html_text(rejection.message)}{listing}", "danger"
        )
    if result is None:
        return ""
    text = (
        f"Imported {_plural(result.inserted, 'new transaction')}; "
        f"{_plural(result.skipped_duplicates, 'duplicate')} skipped "
        f"({_plural(result.total_rows, 'row')} read)."
    )
    listing = skipped_html(result.skipped_rows, result.skipped_row_count, "Rows left out")
    return _notice(f"{html_text(text)}{listing}", "success")


def account_options(accounts) -> dict[str, int]:
    """{label: id} for a Select (Bokeh draws option labels as text: no HTML escaping)."""
    options: dict[str, int] = {}
    for account in accounts:
        label = f"{plain(account.name, LABEL_CHARS)} ({plain(account.currency)})"
        if label in options:
            label = f"{label} #{account.id}"
        options[label] = account.id
    return options


class ImportDialog(Viewer):
    """Shown over the dashboard's main area while `state.open`."""

    state = param.ClassSelector(class_=ImportState)

    def __init__(self, **params):
        super().__init__(**params)
        self._card: pn.Card | None = None  # made when the dialog is first opened
        self._view = built_when(self.state.param.open, self._build)

    def _build(self) -> pn.Card:
        state = self.state
        store = state.store
        self._account = pn.widgets.Select(
            label="Account",
            options=account_options(store.accounts),
            value=state.account_id,
            sizing_mode="stretch_width",
            css_classes=["import-account"],
        )
        self._account.param.watch(self._account_chosen, "value")
        self._new_name = pn.widgets.TextInput.from_param(
            state.param.new_name, label="New account name", placeholder="e.g. Visa card"
        )
        self._new_kind = pn.widgets.Select.from_param(
            state.param.new_kind,
            label="Kind",
            options={label: key for key, label in ACCOUNT_KINDS.items()},
        )
        self._new_currency = pn.widgets.TextInput.from_param(
            state.param.new_currency, label="Currency", placeholder="EUR", max_length=3, width=90
        )
        self._create = pn.widgets.Button(label="Create account", color="default")
        self._create.on_click(self._create_clicked)
        self._file = pn.widgets.FileInput(
            accept=ACCEPT, sizing_mode="stretch_width", css_classes=["import-file"]
        )
        self._file.param.watch(self._file_chosen, "value")

        self._has_header = pn.widgets.Select.from_param(
            state.param.has_header,
            label="Header row",
            options={label: key for key, label in HEADER_LABELS.items()},
        )
        self._date_format = pn.widgets.TextInput.from_param(
            state.param.date_format,
            label="Date format (strftime)",
            placeholder="detected",
            css_classes=["import-date-format"],
        )
        self._amount_sign = pn.widgets.Select.from_param(
            state.param.amount_sign,
            label="Amount sign",
            options={label: key for key, label in SIGN_LABELS.items()},
            css_classes=["import-amount-sign"],
        )
        self._encoding = pn.widgets.TextInput.from_param(
            state.param.encoding, label="Encoding", placeholder="e.g. cp1252"
        )
        self._roles = pn.FlexBox(sizing_mode="stretch_width", css_classes=["import-roles"])
        self._role_widgets: dict[int, pn.widgets.Select] = {}
        self._preview_button = pn.widgets.Button(
            label="Preview again", color="default", disabled=True
        )
        self._preview_button.on_click(self._preview_clicked)
        self._confirm = pn.widgets.Button(
            label="Import", color="primary", disabled=True, css_classes=["import-confirm"]
        )
        self._confirm.on_click(self._confirm_clicked)
        self._close = pn.widgets.Button(label="Close", color="light")
        self._close.on_click(lambda _: state.close())

        self._detection = pn.pane.HTML(
            pn.bind(detection_html, state.param.preview),
            stylesheets=[DIALOG_CSS],
            sizing_mode="stretch_width",
            css_classes=["import-detection"],
        )
        self._table = pn.pane.HTML(
            pn.bind(preview_table_html, state.param.preview),
            stylesheets=[DIALOG_CSS],
            sizing_mode="stretch_width",
            css_classes=["import-table"],
        )
        self._notes = pn.pane.HTML(
            pn.bind(
                self._notes_html,
                state.param.preview,
                state.param.preview_rejection,
                state.param.roles,
                state.param.decided,
            ),
            stylesheets=[DIALOG_CSS],
            sizing_mode="stretch_width",
            css_classes=["import-notes"],
        )
        self._result = pn.pane.HTML(
            pn.bind(result_html, state.param.result, state.param.rejection, state.param.message),
            stylesheets=[DIALOG_CSS],
            sizing_mode="stretch_width",
            css_classes=["import-result"],
        )
        self._roles_title = pn.pane.HTML(
            "<b>Columns</b> (choose what each one holds)", margin=(5, 10, 0, 10), visible=False
        )
        self._options = pn.Column(
            self._roles_title,
            self._roles,
            pn.FlexBox(self._has_header, self._date_format, self._amount_sign, self._encoding),
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["import-options"],
        )
        self._card = pn.Card(
            pn.Row(self._account, sizing_mode="stretch_width"),
            pn.FlexBox(
                self._new_name, self._new_kind, self._new_currency, self._create, align="end"
            ),
            pn.pane.HTML(
                "<div class='muted'>CSV, OFX/QFX, QIF or CAMT.053 as your bank exports it."
                "</div>",
                margin=(0, 10),
            ),
            self._file,
            self._detection,
            self._options,
            self._notes,
            self._table,
            pn.Row(self._preview_button, self._confirm, self._close),
            self._result,
            title="Import a bank file",
            collapsible=False,
            visible=state.open,
            sizing_mode="stretch_width",
            margin=8,
            css_classes=["import-dialog"],
        )
        store.param.watch(self._accounts_changed, "accounts")
        state.param.watch(self._show_roles, ["preview", "roles", "content"])
        state.param.watch(self._buttons, ["content", "busy", "preview"])
        state.param.watch(self._account_shown, "account_id")
        state.param.watch(self._opened, "open")
        self._show_roles()
        self._buttons()
        return self._card

    # -- state -> widgets -----------------------------------------------------------------

    def _opened(self, event) -> None:
        with pn.io.hold():
            if event.new:
                self._file.value = None
                self._account.param.update(
                    options=account_options(self.state.store.accounts),
                    value=self.state.account_id,
                )
            self._card.visible = event.new

    def _accounts_changed(self, event) -> None:
        self._account.param.update(options=account_options(event.new), value=self.state.account_id)

    def _account_shown(self, event) -> None:
        if self._account.value != event.new:
            self._account.value = event.new

    def _buttons(self, *_) -> None:
        state = self.state
        ready = bool(state.content) and not state.busy
        with pn.io.hold():
            self._preview_button.disabled = not ready
            self._confirm.disabled = not ready or state.preview is None
            self._confirm.label = "Importing…" if state.busy else "Import"

    def _show_roles(self, *_) -> None:
        state = self.state
        # Also shown when the file could not be read: an option may be what it needs.
        csv = state.is_csv
        with pn.io.hold():
            self._options.visible = bool(state.content)
            for widget in (self._has_header, self._date_format, self._amount_sign):
                widget.visible = csv
            found = state.preview.detection if state.preview else None
            self._date_format.placeholder = (
                f"detected: {found.date_format}" if found and found.date_format else "e.g. %d/%m/%Y"
            )
            self._roles.visible = self._roles_title.visible = csv and bool(state.roles)
            if not csv:
                return
            indexes = sorted(state.roles)
            if indexes != sorted(self._role_widgets):
                self._role_widgets = {i: self._role_select(i) for i in indexes}
                self._roles.objects = list(self._role_widgets.values())
            for index, widget in self._role_widgets.items():
                widget.param.update(
                    label=plain(state.column_name(index), LABEL_CHARS),
                    value=state.roles.get(index, IGNORE),
                )

    def _role_select(self, index: int) -> pn.widgets.Select:
        widget = pn.widgets.Select(
            options={role_label(role): role for role in self.state.role_choices},
            value=self.state.roles.get(index, IGNORE),
            width=170,
            css_classes=["import-role", f"import-role-{index}"],
        )

        def changed(event):
            if self.state.roles.get(index) != event.new:
                self.state.set_role(index, event.new)

        widget.param.watch(changed, "value")
        return widget

    def _notes_html(self, preview, refused, *_roles_and_decided) -> str:
        return mismatch_html(self.state.roles_not_applied()) + preview_notes_html(preview, refused)

    # -- widgets -> state -----------------------------------------------------------------

    async def _account_chosen(self, event) -> None:
        await self.state.choose_account(event.new)

    async def _file_chosen(self, event) -> None:
        if event.new:
            await self.state.choose_file(self._file.filename or "upload.csv", event.new)

    async def _create_clicked(self, _) -> None:
        await self.state.create_account()

    async def _preview_clicked(self, _) -> None:
        await self.state.refresh_preview()

    async def _confirm_clicked(self, _) -> None:
        await self.state.confirm()

    def __panel__(self):
        return self._view
