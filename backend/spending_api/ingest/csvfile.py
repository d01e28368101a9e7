"""CSV exports: decide the layout, then stream the rows with skips, joins and problems.

The head (64 KB) decides the layout. When the head is not the whole file, one lean pass
over the file gathers what only all of it can say (date order, decimal separator, which
sign is spending); then the rows are read once more and yielded one by one.
"""

import csv
import logging
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from operator import itemgetter
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from spending_api.ingest.amounts import (
    CENT,
    AmountError,
    SeparatorVotes,
    currency_of,
    direction_of,
    parse_amount,
    plain_matcher,
)
from spending_api.ingest.dates import (
    DateEvidence,
    DateFormat,
    DateHint,
    currency_hint,
    is_pending_word,
    parse_time_of_day,
    strptime_format,
)
from spending_api.ingest.encoding import close_text, open_text
from spending_api.ingest.kinds import INCOME, TransferParties, is_bare_transfer, kind_hint
from spending_api.ingest.layout import SAMPLE_ROWS, Layout, apply_mapping, find_layout
from spending_api.ingest.model import (
    MAX_REPORTED_PROBLEMS,
    Detection,
    ParsedFile,
    ParsedRow,
    ParseFailed,
    ParseOptions,
    Problem,
    SkipLog,
)
from spending_api.ingest.vocabulary import fold, has_money
from spending_api.transactions.exporter import restore

logger = logging.getLogger(__name__)

MAX_CATEGORY_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1000
MIN_YEAR, MAX_YEAR = 1900, 2100
OWN_FORMAT_COLUMNS = {"timestamp", "amount", "category", "description"}
NO_ROWS = "The file has a header but no transactions."
# A signed amount column means spending by its minority sign only with this majority.
SIGN_MAJORITY = 2 / 3
# Words vote on the sign from a sample; a running balance and a D/C column from all rows.
TEXT_VOTE_ROWS = 2000
SCAN_SAMPLE_ROWS = 100_000
OWN_FORMAT_SAMPLE_ROWS = 1000
TEXT_CACHE_SIZE = 50_000

_MONEY_IN_TEXT = re.compile(
    r"\b(?:received|recu|recibid[ao]|recebid[ao]|ricevut[ao]|ontvangen|gutschrift|deposit"
    r"|refund|devolucion|erstattung|remboursement|eingang|abono|cashback|bonus)",
)
_MONEY_OUT_TEXT = re.compile(
    r"\b(?:payment to|purchase|paid|achat|compra|kauf|lastschrift|withdrawal|retrait"
    r"|reintegro|pago|sent|emitid[ao]|abbuchung|auszahlung|fee|prelevement)",
)
BALANCE_ROW = re.compile(
    r"^(?:saldo anterior|saldo inicial|saldo final|opening balance|closing balance"
    r"|balance brought forward|balance carried forward|brought forward|carried forward"
    r"|anfangssaldo|endsaldo|alter kontostand|neuer kontostand|solde initial|solde final"
    r"|solde precedent|ancien solde|nouveau solde|beginsaldo|eindsaldo|saldo iniziale"
    r"|saldo finale|saldo precedente|starting balance|ending balance)\b"
)
SUMMARY_ROW = re.compile(r"^(?:total|totals|totaal|summe|gesamt|totale|subtotal)\b")
_NOT_A_TRANSACTION = re.compile(f"(?:{BALANCE_ROW.pattern})|(?:{SUMMARY_ROW.pattern})")
PENDING_STATUS = {"pending", "vorgemerkt", "umsatz vorgemerkt", "en attente", "pendiente"}
PENDING_STATUS |= {"pendente", "in behandeling", "in sospeso", "not booked", "authorised"}


@lru_cache(maxsize=8192)  # a large file repeats few distinct descriptions
def _is_balance_or_summary(text: str) -> bool:
    return _NOT_A_TRANSACTION.match(fold(text)) is not None


def _is_own_format(layout: Layout) -> bool:
    names = {cell.strip() for cell in layout.header or []}
    return bool(layout.header) and names <= OWN_FORMAT_COLUMNS | {"date"} and "amount" in names


@dataclass
class _SignEvidence:
    """Votes on which sign is spending: > 0 says negative, < 0 says positive. Strong votes
    come from a running balance and a D/C column; weak ones from words like 'received'."""

    positive: int = 0
    negative: int = 0
    strong: int = 0
    weak: int = 0
    previous: tuple[Decimal, Decimal] | None = None

    def add(self, value: Decimal, text: str, direction: str | None, balance: Decimal | None):
        if value > 0:
            self.positive += 1
        elif value < 0:
            self.negative += 1
        else:
            return
        positive = value > 0
        if direction:
            self.strong += 1 if (direction == "in") == positive else -1
        if text and self.positive + self.negative <= TEXT_VOTE_ROWS:
            money_in = bool(_MONEY_IN_TEXT.search(text) or INCOME.search(text))
            money_out = bool(_MONEY_OUT_TEXT.search(text))
            if money_in != money_out:
                self.weak += 1 if money_in == positive else -1
        if balance is not None:
            if self.previous is not None:
                before, previous_value = self.previous
                change = balance - before
                if change == value or -change == previous_value:
                    self.strong += 1
                elif change == -value or -change == -previous_value:
                    self.strong -= 1
            self.previous = (balance, value)


MAX_CURRENCIES_SEEN = 4


@dataclass
class _Evidence:
    dates: DateEvidence = field(default_factory=DateEvidence)
    # The file's other date columns (value, posting date), for their day/month bounds.
    other_dates: DateEvidence = field(default_factory=DateEvidence)
    separators: SeparatorVotes = field(default_factory=SeparatorVotes)
    sign: _SignEvidence = field(default_factory=_SignEvidence)
    currencies: set[str] = field(default_factory=set)
    rows: int = 0

    def date_hints(self, layout: Layout, decimal: str) -> tuple[DateHint, ...]:
        """What the rest of the file says of the day/month order."""
        hints = []
        if decimal == ",":
            hints.append(DateHint("dmy", "the amounts are written with a decimal comma"))
        if layout.delimiter == ";":
            hints.append(DateHint("dmy", "the file is separated by ';'"))
        codes = set(self.currencies)
        if layout.currency:
            codes.add(layout.currency)
        found = currency_hint(codes)
        if found:
            hints.append(found)
        return tuple(hints)


_UNSET = object()


@dataclass(frozen=True, slots=True)
class _Texts:
    """A row's text cells read: the description chosen, notes, category and type, whether
    it is a balance or summary line, or invalid, and its text as a continuation line."""

    chosen: str
    notes: str | None
    category: str
    bank_type: str
    summary: bool
    invalid: bool
    continuation: str | None
    hints: dict[bool, str | None] = field(default_factory=dict, compare=False)  # by money_in

    def hint(self, money_in: bool) -> str | None:
        """What these texts say of the row's kind, kept in `hints`."""
        found = self.hints[money_in] = kind_hint(
            category=self.category or None,
            bank_type=self.bank_type or None,
            texts=(self.chosen, self.notes),
            money_in=money_in,
        )
        return found


class _Reader:
    """Turns the file's records into ParsedRow values; collects problems and skips."""

    def __init__(self, layout: Layout, skips: SkipLog) -> None:
        self.layout = layout
        self.skips = skips
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.date_format: DateFormat | None = None
        self.decimal = "."
        self.negate = False
        self.own_format = _is_own_format(layout)
        index = layout.index
        self.date = index("date")
        self.time = index("time")
        self.amount = index("amount")
        self.debit = index("debit")
        self.credit = index("credit")
        self.direction = index("direction")
        self.status = index("status")
        self.category = index("category")
        self.type = index("type")
        self.currency = index("currency")
        self.balance = index("balance")
        self.id = index("id")
        self.counter_account = index("counter_account")
        self.other_dates: list[int] = []  # set from the sample: unmapped date columns
        self.payees = layout.indexes("payee")
        self.descriptions = layout.indexes("description")
        self.notes = layout.indexes("notes")
        self.money = [i for i in (self.amount, self.debit, self.credit) if i is not None]
        text_columns = [*self.payees, *self.descriptions, *self.notes]
        text_columns += [i for i in (self.category, self.type) if i is not None]
        self.text_key: Callable[[list[str]], object] = (
            itemgetter(*text_columns) if text_columns else lambda row: None
        )
        self.text_cache: dict[object, _Texts] = {}
        # Set once the decimal separator and sign are decided (no direction column to ask).
        self.plain: Callable[[str], object] | None = None
        # Plain amount cells as written -> (amount, cell stripped, amount stored).
        self.plain_amounts: dict[str, tuple[Decimal, str, Decimal]] = {}
        # Who the file's transfers out go to (by account number or name), for money back.
        self.parties = TransferParties()
        self.transfer_named: dict[tuple[str, str, str], bool] = {}  # few distinct texts
        self.gather_parties = not self.own_format and bool(
            self.payees or self.counter_account is not None
        )

    # -- evidence ---------------------------------------------------------------------

    def gather(self, row: list[str], evidence: _Evidence) -> None:
        row = self._pad(row)
        if row is None or self._pending(row) or self.date is None:
            return
        evidence.rows += 1
        evidence.dates.add(row[self.date])
        for index in self.other_dates:
            evidence.other_dates.add(row[index])
        if self.currency is not None and len(evidence.currencies) < MAX_CURRENCIES_SEEN:
            code = row[self.currency].strip().upper()
            if code:
                evidence.currencies.add(code)
        for index in self.money:
            if row[index].strip():
                evidence.separators.add(row[index].strip())
        if self.gather_parties:
            self._gather_party(row)
        if self.amount is None or not row[self.amount].strip():
            return
        decimal = "," if evidence.separators.votes[","] > evidence.separators.votes["."] else "."
        try:
            value = parse_amount(row[self.amount], decimal).value
        except (AmountError, InvalidOperation):
            return
        direction = direction_of(row[self.direction]) if self.direction is not None else None
        balance = None
        if self.balance is not None and row[self.balance].strip():
            try:
                balance = parse_amount(row[self.balance], decimal).value
            except (AmountError, InvalidOperation):
                balance = None
        text = ""
        if evidence.sign.positive + evidence.sign.negative < TEXT_VOTE_ROWS:
            text = fold(" ".join(row[i] for i in self.descriptions + self.notes + self.payees))
            if self.type is not None:
                text += " " + fold(row[self.type])
        evidence.sign.add(value, text, direction, balance)

    def _party(self, row: list[str]) -> tuple[str | None, str | None]:
        account = row[self.counter_account] if self.counter_account is not None else None
        name = row[self.payees[0]] if self.payees else None
        return account, name

    def _gather_party(self, row: list[str]) -> None:
        """Note the other party of a row the file calls a transfer (by its category, type
        or payee/description cell: few distinct values, so the hint is cached), with the
        way its money went as written (the sign is decided after this pass)."""
        category = row[self.category].strip() if self.category is not None else ""
        bank_type = row[self.type].strip() if self.type is not None else ""
        account, name = self._party(row)
        text = (name or "").strip()
        if not text and self.descriptions:
            text = row[self.descriptions[0]].strip()
        key = (category, bank_type, text)
        named = self.transfer_named.get(key)
        if named is None:
            if len(self.transfer_named) >= TEXT_CACHE_SIZE:
                self.transfer_named.clear()
            hint = kind_hint(
                category=category or None,
                bank_type=bank_type or None,
                texts=(text,),
                money_in=False,
            )
            # A bare "Transfer" is as often a payment to someone (the import says so too).
            named = hint == "transfer" and not is_bare_transfer((bank_type, text))
            self.transfer_named[key] = named
        if not named:
            return
        if self.direction is not None and direction_of(row[self.direction]):
            way = direction_of(row[self.direction])
        elif self.amount is not None:
            way = "-" if row[self.amount].strip().startswith("-") else "+"
        else:
            way = "out" if self.debit is not None and row[self.debit].strip() else "in"
        self.parties.add(account, name, way=way)

    def gather_date(self, row: list[str], evidence: _Evidence) -> None:
        if self.date is not None and len(row) > self.date:
            evidence.dates.add(row[self.date])

    # -- rows -------------------------------------------------------------------------

    def _pad(self, row: list[str]) -> list[str] | None:
        if not "".join(row).strip():  # one C call instead of a strip per cell
            return None
        if len(row) < self.layout.width:
            row = row + [""] * (self.layout.width - len(row))
        return row

    def _pending(self, row: list[str]) -> bool:
        if self.status is not None and fold(row[self.status].strip()) in PENDING_STATUS:
            return True
        # A date cell starts with a digit: only a word can be 'Pending'.
        return (
            self.date is not None
            and row[self.date][:1].isalpha()
            and is_pending_word(row[self.date])
        )

    def problem(self, line: int, index: int | None, value: str, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            shown = value if len(value) <= 100 else value[:100] + "…"
            column = self.layout.column_name(index) if index is not None else "row"
            self.problems.append(Problem(line, column, shown, reason))

    def _text(self, row: list[str], indexes: list[int]) -> list[str]:
        found = []
        for index in indexes:
            value = row[index].strip()
            if value:
                if value[0] == "'":
                    value = restore(value)
                if value and value not in found:
                    found.append(value)
        return found

    def _money(self, row: list[str], line: int) -> tuple[Decimal | None, str, Decimal | None]:
        """(amount, money cells as written, amount stored in cents): positive is money out;
        None after a problem. A plain cell's answer is kept for the file's repeats of it."""
        if self.plain is not None:
            cell = row[self.amount]
            raw = cell.strip()
            if self.plain(raw):  # '-12.34': most rows of most files, no parser needed
                value = Decimal(raw if self.decimal == "." else raw.replace(",", "."))
                amount = -value if self.negate else value
                # Written with two decimals ('12.30'), it is already in cents.
                money = amount, raw, amount if raw[-3:-2] == "." else amount.quantize(CENT)
                if len(self.plain_amounts) >= TEXT_CACHE_SIZE:
                    self.plain_amounts.clear()
                self.plain_amounts[cell] = money
                return money
        amount, written = self._parsed_money(row, line)
        if amount is None:
            return None, written, None
        in_cents = self.plain is not None and written[-3:-2] == "."
        return amount, written, amount if in_cents else amount.quantize(CENT)

    def _parsed_money(self, row: list[str], line: int) -> tuple[Decimal | None, str]:
        """(amount, money cells as written) of a cell that is not plain, or of debit and
        credit cells; None after a problem."""
        if self.amount is not None:
            raw = row[self.amount].strip()
            if not raw:
                self.problem(line, self.amount, raw, "missing")
                return None, raw
            try:
                parsed = parse_amount(raw, self.decimal)
            except (AmountError, InvalidOperation) as error:
                reason = str(error) if isinstance(error, AmountError) else "not a number"
                self.problem(line, self.amount, raw, reason)
                return None, raw
            direction = parsed.marker
            if direction is None and self.direction is not None and parsed.value >= 0:
                direction = direction_of(row[self.direction])
            if direction is not None and not (parsed.value < 0):
                return (abs(parsed.value) if direction == "out" else -abs(parsed.value)), raw
            return (-parsed.value if self.negate else parsed.value), raw
        total, found, shown = Decimal(0), False, []
        for index, sign in ((self.debit, 1), (self.credit, -1)):
            if index is None or not row[index].strip():
                continue
            raw = row[index].strip()
            shown.append(raw)
            try:
                parsed = parse_amount(raw, self.decimal)
            except (AmountError, InvalidOperation) as error:
                reason = str(error) if isinstance(error, AmountError) else "not a number"
                self.problem(line, index, raw, reason)
                return None, raw
            if parsed.marker:
                sign = 1 if parsed.marker == "out" else -1
            total += sign * abs(parsed.value)
            found = True
        if not found:
            index = self.debit if self.debit is not None else self.credit
            self.problem(line, index, "", "no amount in this row")
            return None, ""
        return total, " ".join(shown)

    def convert(self, row: list[str], line: int) -> ParsedRow | str | None:
        """A row, or the text of a continuation line, or None for a skipped row."""
        if len(row) < self.layout.width:
            row = self._pad(row)
            if row is None:
                return None
        cell = row[self.date]
        raw_date = cell.strip()
        if not raw_date and not "".join(row).strip():
            return None  # a blank line (a date cell with text says it is not one)
        # Only a status column or a date cell that starts with a letter says 'Pending'.
        if (self.status is not None or cell[:1].isalpha()) and self._pending(row):
            self.skips.add(line, "pending transaction")
            return None
        key = self.text_key(row)
        texts = self.text_cache.get(key)
        if texts is None:
            texts = self._texts(row, key)
        if not raw_date and texts.continuation is not None and not self._money_cells(row):
            return texts.continuation
        try:
            timestamp, has_time = self.date_format.parse(raw_date)
            if self.time is not None and row[self.time].strip():
                hour, minute, second, micro = parse_time_of_day(row[self.time])
                timestamp = timestamp.replace(
                    hour=hour, minute=minute, second=second, microsecond=micro
                )
                has_time = True
        except ValueError:
            if SUMMARY_ROW.match(fold(raw_date)) or BALANCE_ROW.match(fold(raw_date)):
                self.skips.add(line, f"balance or summary row: {raw_date[:80]!r}")
                return None
            if not self._money_cells(row):
                shown = next((cell.strip() for cell in row if cell.strip()), "")[:80]
                self.skips.add(line, f"not a transaction (notice or summary line): {shown!r}")
                return None
            reason = "missing" if not raw_date else f"not a date in format {self.date_format.name}"
            self.problem(line, self.date, raw_date, reason)
            return None
        if not MIN_YEAR <= timestamp.year <= MAX_YEAR:
            self.problem(line, self.date, raw_date, f"year outside {MIN_YEAR}-{MAX_YEAR}")
            return None
        money = self.plain_amounts.get(row[self.amount]) if self.plain is not None else None
        if money is None:
            money = self._money(row, line)
        amount, written, stored = money
        if amount is None:
            return None
        chosen, category, bank_type = texts.chosen, texts.category, texts.bank_type
        if texts.summary:
            self.skips.add(line, f"balance or summary row: {chosen[:80]!r}")
            return None
        if amount.is_zero():
            self.skips.add(line, f"zero amount ({written})")
            return None
        if texts.invalid:
            self._text_problems(row, line, category, chosen)
            return None
        code = row[self.currency].strip().upper() if self.currency is not None else ""
        if code:
            currency = code
        elif self.layout.currency or written.isascii():
            currency = self.layout.currency or None
        else:
            currency = currency_of(written)  # '£1.50', '€ 3,00'
        external_id = row[self.id].strip() if self.id is not None else ""
        money_in = amount.is_signed()  # not zero here: signed is negative
        hint = texts.hints.get(money_in, _UNSET)
        if hint is _UNSET:
            hint = texts.hint(money_in)
        if hint is None and money_in and self.parties.receives(*self._party(row)):
            hint = "transfer"  # money back from where this account's transfers go
        # By position: a dozen keyword arguments would cost more than the rest of the row.
        return ParsedRow(
            line,
            timestamp,
            has_time,
            stored,
            chosen,  # description
            texts.notes,
            category or None,
            bank_type or None,
            currency,
            external_id or None,
            hint,
        )

    def _texts(self, row: list[str], key: object) -> _Texts:
        """What the row's text cells say, kept: a large file repeats few texts."""
        if len(self.text_cache) >= TEXT_CACHE_SIZE:
            self.text_cache.clear()
        found = self.text_cache[key] = self._read_texts(row)
        return found

    def _read_texts(self, row: list[str]) -> _Texts:
        payee = self._text(row, self.payees)
        described = self._text(row, self.descriptions)
        noted = self._text(row, self.notes)
        bank_type = row[self.type].strip() if self.type is not None else ""
        chosen = (payee or described or noted or [bank_type])[0]
        rest = [text for text in described + noted if text != chosen]
        category = row[self.category].strip() if self.category is not None else ""
        if category.startswith("'"):
            category = restore(category)
        any_text = payee or described or noted
        return _Texts(
            chosen=chosen,
            notes=" | ".join(rest) or None,
            category=category,
            bank_type=bank_type,
            summary=bool(chosen[:1].isalpha() and _is_balance_or_summary(chosen)),
            invalid=(
                len(category) > MAX_CATEGORY_LENGTH
                or len(chosen) > MAX_DESCRIPTION_LENGTH
                or "\x00" in category
                or "\x00" in chosen
            ),
            continuation=" ".join(dict.fromkeys(payee + described + noted)) if any_text else None,
        )

    def _money_cells(self, row: list[str]) -> list[str]:
        return [row[i].strip() for i in self.money if row[i].strip()]

    def _text_problems(self, row: list[str], line: int, category: str, chosen: str) -> None:
        text_columns = self.payees + self.descriptions + self.notes
        described = next((i for i in text_columns if row[i].strip()), None)
        for index, value, limit in (
            (self.category, category, MAX_CATEGORY_LENGTH),
            (described, chosen, MAX_DESCRIPTION_LENGTH),
        ):
            if len(value) > limit:
                self.problem(line, index, value, f"longer than {limit}")
            elif "\x00" in value:
                self.problem(line, index, value, "contains a NUL character")


def _records(stream: BinaryIO, encoding: str, layout: Layout) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of each record after the header."""
    text = open_text(stream, encoding)
    reader = csv.reader(text, delimiter=layout.delimiter, escapechar=layout.escapechar)
    line = 1
    try:
        for _ in range(layout.header_records):
            next(reader, None)
            line = reader.line_num + 1
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        raise ParseFailed(f"The file is not valid CSV near line {line}: {error}.") from None
    except UnicodeDecodeError:
        raise ParseFailed(
            f"The file is not valid {encoding} text (near line {line}); "
            "give the right encoding option (e.g. cp1252) or save the file as UTF-8."
        ) from None
    finally:
        close_text(text)


def _sign(
    evidence: _Evidence, reader: _Reader, options: ParseOptions
) -> tuple[bool, str, str | None]:
    """(negate, name, undecided): whether spending is written negative."""
    if options.amount_sign:
        return options.amount_sign == "spend_negative", options.amount_sign, None
    if reader.amount is None:
        return False, "debit/credit columns", None
    if reader.own_format:
        return False, "spend_positive", None
    sign = evidence.sign
    if reader.direction is not None and not sign.negative:
        return False, "by the direction column (unmarked: money out)", None
    if sign.strong:
        return sign.strong > 0, "spend_negative" if sign.strong > 0 else "spend_positive", None
    total = sign.positive + sign.negative
    if sign.negative >= SIGN_MAJORITY * total and sign.negative:
        return True, "spend_negative", None
    if sign.positive >= SIGN_MAJORITY * total:
        return False, "spend_positive", None
    if sign.weak:
        return sign.weak > 0, "spend_negative" if sign.weak > 0 else "spend_positive", None
    return (
        True,
        "spend_negative",
        (
            f"Cannot tell from the file whether spending is written as positive or negative "
            f"({sign.positive} positive and {sign.negative} negative amounts); read as negative: "
            "confirm, or give amount_sign=spend_positive."
        ),
    )


def read_csv(
    stream: BinaryIO, *, encoding: str, head: str, complete: bool, options: ParseOptions
) -> ParsedFile:
    named = any(
        isinstance(target, str) and not target.strip().isdigit()
        for value in (options.mapping or {}).values()
        for target in (value if isinstance(value, list) else [value])
    )
    layout, sample = find_layout(head, has_header=options.has_header, header_named=named)
    if options.mapping:
        apply_mapping(layout, options.mapping)
    roles = set(layout.columns.values())
    if "date" not in roles or not has_money(layout.columns):
        missing = "a date" if "date" not in roles else "an amount (or debit/credit)"
        shown = ", ".join(cell.strip() for cell in layout.header or [])[:300]
        raise ParseFailed(
            f"No column for {missing} was found in the header (line {layout.header_line}: "
            f"{shown}); give the mapping option."
        )
    skips = SkipLog()
    reader = _Reader(layout, skips)
    reader.other_dates = layout.date_columns(sample, besides=reader.date)
    evidence = _Evidence()
    # The sample holds at most SAMPLE_ROWS rows: past that even a head that is the whole
    # file is read again, so every row is evidence.
    whole = complete and len(sample) < SAMPLE_ROWS
    rows = sample if whole else (row for _, row in _records(stream, encoding, layout))
    for count, row in enumerate(rows, start=1):
        if reader.own_format and count > OWN_FORMAT_SAMPLE_ROWS and evidence.dates.settled:
            break  # its sign and decimal point are fixed: only the dates needed a look
        if count > SCAN_SAMPLE_ROWS:
            # Separators and signs are settled by a large sample; only a day/month order
            # that no value has settled yet needs the rest of the date column.
            if evidence.dates.settled:
                break
            reader.gather_date(row, evidence)
            continue
        reader.gather(row, evidence)
    if not evidence.rows:
        raise ParseFailed(NO_ROWS)
    undecided = list(layout.undecided)
    reader.decimal = "." if reader.own_format else evidence.separators.decide(layout.delimiter)
    if options.date_format:
        reader.date_format = strptime_format(options.date_format)
    else:
        evidence.dates.bounds_from(evidence.other_dates)
        hints = () if reader.own_format else evidence.date_hints(layout, reader.decimal)
        reader.date_format, unsure = evidence.dates.decide(hints)
        if reader.date_format is None:
            raise ParseFailed(unsure)
        if unsure:
            undecided.append(unsure)
    reader.negate, sign_name, unsure = _sign(evidence, reader, options)
    reader.parties.settle(negate=reader.negate)
    if reader.amount is not None and reader.direction is None:
        reader.plain = plain_matcher(reader.decimal)
    if unsure:
        undecided.append(unsure)
    detection = Detection(
        format="csv",
        encoding=encoding,
        delimiter=layout.delimiter,
        header_line=layout.header_line,
        header=layout.header,
        columns=dict(sorted(layout.columns.items())),
        date_format=reader.date_format.name,
        amount_sign=sign_name,
        decimal_separator=reader.decimal,
        currency=layout.currency,
        undecided=undecided,
        signature=layout.signature(sample),
    )
    logger.info("csv layout %s", detection)
    return ParsedFile(detection, _rows(stream, encoding, reader), skips)


def _advice(reader: _Reader) -> str:
    """What to do about the problems: fix the rows, or the option that reads them right."""
    columns = {problem.column for problem in reader.problems}
    date_column = reader.layout.column_name(reader.date) if reader.date is not None else None
    hints = []
    if date_column in columns:
        hints.append(f"the dates were read as {reader.date_format.name}: give date_format")
    money = {reader.layout.column_name(index) for index in reader.money}
    if money & columns:
        hints.append("the wrong column may be the amount: give the mapping option")
    if not hints:
        return " Correct the listed rows and import the file again."
    return " Correct the listed rows, or if " + "; or if ".join(hints) + "."


def _rows(stream: BinaryIO, encoding: str, reader: _Reader) -> Iterator[ParsedRow]:
    """Rows one record behind the file, so continuation lines can join the row above."""
    convert = reader.convert
    held: ParsedRow | None = None
    kept = 0
    for line, record in _records(stream, encoding, reader.layout):
        result = convert(record, line)
        if result is None:
            continue
        if isinstance(result, str):
            if held is None:
                reader.skips.add(line, f"text line with no transaction above it: {result[:80]!r}")
            else:
                held = replace(held, description=f"{held.description} {result}")
                reader.skips.add(line, f"continuation of line {held.line}, joined to it")
            continue
        if held is not None and not reader.problem_count:
            kept += 1
            yield held
        held = result
    if held is not None and not reader.problem_count:
        kept += 1
        yield held
    if reader.problem_count:
        noun = "row is" if reader.problem_count == 1 else "rows are"
        raise ParseFailed(
            f"{reader.problem_count} {noun} invalid; nothing was imported." + _advice(reader),
            reader.problems,
            reader.problem_count,
        )
    if not kept:
        message = NO_ROWS
        if reader.skips.count:
            message += f" {reader.skips.count} rows were skipped (pending, zero or notices)."
        raise ParseFailed(message)
