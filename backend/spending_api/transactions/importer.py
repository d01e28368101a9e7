"""CSV import: recognise a bank export's shape, validate every row, then store all or nothing.

One importer serves `POST /transactions/import`, `spending-admin import-csv` and the
dashboard's upload button. It reads the file as a seekable binary stream and never
holds it in memory:

1. A 64 KB head decides the encoding checks, the delimiter and the header row.
2. When the whole file is needed to decide (DD/MM against MM/DD dates, which sign
   means spending, decimal comma), a lean scan reads only those cells.
3. A last pass validates every row and streams the good ones into
   `insert_transactions` (COPY on PostgreSQL). Any invalid row makes the import
   fail: the rows are collected (first 100 and the total), the transaction is
   rolled back and `ImportFailed` is raised. Nothing is committed here: the caller
   commits on success.

Spreadsheet escaping: the export prefixes `'` to text cells that a spreadsheet would
run as a formula (see `exporter.neutralise`); here one leading `'` is removed from a
category or description made of one or more `'` followed by `= + - @`, tab or CR,
so an exported file imports back to exactly what was stored.
"""

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Literal

from sqlalchemy.orm import Session

from spending_api.transactions.exporter import restore
from spending_api.transactions.repository import NewTransaction, insert_transactions
from spending_api.transactions.schemas import ImportResult

logger = logging.getLogger(__name__)

AmountSign = Literal["spend_positive", "spend_negative"]

UNCATEGORIZED = "Uncategorized"
MAX_CATEGORY_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1000
MAX_REPORTED_ERRORS = 100
MAX_ABS_AMOUNT = Decimal(10) ** 10
MIN_YEAR, MAX_YEAR = 1900, 2100
HEAD_BYTES = 64 * 1024
HEADER_SEARCH_ROWS = 30
# A signed amount column means spending when at least this share of its non-zero
# values has one sign; closer to even, the caller must say (amount_sign).
SIGN_MAJORITY = 2 / 3
DELIMITERS = (",", ";", "\t")
CENT = Decimal("0.01")
NO_ROWS = "The file has a header but no transactions."


@dataclass(frozen=True)
class ImportOptions:
    """What the caller knows better than the file: date pattern and amount sign."""

    date_format: str | None = None
    amount_sign: AmountSign | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


class ImportFailed(Exception):
    """The file was rejected; nothing was stored. `detail()` is the 422 body's detail."""

    def __init__(
        self, message: str, errors: list[RowError] | None = None, error_count: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.error_count = max(error_count, len(self.errors))

    def detail(self) -> dict:
        return {
            "message": self.message,
            "error_count": self.error_count,
            "errors": [error.as_dict() for error in self.errors],
        }

    def describe(self) -> str:
        lines = [self.message]
        for error in self.errors:
            lines.append(f"  line {error.line}, {error.column} {error.value!r}: {error.reason}")
        if self.error_count > len(self.errors):
            lines.append(f"  ... and {self.error_count - len(self.errors)} more")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Header recognition


def _normalise_name(name: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", name.casefold()).split())


_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "timestamp",
        "transaction date",
        "trans date",
        "date",
        "booking date",
        "started date",
        "completed date",
        "posted date",
        "post date",
        "posting date",
        "date time",
        "datetime",
        "created",
        "created at",
        "value date",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "valuta",
        "wertstellung",
        "fecha",
    ),
    "time": ("time", "transaction time", "uhrzeit"),
    "amount": (
        "amount",
        "transaction amount",
        "betrag",
        "value",
        "sum",
        "montant",
        "importe",
        "bedrag",
    ),
    "debit": (
        "debit",
        "debit amount",
        "debits",
        "paid out",
        "money out",
        "withdrawal",
        "withdrawals",
        "withdrawal amount",
        "out",
        "spent",
        "soll",
    ),
    "credit": (
        "credit",
        "credit amount",
        "credits",
        "paid in",
        "money in",
        "deposit",
        "deposits",
        "deposit amount",
        "in",
        "received",
        "haben",
    ),
    "description": (
        "description",
        "transaction description",
        "payee",
        "merchant",
        "merchant name",
        "name",
        "counterparty",
        "beneficiary",
        "empfänger",
        "auftraggeber empfänger",
        "beschreibung",
        "verwendungszweck",
        "memo",
        "details",
        "narrative",
        "reference",
        "payment reference",
        "text",
        "buchungstext",
    ),
    "category": ("category", "categories", "category name", "kategorie", "categorie"),
    "currency": ("currency", "currency code", "ccy", "währung", "waehrung", "devise"),
}
# "Amount (EUR)", "Betrag EUR": an amount column named with its currency.
_AMOUNT_WITH_CURRENCY = re.compile(r"(?:amount|betrag|value) [a-z]{3}")
OWN_FORMAT_COLUMNS = {"timestamp", "date", "amount", "category", "description"}


def _role_rank(name: str) -> dict[str, int]:
    ranks = {}
    for role, aliases in _ALIASES.items():
        if name in aliases:
            ranks[role] = aliases.index(name)
    if "amount" not in ranks and _AMOUNT_WITH_CURRENCY.fullmatch(name):
        ranks["amount"] = len(_ALIASES["amount"])
    return ranks


def _map_header(cells: list[str]) -> dict[str, int]:
    """Role -> column index, best alias first; each column serves one role."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(cells):
        for role, rank in _role_rank(_normalise_name(cell)).items():
            if role not in best or rank < best[role][0]:
                best[role] = (rank, index)
    return {role: index for role, (_, index) in best.items()}


def _has_amount(mapping: dict[str, int]) -> bool:
    return "amount" in mapping or "debit" in mapping or "credit" in mapping


# ---------------------------------------------------------------------------
# Dates

_ISO_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?")
_YMD_SLASH_SHAPE = re.compile(r"\d{4}/\d{1,2}/\d{1,2}(?:[T ].*)?")
_DMY_SHAPE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[T ].*)?")
_KNOWN_PATTERNS = {
    "%Y-%m-%d": ("iso", "-"),
    "%Y/%m/%d": ("ymd", "/"),
    "%d/%m/%Y": ("dmy", "/"),
    "%m/%d/%Y": ("mdy", "/"),
    "%d.%m.%Y": ("dmy", "."),
    "%m.%d.%Y": ("mdy", "."),
    "%d-%m-%Y": ("dmy", "-"),
    "%m-%d-%Y": ("mdy", "-"),
}
_TIME_SUFFIX = re.compile(r"(?:[T ]%H:%M(?::%S(?:\.%f)?)?)?")
_PATTERN_NAMES = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY", "ymd": "YYYY/MM/DD", "iso": "ISO"}


def _parse_time(text: str) -> time:
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    return time.fromisoformat(text).replace(tzinfo=None)


def _iso_parser(value: str) -> datetime:
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        return datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed


def _split_parser(order: str, separator: str) -> Callable[[str], datetime]:
    def parse(value: str) -> datetime:
        day_part, _, time_part = value.replace("T", " ", 1).partition(" ")
        first, second, third = day_part.split(separator)
        if order == "ymd":
            year, month, day = first, second, third
        elif order == "dmy":
            day, month, year = first, second, third
        else:
            month, day, year = first, second, third
        if len(year) != 4 or len(month) > 2 or len(day) > 2:
            raise ValueError("not a date")
        parsed = datetime(int(year), int(month), int(day))
        return datetime.combine(parsed, _parse_time(time_part)) if time_part else parsed

    return parse


def _strptime_parser(pattern: str) -> Callable[[str], datetime]:
    def parse(value: str) -> datetime:
        return datetime.strptime(value, pattern)

    return parse


@dataclass
class _DateEvidence:
    """What the date column's values say about their format."""

    kinds: set[str] = field(default_factory=set)
    separators: set[str] = field(default_factory=set)
    first_over_12: bool = False
    second_over_12: bool = False

    def add(self, value: str) -> None:
        if not value:
            return
        if _ISO_SHAPE.fullmatch(value):
            self.kinds.add("iso")
            return
        if _YMD_SLASH_SHAPE.fullmatch(value):
            self.kinds.add("ymd")
            return
        match = _DMY_SHAPE.fullmatch(value)
        if match is None:
            self.kinds.add("other")
            return
        self.kinds.add("xxy")
        self.separators.add(match.group(2))
        if int(match.group(1)) > 12:
            self.first_over_12 = True
        if int(match.group(3)) > 12:
            self.second_over_12 = True

    @property
    def decided(self) -> bool:
        return self.kinds != {"xxy"} or self.first_over_12 or self.second_over_12


def _date_parser(evidence: _DateEvidence, date_format: str | None) -> tuple[Callable, str]:
    """The parser for the file's dates and a name for error messages."""
    if date_format:
        date_part = _date_part_of_pattern(date_format)
        if date_part in _KNOWN_PATTERNS:
            order, separator = _KNOWN_PATTERNS[date_part]
            if order == "iso":
                return _iso_parser, date_format
            return _split_parser(order, separator), date_format
        return _strptime_parser(date_format), date_format
    kinds = evidence.kinds - {"other"}
    if len(kinds) != 1:
        if not kinds:
            raise ImportFailed(
                "The dates are in a format that was not recognised; "
                "give it with the date_format option (e.g. %d/%m/%Y)."
            )
        raise ImportFailed("The date column mixes several date formats.")
    kind = kinds.pop()
    if kind == "iso":
        return _iso_parser, "ISO (YYYY-MM-DD)"
    if kind == "ymd":
        return _split_parser("ymd", "/"), "YYYY/MM/DD"
    if len(evidence.separators) != 1:
        raise ImportFailed("The date column mixes several date separators.")
    separator = evidence.separators.pop()
    if evidence.first_over_12 and evidence.second_over_12:
        raise ImportFailed(
            "The dates fit neither DD/MM/YYYY nor MM/DD/YYYY throughout; "
            "give the format with the date_format option."
        )
    if evidence.second_over_12:
        order = "mdy"
    elif evidence.first_over_12 or separator == ".":
        order = "dmy"
    else:
        raise ImportFailed(
            "The dates could be DD/MM/YYYY or MM/DD/YYYY (no day above 12 in the file); "
            "give the format with the date_format option, e.g. %d/%m/%Y."
        )
    name = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}[order].replace("/", separator)
    return _split_parser(order, separator), name


def _date_part_of_pattern(pattern: str) -> str:
    for known in _KNOWN_PATTERNS:
        if pattern.startswith(known) and _TIME_SUFFIX.fullmatch(pattern[len(known) :]):
            return known
    return pattern


def check_date_format(pattern: str) -> None:
    """Refuse a `date_format` that cannot read back the dates it writes."""
    sample = datetime(2024, 11, 28, 13, 45, 30)
    try:
        text = sample.strftime(pattern)
        parsed = datetime.strptime(text, pattern)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.date() != sample.date() or "\x00" in pattern:
        raise ImportFailed(
            "date_format must be a strftime pattern with day, month and 4-digit year, "
            "e.g. %d/%m/%Y."
        )


# ---------------------------------------------------------------------------
# Amounts

_PLAIN = {
    ".": re.compile(r"-?\d{1,10}(?:\.\d{1,2})?").fullmatch,
    ",": re.compile(r"-?\d{1,10}(?:,\d{1,2})?").fullmatch,
}
_CURRENCY_AFFIX = re.compile(
    r"^(?:[A-Z]{3}|[$£€¥₹]|[A-Z]{0,2}\$)?\s*(.*?)\s*(?:[A-Z]{3}|[$£€¥₹])?$"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009'’")


class AmountError(ValueError):
    pass


def parse_amount(text: str, decimal_separator: str) -> Decimal:
    """A money amount as banks write it: sign, currency, grouping, parentheses."""
    if _PLAIN[decimal_separator](text):
        value = Decimal(text if decimal_separator == "." else text.replace(",", "."))
    else:
        value = _parse_amount_slow(text, decimal_separator)
    if abs(value) >= MAX_ABS_AMOUNT:
        raise AmountError("amount too large")
    return value


def _parse_amount_slow(text: str, decimal_separator: str) -> Decimal:
    body = text.strip().replace("\u2212", "-")
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    for _ in range(2):  # the sign may come before or after a currency symbol
        if body.startswith(("-", "+")):
            negative ^= body[0] == "-"
            body = body[1:].strip()
        elif body.endswith("-"):
            negative ^= True
            body = body[:-1].strip()
        body = _CURRENCY_AFFIX.match(body).group(1)
    body = body.translate(_GROUPING)
    if decimal_separator == ".":
        body = body.replace(",", "")
    else:
        body = body.replace(".", "").replace(",", ".")
    if not _NUMBER.fullmatch(body):
        raise AmountError("not a number")
    value = Decimal(body)
    if value != value.quantize(CENT):
        raise AmountError("more than 2 decimal places")
    return -value if negative else value


def _separator_vote(text: str) -> str | None:
    """Which decimal separator this value shows, if it shows one."""
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    position = max(dot, comma)
    if position < 0:
        return None
    separator = text[position]
    other = "," if separator == "." else "."
    if text.count(separator) > 1:
        return other
    digits_after = len(text) - position - 1
    if digits_after in (1, 2) and text[position + 1 :].isdigit():
        return separator
    return None


# ---------------------------------------------------------------------------
# The file's layout


@dataclass
class _Layout:
    delimiter: str
    header: list[str]
    header_records: int  # records up to and including the header row
    roles: dict[str, int]

    @property
    def own_format(self) -> bool:
        names = [cell.strip() for cell in self.header]
        return set(names) <= OWN_FORMAT_COLUMNS and "amount" in names

    def column(self, role: str) -> str:
        return self.header[self.roles[role]].strip() or role


def _open_text(stream: BinaryIO) -> io.TextIOWrapper:
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")


def _close_text(text: io.TextIOWrapper) -> None:
    try:
        text.detach()  # leave the caller's stream open
    except ValueError:
        pass  # the caller closed it already


def _read_head(stream: BinaryIO) -> tuple[str, bool]:
    """The first whole lines of the file as text, and whether that is all of it."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    if not head or not head.strip():
        raise ImportFailed("The file is empty.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFailed("The file is UTF-16 text; save it as UTF-8 CSV and try again.")
    if b"\x00" in head:
        raise ImportFailed("The file is not a CSV text file (it contains binary data).")
    complete = len(head) < HEAD_BYTES
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        raise ImportFailed("The file is not UTF-8 text; save it as UTF-8 CSV.") from None
    if not complete:
        # Only whole lines: the last one may be cut.
        cut = max(text.rfind("\n"), 0)
        text = text[:cut]
    return text, complete


def _find_layout(head: str) -> tuple[_Layout, list[list[str]]]:
    """The delimiter and header row that explain the head best, and the sample rows."""
    best: tuple[int, _Layout, list[list[str]]] | None = None
    first_rows: dict[str, list[str]] = {}
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))
        except csv.Error:
            continue
        non_empty = [(index, row) for index, row in enumerate(rows) if any(c.strip() for c in row)]
        if non_empty:
            first_rows[delimiter] = non_empty[0][1]
        for index, row in non_empty[:HEADER_SEARCH_ROWS]:
            roles = _map_header(row)
            if "date" in roles and _has_amount(roles):
                score = len(roles)
                if best is None or score > best[0]:
                    layout = _Layout(delimiter, row, index + 1, roles)
                    best = (score, layout, rows[index + 1 :])
                break
    if best is None:
        raise ImportFailed(_missing_columns_message(first_rows))
    return best[1], best[2]


def _missing_columns_message(first_rows: dict[str, list[str]]) -> str:
    widest = max(first_rows.values(), key=len, default=[])
    roles = _map_header(widest)
    shown = ", ".join(cell.strip() for cell in widest[:12])[:300]
    missing = []
    if "date" not in roles:
        missing.append("a date column (Date, Transaction Date, Posted Date, Booking Date, ...)")
    if not _has_amount(roles):
        missing.append("an amount column (Amount, or Debit/Credit, or Paid out/Paid in)")
    if not missing:
        missing.append("a header row")
    return f"Missing required column: {' and '.join(missing)}. First row: {shown}"


def _sign_of(text: str, decimal_separator: str) -> int:
    """-1, 0 or 1; 0 also for what is not a number (the row check reports it)."""
    try:
        value = parse_amount(text, decimal_separator)
    except (AmountError, InvalidOperation):
        return 0
    return (value > 0) - (value < 0)


@dataclass
class _Evidence:
    dates: _DateEvidence = field(default_factory=_DateEvidence)
    separators: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})
    positive: int = 0
    negative: int = 0
    rows: int = 0

    def add(self, row: list[str], layout: _Layout) -> None:
        roles = layout.roles
        if len(row) <= roles["date"]:
            return
        self.rows += 1
        self.dates.add(row[roles["date"]].strip())
        for role in ("amount", "debit", "credit"):
            index = roles.get(role)
            if index is None or index >= len(row):
                continue
            value = row[index].strip()
            if not value:
                continue
            vote = _separator_vote(value)
            if vote:
                self.separators[vote] += 1
            if role == "amount":
                sign = _sign_of(value, vote or ".")
                if sign < 0:
                    self.negative += 1
                elif sign > 0:
                    self.positive += 1

    @property
    def decimal_decided(self) -> bool:
        return any(self.separators.values())


def _scan(stream: BinaryIO, layout: _Layout, evidence: _Evidence) -> None:
    text = _open_text(stream)
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        for _ in range(layout.header_records):
            next(reader, None)
        for row in reader:
            evidence.add(row, layout)
    except UnicodeDecodeError:
        raise ImportFailed("The file is not UTF-8 text; save it as UTF-8 CSV.") from None
    except csv.Error as error:
        raise ImportFailed(f"The file is not valid CSV near line {reader.line_num}: {error}.")
    finally:
        _close_text(text)


def _decide_sign(evidence: _Evidence, layout: _Layout, options: ImportOptions) -> bool:
    """True when the file writes spending as negative numbers."""
    if options.amount_sign:
        return options.amount_sign == "spend_negative"
    if "amount" not in layout.roles or layout.own_format:
        return False
    positive, negative = evidence.positive, evidence.negative
    if negative >= SIGN_MAJORITY * (positive + negative) and negative:
        return True
    if positive >= SIGN_MAJORITY * (positive + negative):
        return False
    raise ImportFailed(
        f"Cannot tell from the file whether spending is written as positive or negative "
        f"({positive} positive and {negative} negative amounts); "
        "give amount_sign=spend_negative or amount_sign=spend_positive."
    )


# ---------------------------------------------------------------------------
# Rows


class _RowReader:
    """Turns the file's rows into NewTransaction values, collecting row errors."""

    def __init__(
        self, layout: _Layout, parse_date: Callable, date_name: str, decimal: str, negate: bool
    ) -> None:
        self.layout = layout
        self.parse_date = parse_date
        self.date_name = date_name
        self.decimal = decimal
        self.negate = negate
        self.errors: list[RowError] = []
        self.error_count = 0
        self.rows = 0
        self.currencies: set[str] = set()
        roles = layout.roles
        self.width = len(layout.header)
        self.date_index = roles["date"]
        self.time_index = roles.get("time")
        self.amount_index = roles.get("amount")
        self.category_index = roles.get("category")
        self.description_index = roles.get("description")
        self.currency_index = roles.get("currency")
        # Plain "-1234.56" amounts (most files) skip the general parser.
        self.plain_amount = (
            _PLAIN["."] if self.amount_index is not None and decimal == "." else None
        )

    def error(self, line: int, role: str, value: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            shown = value if len(value) <= 100 else value[:100] + "…"
            self.errors.append(RowError(line, self.layout.column(role), shown, reason))

    def read(self, stream: BinaryIO) -> Iterator[NewTransaction]:
        """Yield valid rows until the first invalid one, then only validate."""
        text = _open_text(stream)
        reader = csv.reader(text, delimiter=self.layout.delimiter)
        try:
            for _ in range(self.layout.header_records):
                next(reader, None)
            for row in reader:
                transaction = self.convert(row, reader.line_num)
                if transaction is not None and not self.error_count:
                    yield transaction
        except UnicodeDecodeError:
            raise ImportFailed(
                f"The file is not UTF-8 text (after line {reader.line_num}); "
                "save it as UTF-8 CSV."
            ) from None
        except csv.Error as error:
            raise ImportFailed(
                f"The file is not valid CSV near line {reader.line_num + 1}: {error}."
            ) from None
        finally:
            _close_text(text)

    def convert(self, row: list[str], line: int) -> NewTransaction | None:
        """One row; the hot path of a large import, so it looks up nothing twice."""
        if len(row) < self.width:
            if not any(cell.strip() for cell in row):
                return None
            row = row + [""] * (self.width - len(row))
        self.rows += 1
        ok = True

        raw = row[self.date_index].strip()
        try:
            timestamp = self.parse_date(raw)
            if self.time_index is not None and row[self.time_index].strip():
                timestamp = datetime.combine(timestamp.date(), _parse_time(row[self.time_index]))
            if not MIN_YEAR <= timestamp.year <= MAX_YEAR:
                self.error(line, "date", raw, f"year outside {MIN_YEAR}-{MAX_YEAR}")
                ok = False
        except (ValueError, TypeError):
            self.error(line, "date", raw, self._date_reason(raw))
            ok = False

        if self.plain_amount is not None:
            raw = row[self.amount_index].strip()
            if self.plain_amount(raw):
                amount = Decimal(raw)
                if self.negate:
                    amount = -amount
            else:
                amount = self._amount(row, line)
        else:
            amount = self._amount(row, line)
        if amount is None:
            ok = False

        category = row[self.category_index].strip() if self.category_index is not None else ""
        if category:
            if category[0] == "'":
                category = restore(category)
            if len(category) > MAX_CATEGORY_LENGTH:
                self.error(line, "category", category, f"longer than {MAX_CATEGORY_LENGTH}")
                ok = False
            elif "\x00" in category:
                self.error(line, "category", category, "contains a NUL character")
                ok = False
        else:
            category = UNCATEGORIZED

        description = (
            row[self.description_index].strip() if self.description_index is not None else ""
        )
        if description:
            if description[0] == "'":
                description = restore(description)
            if len(description) > MAX_DESCRIPTION_LENGTH:
                self.error(
                    line, "description", description, f"longer than {MAX_DESCRIPTION_LENGTH}"
                )
                ok = False
            elif "\x00" in description:
                self.error(line, "description", description, "contains a NUL character")
                ok = False

        if self.currency_index is not None:
            currency = row[self.currency_index].strip().upper()
            if currency:
                self.currencies.add(currency)

        if not ok:
            return None
        return NewTransaction(timestamp, amount, category, description or None, line)

    def _amount(self, row: list[str], line: int) -> Decimal | None:
        roles = self.layout.roles
        if "amount" in roles:
            raw = row[roles["amount"]].strip()
            value = self._parse(raw, "amount", line)
            if value is None:
                return None
            return -value if self.negate else value
        # Separate columns: money out is spending, money in a refund.
        total = Decimal(0)
        found = False
        for role, direction in (("debit", 1), ("credit", -1)):
            if role not in roles:
                continue
            raw = row[roles[role]].strip()
            if not raw:
                continue
            value = self._parse(raw, role, line)
            if value is None:
                return None
            total += direction * abs(value)
            found = True
        if not found:
            role = "debit" if "debit" in roles else "credit"
            self.error(line, role, "", "no amount in this row")
            return None
        return total

    def _parse(self, raw: str, role: str, line: int) -> Decimal | None:
        if not raw:
            self.error(line, role, raw, "missing")
            return None
        try:
            return parse_amount(raw, self.decimal)
        except (AmountError, InvalidOperation) as error:
            reason = str(error) if isinstance(error, AmountError) else "not a number"
            self.error(line, role, raw, reason)
            return None

    def _date_reason(self, raw: str) -> str:
        if not raw:
            return "missing"
        shaped = (
            _ISO_SHAPE.fullmatch(raw)
            or _YMD_SLASH_SHAPE.fullmatch(raw)
            or _DMY_SHAPE.fullmatch(raw)
        )
        if shaped:
            if len(raw) <= 10:
                return "date does not exist"
            return f"date or time of day does not exist (format {self.date_name})"
        return f"not a date in format {self.date_name}"


# ---------------------------------------------------------------------------
# The entry point


def import_csv(
    session: Session, *, user_id: int, stream: BinaryIO, options: ImportOptions
) -> ImportResult:
    """Import a CSV file for the user, all or nothing; the caller commits.

    Raises ImportFailed (after rolling the session back) when the file or any row
    is invalid.
    """
    if options.date_format:
        check_date_format(options.date_format)
    head, complete = _read_head(stream)
    layout, sample = _find_layout(head)
    evidence = _Evidence()
    for row in sample:
        evidence.add(row, layout)
    sign_needed = not options.amount_sign and "amount" in layout.roles and not layout.own_format
    if not complete and (
        sign_needed
        or not evidence.decimal_decided
        or (not options.date_format and not evidence.dates.decided)
    ):
        evidence = _Evidence()
        _scan(stream, layout, evidence)

    if not evidence.rows:
        raise ImportFailed(NO_ROWS)
    parse_date, date_name = _date_parser(evidence.dates, options.date_format)
    negate = _decide_sign(evidence, layout, options)
    separators = evidence.separators
    if layout.own_format:
        decimal = "."
    elif separators[","] > separators["."] or (not separators["."] and layout.delimiter == ";"):
        decimal = ","
    else:
        decimal = "."
    logger.info(
        "importing for user %s: delimiter %r, dates %s, decimal %r, spend %s",
        user_id,
        layout.delimiter,
        date_name,
        decimal,
        "negative" if negate else "positive",
    )

    checked = _checked(_RowReader(layout, parse_date, date_name, decimal, negate), stream)
    try:
        counts = insert_transactions(session, user_id=user_id, rows=checked)
    except ImportFailed:
        session.rollback()
        raise
    finally:
        checked.close()  # while the stream is still open, if the insert gave up early
    return ImportResult(
        inserted=counts.inserted, skipped_duplicates=counts.skipped, total_rows=counts.total
    )


def _checked(rows: _RowReader, stream: BinaryIO) -> Iterator[NewTransaction]:
    """The rows, then a verdict: raising here aborts the staging (and the COPY)."""
    yield from rows.read(stream)
    if rows.error_count:
        noun = "row is" if rows.error_count == 1 else "rows are"
        raise ImportFailed(
            f"{rows.error_count} {noun} invalid; nothing was imported.",
            rows.errors,
            rows.error_count,
        )
    if len(rows.currencies) > 1:
        raise ImportFailed(
            "The file mixes currencies ("
            + ", ".join(sorted(rows.currencies)[:10])
            + "); import one currency at a time."
        )
    if rows.rows == 0:
        raise ImportFailed(NO_ROWS)
