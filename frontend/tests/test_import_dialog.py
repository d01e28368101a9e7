"""The import dialog against httpx.MockTransport: the first preview asks with no options, the
user's changes are sent with the next preview and the import, outcomes are escaped lists."""

from __future__ import annotations

import asyncio
import copy
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest

from spending_api.ingest.model import ROLES
from spending_ui.api import ApiClient, ImportRejected, ImportResult, RowError, SkippedRow
from spending_ui.importing import IGNORE, ImportState
from spending_ui.state import AuthState, Filters
from spending_ui.store import DashboardStore
from spending_ui.views.import_dialog import (
    ImportDialog,
    preview_table_html,
    result_html,
)

ACCOUNTS = [
    {"id": 1, "name": "Main account", "kind": "checking", "currency": "EUR", "institution": None},
    {"id": 2, "name": "<b>Visa</b>", "kind": "credit_card", "currency": "USD", "institution": None},
]
METRICS = {
    "total_spend": 12.5,
    "transaction_count": 1,
    "average_monthly_spend": 12.5,
    "average_transaction": 12.5,
    "first_transaction": "2026-03-02",
    "last_transaction": "2026-03-02",
    "top_categories": [{"category": "Groceries", "total": 12.5, "count": 1, "share": 1.0}],
    "spend_over_time": [{"period_start": "2026-03-01", "total": 12.5, "count": 1, "income": 0}],
    "total_income": 0.0,
    "net_savings": -12.5,
    "savings_rate": None,
    "income_categories": [],
}
PREVIEW = {
    "detection": {
        "format": "csv",
        "encoding": "cp1252",
        "delimiter": ";",
        "header_line": 1,
        "header": ["Buchungstag", "Verwendungszweck", "Betrag (EUR)", "Saldo", "Info"],
        "columns": [
            {"index": 0, "name": "Buchungstag", "role": "date"},
            {"index": 1, "name": "Verwendungszweck", "role": "description"},
            {"index": 2, "name": "Betrag (EUR)", "role": "amount"},
            {"index": 3, "name": "Saldo", "role": "balance"},
        ],
        "mapping": {"date": [0], "description": [1], "amount": [2], "balance": [3]},
        "date_format": "DD.MM.YYYY",
        "amount_sign": "spend_negative",
        "decimal_separator": ",",
        "currency": "EUR",
        "undecided": [],
        "roles": list(ROLES),  # the API's own list, as its preview answers it
    },
    "rows": [
        {
            "line": 2,
            "timestamp": "2026-03-02T00:00:00",
            "amount": 12.5,
            "description": "<img src=x onerror=alert(1)>",
            "notes": None,
            "category": None,
            "type": None,
            "currency": "EUR",
            "external_id": None,
            "kind_hint": None,
        },
        {
            "line": 3,
            "timestamp": "2026-03-03T00:00:00",
            "amount": -2000.0,
            "description": "Salary",
            "notes": "REF 1",
            "category": None,
            "type": None,
            "currency": "EUR",
            "external_id": None,
            "kind_hint": "income",
        },
    ],
    "skipped_rows": [{"line": 4, "reason": "<i>pending</i>"}],
    "skipped_row_count": 1,
    "problems": [],
    "problem_count": 0,
    "message": None,
}
IMPORTED = {
    "inserted": 2,
    "skipped_duplicates": 0,
    "total_rows": 3,
    "skipped_rows": [{"line": 4, "reason": "pending"}],
    "skipped_row_count": 1,
    "import_id": 5,
    "account_id": 2,
}


def run(coro):
    """Run a coroutine on its own thread: a browser test may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def form_fields(request: httpx.Request) -> dict[str, str]:
    """The multipart body's plain fields (not the file)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    return {
        part.get_param("name", header="content-disposition"): part.get_content()
        for part in message.iter_parts()
        if not part.get_filename()
    }


class Api:
    """A fake API answering in MODEL.md's shapes; it records every request."""

    def __init__(self, preview=PREVIEW, imported=IMPORTED):
        self.requests: list[tuple[str, str, list, dict]] = []
        self.preview = preview
        self.imported = imported
        self.accounts = copy.deepcopy(ACCOUNTS)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        fields = form_fields(request) if path.startswith("/transactions/import") else {}
        self.requests.append((request.method, path, request.url.params.multi_items(), fields))
        if path == "/accounts" and request.method == "POST":
            body = json.loads(request.content)
            account = {"id": 3, "institution": None, **body}
            self.accounts.append(account)
            return httpx.Response(201, json=account)
        if path == "/accounts":
            return httpx.Response(200, json=self.accounts)
        if path == "/transactions/import/preview":
            return httpx.Response(200, json=self.preview)
        if path == "/transactions/import":
            return self.imported
        if path == "/metrics":
            return httpx.Response(200, json=METRICS)
        if path == "/categories":
            return httpx.Response(
                200, json=[{"id": 1, "name": "Groceries", "kind": "spending", "count": 1}]
            )
        return httpx.Response(200, json=[], headers={"X-Total-Count": "0"})

    def calls(self, path: str) -> list:
        return [(query, fields) for _, p, query, fields in self.requests if p == path]


def importer_for(api: Api) -> ImportState:
    auth = AuthState(ApiClient("http://api.test", token="tok", transport=httpx.MockTransport(api)))
    auth.status = "logged_in"
    store = DashboardStore(auth, filters=Filters(today=date(2026, 3, 31)))
    run(store.load_accounts())
    return ImportState(store=store)


def test_a_new_file_is_previewed_with_no_options_and_the_form_shows_the_detection():
    api = Api()
    state = importer_for(api)
    state.show()
    assert state.open and state.account_id == 1
    run(state.choose_file("giro.csv", b"data"))
    [(query, fields)] = api.calls("/transactions/import/preview")
    # No options: the account's saved profile (or the detection) decides.
    assert query == [] and fields == {"account_id": "1"}
    assert state.roles == {0: "date", 1: "description", 2: "amount", 3: "balance", 4: IGNORE}
    # The detected date format is a name, shown as the box's hint; the box takes strftime.
    assert (state.has_header, state.date_format, state.amount_sign, state.encoding) == (
        "yes",
        "",
        "spend_negative",
        "cp1252",
    )
    assert state.decided == [] and state.column_name(4) == "Info"
    assert state.new_currency == "EUR"  # a new account would take the file's currency


def test_the_users_changes_are_sent_with_the_next_preview_and_the_import():
    api = Api(imported=httpx.Response(200, json=IMPORTED))
    state = importer_for(api)
    state.show()
    run(state.choose_file("giro.csv", b"data"))
    run(state.choose_account(2))  # another account: previewed again for it
    assert api.calls("/transactions/import/preview")[-1] == ([], {"account_id": "2"})
    state.set_role(4, "notes")
    state.set_role(3, IGNORE)
    state.date_format = "%d.%m.%y"
    state.amount_sign = "spend_positive"
    assert sorted(state.decided) == ["amount_sign", "date_format", "roles"]
    run(state.refresh_preview())
    query, fields = api.calls("/transactions/import/preview")[-1]
    assert fields == {"account_id": "2"}
    assert dict(query) == {
        "mapping": '{"date":0,"description":1,"amount":2,"notes":4}',
        "date_format": "%d.%m.%y",
        "amount_sign": "spend_positive",
    }
    # The second preview answered the old detection: what the user decided stays decided.
    assert state.roles[4] == "notes" and state.date_format == "%d.%m.%y"
    assert state.encoding == "cp1252"  # not decided: shown as detected, not sent

    result = run(state.confirm())
    [(import_query, import_fields)] = api.calls("/transactions/import")
    assert (import_query, import_fields) == (query, fields)
    assert result.inserted == 2 and state.result is result
    # Every view shows the new data: metrics, table and categories again, and the accounts.
    after = [path for _, path, _, _ in api.requests[-8:]]
    assert sorted(after) == [
        "/accounts",
        "/categories",
        "/metrics",
        "/metrics",
        "/rules",
        "/rules/proposals",
        "/transactions",
        "/transactions",  # the review queue
    ]
    assert state.store.metrics is not None and state.store.categories == ["Groceries"]


def test_a_guess_the_file_leaves_undecided_is_confirmed_by_sending_what_is_shown():
    preview = copy.deepcopy(PREVIEW)
    found = preview["detection"]
    found.update(header=None, header_line=None, undecided=["The columns were guessed"])
    for column in found["columns"]:
        column["name"] = None
    api = Api(preview=preview, imported=httpx.Response(200, json=IMPORTED))
    state = importer_for(api)
    state.show()
    run(state.choose_file("headerless.csv", b"data"))
    assert state.has_header == "no" and state.column_name(0) == "Column 1"
    run(state.confirm())
    [(query, _)] = api.calls("/transactions/import")
    assert dict(query) == {
        "mapping": '{"date":0,"description":1,"amount":2,"balance":3}',
        "has_header": "false",
        "amount_sign": "spend_negative",
        "encoding": "cp1252",
    }


def test_a_standard_format_sends_no_csv_options():
    preview = copy.deepcopy(PREVIEW)
    preview["detection"].update(
        format="ofx",
        delimiter=None,
        header=None,
        header_line=None,
        columns=[],
        mapping={},
        date_format=None,
        amount_sign=None,
    )
    api = Api(preview=preview)
    state = importer_for(api)
    state.show()
    run(state.choose_file("bank.ofx", b"OFXHEADER:100"))
    state.date_format = "%Y"  # not offered for OFX; never sent for it
    state.encoding = "latin-1"
    run(state.refresh_preview())
    query, _ = api.calls("/transactions/import/preview")[-1]
    assert query == [("encoding", "latin-1")]


def test_a_refused_import_lists_its_rows_escaped_and_nothing_is_refreshed():
    detail = {
        "message": "1 row is invalid",
        "error_count": 1,
        "errors": [{"line": 7, "column": "amount", "value": "<script>", "reason": "not a number"}],
    }
    api = Api(imported=httpx.Response(422, json={"detail": detail}))
    state = importer_for(api)
    state.show()
    run(state.choose_file("giro.csv", b"data"))
    before = len(api.requests)
    assert run(state.confirm()) is None
    assert isinstance(state.rejection, ImportRejected) and state.result is None
    assert [p for _, p, _, _ in api.requests[before:]] == ["/transactions/import"]
    html = result_html(state.result, state.rejection, state.message)
    assert "Nothing was imported." in html
    assert "Line 7, column amount: not a number (“&lt;script&gt;”)" in html
    assert "<script>" not in html


def test_outcomes_name_lines_without_python_quoting_or_zero_counts():
    rejected = ImportRejected(
        "Some rows could not be read.",
        error_count=2,
        errors=[
            RowError(line=3, column="amount", value="12,3,4", reason="not an amount"),
            RowError(line=None, column=None, value=None, reason="no date column"),
        ],
    )
    html = result_html(None, rejected, "")
    assert "Line 3, column amount: not an amount (“12,3,4”)" in html
    assert "The file: no date column" in html
    assert "'12,3,4'" not in html and "Line ?" not in html and html.count("(2 problems)") == 1
    whole_file = result_html(
        None, ImportRejected("The file is empty.", error_count=0, errors=[]), ""
    )
    assert "(0 problems)" not in whole_file and "<ul>" not in whole_file
    done = ImportResult(
        inserted=1,
        skipped_duplicates=3,
        total_rows=5,
        skipped_rows=[SkippedRow(line=9, reason="<b>zero</b> amount")],
        skipped_row_count=1,
    )
    html = result_html(done, None, "")
    assert "Imported 1 new transaction; 3 duplicates skipped (5 rows read)." in html
    assert "Line 9: &lt;b&gt;zero&lt;/b&gt; amount" in html


def test_the_preview_table_escapes_the_files_text_and_marks_money_in():
    api = Api()
    state = importer_for(api)
    state.show()
    run(state.choose_file("giro.csv", b"data"))
    html = preview_table_html(state.preview)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "2,000.00 in" in html and "data-rows='2'" in html
    dialog = ImportDialog(state=state)
    dialog._show_roles()
    notes = dialog._notes.object
    notes = notes() if callable(notes) else notes
    assert "&lt;i&gt;pending&lt;/i&gt;" in str(notes)


def test_the_dialog_has_a_role_box_per_column_and_every_option():
    api = Api()
    state = importer_for(api)
    dialog = ImportDialog(state=state)
    assert dialog._card is None  # made when first opened, not with every login
    state.show()
    assert dialog._card.visible and dialog.__panel__().objects == [dialog._card]
    run(state.choose_file("giro.csv", b"data"))
    widgets = dialog._role_widgets
    assert sorted(widgets) == [0, 1, 2, 3, 4]
    assert dialog._date_format.placeholder == "detected: DD.MM.YYYY"
    assert widgets[4].label == "Info" and widgets[4].value == IGNORE
    # The roles are the API's (its preview lists them), not a copy kept here.
    assert set(widgets[0].options.values()) == {IGNORE, *ROLES}
    assert widgets[0].options["Other party's account"] == "counter_account"
    widgets[4].value = "payee"  # the user's choice lands in the state as theirs
    assert state.roles[4] == "payee" and "roles" in state.decided
    for widget in (dialog._has_header, dialog._date_format, dialog._amount_sign, dialog._encoding):
        assert widget.visible
    # The account list: labels as text (Bokeh escapes them), one entry per account.
    assert list(dialog._account.options.values()) == [1, 2]
    assert not dialog._confirm.disabled
    state.close()
    assert not dialog._card.visible and state.content is None and state.preview is None


def test_a_new_account_is_created_chosen_and_the_file_previewed_for_it():
    api = Api()
    state = importer_for(api)
    state.show()
    run(state.choose_file("card.csv", b"data"))
    state.param.update(new_name="  ", new_currency="usd")
    assert not run(state.create_account()) and "name" in state.message
    state.param.update(new_name="Amex", new_kind="credit_card", new_currency="us")
    assert not run(state.create_account()) and "three-letter" in state.message
    state.new_currency = "usd"
    assert run(state.create_account())
    post = next(r for r in api.requests if r[0] == "POST" and r[1] == "/accounts")
    assert post[1] == "/accounts"
    assert state.account_id == 3 and [a.id for a in state.store.accounts] == [1, 2, 3]
    assert api.calls("/transactions/import/preview")[-1][1] == {"account_id": "3"}
    assert state.message == "" and state.new_name == ""


@pytest.mark.parametrize("status", [409, 422])
def test_an_account_the_api_refuses_is_its_sentence(status):
    api = Api()

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/accounts":
            return httpx.Response(status, json={"detail": "An account with this name exists"})
        return api(request)

    auth = AuthState(
        ApiClient("http://api.test", token="tok", transport=httpx.MockTransport(refusing))
    )
    auth.status = "logged_in"
    state = ImportState(store=DashboardStore(auth, filters=Filters(today=date(2026, 3, 31))))
    state.param.update(new_name="Main account", new_currency="EUR")
    assert not run(state.create_account())
    assert "An account with this name exists" in state.message


def test_a_file_that_cannot_be_read_keeps_the_form_to_give_the_missing_option():
    refused = {
        "message": "The dates are in a format that was not recognised",
        "error_count": 0,
        "errors": [],
    }
    answers = [httpx.Response(422, json={"detail": refused}), httpx.Response(200, json=PREVIEW)]
    api = Api()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/transactions/import/preview":
            api(request)
            return answers.pop(0)
        return api(request)

    auth = AuthState(
        ApiClient("http://api.test", token="tok", transport=httpx.MockTransport(handler))
    )
    auth.status = "logged_in"
    state = ImportState(store=DashboardStore(auth, filters=Filters(today=date(2026, 3, 31))))
    dialog = ImportDialog(state=state)
    state.show()
    run(state.choose_file("odd.csv", b"data"))
    assert state.preview is None and state.preview_rejection is not None
    notes = str(dialog._notes.object() if callable(dialog._notes.object) else dialog._notes.object)
    assert "cannot be read with these options" in notes and "not recognised" in notes
    assert dialog._options.visible and dialog._date_format.visible
    assert dialog._confirm.disabled and not dialog._preview_button.disabled
    state.date_format = "%d %b %y"
    run(state.refresh_preview())
    query, _ = api.calls("/transactions/import/preview")[-1]
    assert query == [("date_format", "%d %b %y")]
    assert state.preview is not None and state.preview_rejection is None
    assert state.date_format == "%d %b %y" and not dialog._confirm.disabled


def test_a_role_the_preview_did_not_apply_is_pointed_out():
    api = Api()
    state = importer_for(api)
    dialog = ImportDialog(state=state)
    state.show()
    run(state.choose_file("giro.csv", b"data"))
    assert state.roles_not_applied() == []
    state.set_role(3, IGNORE)
    notes = dialog._notes.object
    notes = str(notes() if callable(notes) else notes)
    assert "Saldo was read as balance, not ignore" in state.roles_not_applied()[0]
    assert "Not as chosen" in notes and "Preview again" in notes
    # The API still reads Saldo as the balance (its detected role stays unless another column
    # takes it): the form keeps the user's choice and keeps saying so.
    run(state.refresh_preview())
    assert state.roles[3] == IGNORE and state.roles_not_applied()


def test_the_roles_offered_are_the_ones_the_api_answers():
    preview = copy.deepcopy(PREVIEW)
    preview["detection"]["roles"] = ["date", "amount", "description", "balance", "fx_rate"]
    preview["detection"]["columns"].append({"index": 4, "name": "Info", "role": "fx_rate"})
    api = Api(preview=preview)
    state = importer_for(api)
    dialog = ImportDialog(state=state)
    state.show()
    run(state.choose_file("giro.csv", b"data"))

    assert state.role_choices == (IGNORE, "date", "amount", "description", "balance", "fx_rate")
    assert state.roles[4] == "fx_rate"  # a role added to the API since: read, shown by name
    assert dialog._role_widgets[4].options["Fx rate"] == "fx_rate"
    with pytest.raises(ValueError):
        state.set_role(4, "payee")  # not a role this API takes
