"""The import dialog's state: the file, the account, the options the user decided, the
preview the API answered for them, and the import's outcome. The widgets are in
views/import_dialog.py.

The flow: a file is chosen -> preview with no options (the API applies the account's saved
profile or detects) -> the form shows what was detected -> every change the user makes is
remembered as theirs and sent with the next preview and with the import.
"""

from __future__ import annotations

import logging

import param

from spending_ui.api import (
    ACCOUNT_KINDS,
    AMOUNT_SIGNS,
    ApiError,
    ImportOptions,
    ImportPreview,
    ImportRejected,
    ImportResult,
)
from spending_ui.store import DashboardStore

logger = logging.getLogger(__name__)

IGNORE = "ignore"
DETECT = "detect"
HEADER_CHOICES = (DETECT, "yes", "no")
SIGN_CHOICES = (DETECT, *AMOUNT_SIGNS)
# What the user can decide; each is sent only once they decided it (or to confirm a guess).
OPTION_FIELDS = ("roles", "has_header", "date_format", "amount_sign", "encoding")
CURRENCY_LENGTH = 3


class ImportState(param.Parameterized):
    store = param.ClassSelector(class_=DashboardStore)
    open = param.Boolean(default=False, doc="The dialog is shown")
    filename = param.String(default="")
    content = param.Bytes(default=None, allow_None=True, precedence=-1)
    account_id = param.Integer(default=None, allow_None=True)

    # The options, as the form shows them (detected values until the user changes one).
    roles = param.Dict(default={}, doc="column index -> role, or 'ignore'")
    has_header = param.Selector(default=DETECT, objects=list(HEADER_CHOICES))
    date_format = param.String(default="")
    amount_sign = param.Selector(default=DETECT, objects=list(SIGN_CHOICES))
    encoding = param.String(default="")
    decided = param.List(default=[], item_type=str, doc="The options the user changed")

    preview = param.ClassSelector(class_=ImportPreview, default=None, allow_None=True)
    result = param.ClassSelector(class_=ImportResult, default=None, allow_None=True)
    rejection = param.ClassSelector(class_=ImportRejected, default=None, allow_None=True)
    preview_rejection = param.ClassSelector(
        class_=ImportRejected, default=None, allow_None=True, doc="The file cannot be read so"
    )
    message = param.String(default="", doc="Why the last request failed (not the file's rows)")
    busy = param.Boolean(default=False)

    # The new-account form.
    new_name = param.String(default="")
    new_kind = param.Selector(default="checking", objects=list(ACCOUNT_KINDS))
    new_currency = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        self._filling = False  # the form is being set from a preview: not the user's decision
        self.param.watch(self._option_changed, list(OPTION_FIELDS))

    # -- what the user decided ------------------------------------------------------------

    def _option_changed(self, *events) -> None:
        if self._filling:
            return
        decided = list(self.decided)
        for event in events:
            if event.name not in decided:
                decided.append(event.name)
        self.decided = decided

    @property
    def role_choices(self) -> tuple[str, ...]:
        """'ignore' and the roles the API's last preview lists (there are no columns to
        give a role to before a preview)."""
        roles = self.preview.detection.roles if self.preview else ()
        return (IGNORE, *roles)

    def set_role(self, index: int, role: str) -> None:
        if role not in self.role_choices:
            raise ValueError(f"unknown role {role!r}")
        self.roles = {**self.roles, index: role}

    @property
    def is_csv(self) -> bool:
        return self.preview is None or self.preview.detection.format == "csv"

    def mapping(self) -> dict[str, list[int]]:
        """role -> column indexes, from the form (ignored columns left out)."""
        mapping: dict[str, list[int]] = {}
        for index, role in sorted(self.roles.items()):
            if role != IGNORE:
                mapping.setdefault(role, []).append(index)
        return mapping

    def options(self) -> ImportOptions:
        """The options to send: the user's decisions, plus, while the file leaves something
        undecided, the detected layout shown in the form (importing it confirms it)."""
        confirm = bool(self.preview and self.preview.detection.undecided)
        # The detected date format is a name ("DD.MM.YYYY"), not the strftime pattern the
        # option takes: it is confirmed with the mapping, and sent only when the user typed one.
        sent = set(self.decided) | ({*OPTION_FIELDS} - {"date_format"} if confirm else set())
        csv = self.is_csv

        def given(name: str) -> bool:
            return name in sent and (csv or name == "encoding")

        mapping = self.mapping() if given("roles") else None
        return ImportOptions(
            account_id=self.account_id,
            mapping=mapping or None,
            has_header=(
                None
                if not given("has_header") or self.has_header == DETECT
                else self.has_header == "yes"
            ),
            date_format=(self.date_format.strip() or None) if given("date_format") else None,
            amount_sign=(
                None if not given("amount_sign") or self.amount_sign == DETECT else self.amount_sign
            ),
            encoding=(self.encoding.strip() or None) if given("encoding") else None,
        )

    # -- the dialog's life ----------------------------------------------------------------

    def show(self) -> None:
        """Open the dialog for a new file, on the first account unless one was chosen."""
        self.reset()
        accounts = self.store.accounts
        if self.account_id is None or all(a.id != self.account_id for a in accounts):
            self.account_id = accounts[0].id if accounts else None
        self.open = True

    def close(self) -> None:
        self.open = False
        self.reset()

    def reset(self) -> None:
        """Forget the file and everything decided about it (the account stays)."""
        self._filling = True
        try:
            self.param.update(
                filename="",
                content=None,
                roles={},
                has_header=DETECT,
                date_format="",
                amount_sign=DETECT,
                encoding="",
                decided=[],
                preview=None,
                result=None,
                rejection=None,
                preview_rejection=None,
                message="",
            )
        finally:
            self._filling = False

    async def choose_file(self, filename: str, content: bytes) -> None:
        """A new file: nothing decided yet, a first preview with no options."""
        self.reset()
        self.param.update(filename=filename or "upload.csv", content=content)
        await self.refresh_preview()

    async def choose_account(self, account_id: int | None) -> None:
        """Another account: its saved profile may read the file differently."""
        if account_id == self.account_id:
            return
        self.account_id = account_id
        if self.content:
            await self.refresh_preview()

    async def refresh_preview(self) -> None:
        """Ask the API what importing the file with the current options would do."""
        if not self.content:
            return
        self.param.update(
            busy=True, message="", result=None, rejection=None, preview_rejection=None
        )
        try:
            preview = await self.store.api.preview_import(
                self.filename, self.content, self.options()
            )
        except ImportRejected as exc:
            # The form stays: a date format or an encoding may be what makes it readable.
            self.param.update(preview=None, preview_rejection=exc)
            return
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return
        finally:
            self.busy = False
        self._fill_from(preview)

    def _fill_from(self, preview: ImportPreview) -> None:
        """The form shows the detection, except where the user has decided."""
        found = preview.detection
        updates: dict = {"preview": preview}
        decided = set(self.decided)
        if "roles" not in decided:
            width = max([len(found.header or [])] + [c.index + 1 for c in found.columns])
            roles = dict.fromkeys(range(width), IGNORE)
            known = set(found.roles)
            roles.update({c.index: c.role for c in found.columns if c.role in known})
            updates["roles"] = roles
        if "has_header" not in decided:
            updates["has_header"] = (
                DETECT if found.format != "csv" else ("yes" if found.header else "no")
            )
        if "amount_sign" not in decided:
            sign = found.amount_sign
            updates["amount_sign"] = sign if sign in SIGN_CHOICES else DETECT
        if "encoding" not in decided:
            updates["encoding"] = found.encoding or ""
        if not self.new_currency and found.currency:
            updates["new_currency"] = found.currency
        self._filling = True
        try:
            self.param.update(**updates)
        finally:
            self._filling = False

    def roles_not_applied(self) -> list[str]:
        """Columns the last preview read otherwise than the form says (the API keeps a
        detected role the mapping does not give to another column, e.g. one set to ignore)."""
        if self.preview is None or "roles" not in self.decided or not self.is_csv:
            return []
        read = {c.index: c.role for c in self.preview.detection.columns}
        return [
            f"{self.column_name(index)} was read as {read.get(index, IGNORE)}, not {role}"
            for index, role in sorted(self.roles.items())
            if read.get(index, IGNORE) != role
        ]

    def column_name(self, index: int) -> str:
        header = self.preview.detection.header if self.preview else None
        if header and index < len(header) and header[index].strip():
            return header[index]
        return f"Column {index + 1}"

    async def confirm(self) -> ImportResult | None:
        """Import the file with the options shown; then every view shows the new data."""
        if not self.content:
            return None
        self.param.update(busy=True, message="", result=None, rejection=None)
        try:
            result = await self.store.api.import_file(self.filename, self.content, self.options())
        except ImportRejected as exc:
            self.rejection = exc
            return None
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return None
        finally:
            self.busy = False
        self.result = result
        # Rules ran at the import, and new rows can make new offered rules.
        await self.store.refresh(with_rules=True)
        await self.store.load_accounts()
        return result

    async def create_account(self) -> bool:
        """The new-account form: the account is created and chosen for this import."""
        name, currency = self.new_name.strip(), self.new_currency.strip().upper()
        if not name:
            self.message = "Give the new account a name."
            return False
        if len(currency) != CURRENCY_LENGTH or not currency.isascii() or not currency.isalpha():
            self.message = "The currency is a three-letter code such as EUR, USD or GBP."
            return False
        self.param.update(busy=True, message="")
        try:
            account = await self.store.api.create_account(
                name=name, kind=self.new_kind, currency=currency
            )
        except ApiError as exc:
            self.message = self.store.auth.handle(exc)
            return False
        finally:
            self.busy = False
        await self.store.load_accounts()
        if all(a.id != account.id for a in self.store.accounts):
            self.store.accounts = [*self.store.accounts, account]
        self.new_name = ""
        await self.choose_account(account.id)
        return True
