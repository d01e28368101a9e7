"""Storing an import: the rows `spending_api.ingest` reads, all or nothing, without duplicates.

One path serves `POST /transactions/import`, `spending-admin import-csv` and the
dashboard's upload button. `ingest.parse` decides the file's format and layout and
streams its rows; here they stream on into `insert_transactions` (into an account
with no keys yet, one COPY straight into transactions while the file is read; else COPY
into a staging table, then one INSERT ... SELECT with ON CONFLICT and the removed
keys), so a million-row file never sits in memory. Any invalid row, a guess the user
has not confirmed, or a file that mixes currencies makes the import fail: the session
is rolled back and `ImportFailed` is raised. Nothing is committed here: the caller
commits on success.

The duplicate key is the bank's own transaction id (OFX FITID) when the row has one,
else the row's fingerprint (see `repository.dedup_base`).

Each import goes into an account (default: the user's first) and is recorded in
`imports`, so it can be listed and removed with exactly its rows. Options that read a
file are saved on the account as an import profile, keyed by the file's layout
(`ingest.file_signature`), and used for the next file of that layout sent without
options. After the rows are stored, transfers between the user's accounts are paired.
"""

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from sqlalchemy.orm import Session

from spending_api.accounts.repository import account_kind, default_account_id
from spending_api.categories.defaults import (
    CARD_PAYMENT,
    OTHER_INCOME,
    SALARY,
    TRANSFER,
    UNCATEGORIZED,
    UNCATEGORIZED_INCOME,
    kind_for_name,
)
from spending_api.categories.repository import category_names
from spending_api.errors import BAD_MAPPING
from spending_api.rules.service import run_for_import as run_rules_for_import
from spending_api.imports import repository as imports
from spending_api.ingest import (
    ParsedFile,
    ParsedRow,
    ParseFailed,
    ParseOptions,
    file_signature,
    parse,
    seekable,
)
from spending_api.ingest.kinds import (
    is_bare_transfer,
    is_cash_withdrawal,
    is_refund,
    is_salary,
)
from spending_api.transactions.repository import NewTransaction, insert_transactions
from spending_api.transfers.repository import lock_ledger, pair_transfers
from spending_api.transactions.schemas import (
    DetectedColumn,
    DetectionOut,
    ImportPreview,
    ImportResult,
    ImportRowError,
    PreviewRowOut,
    SkippedRowOut,
)

logger = logging.getLogger(__name__)

MAX_LISTED_CURRENCIES = 10
PREVIEW_ROWS = 20
# The import's options are the parser's: mapping, has_header, date_format, amount_sign, encoding.
ImportOptions = ParseOptions


class ImportFailed(ParseFailed):
    """The file was rejected; nothing was stored. `detail()` is the 422 body's detail."""

    @classmethod
    def from_parse(cls, failed: ParseFailed) -> "ImportFailed":
        return cls(failed.message, failed.problems, failed.problem_count)

    def describe(self) -> str:
        lines = [self.message]
        for problem in self.problems:
            lines.append(
                f"  line {problem.line}, {problem.column} {problem.value!r}: {problem.reason}"
            )
        if self.problem_count > len(self.problems):
            lines.append(f"  ... and {self.problem_count - len(self.problems)} more")
        return "\n".join(lines)


def _column_reference(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def mapping_from_json(text: str | None) -> dict[str, str | int | list[str | int]] | None:
    """The `mapping` option as written by a caller: a JSON object role -> header text or
    0-based column index (or a list of them). The roles are checked by the parser."""
    if text is None:
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        _column_reference(target)
        or (isinstance(target, list) and target and all(map(_column_reference, target)))
        for target in mapping.values()
    ):
        raise ImportFailed(BAD_MAPPING)
    return mapping


def parse_upload(
    stream: BinaryIO, *, options: ParseOptions, filename: str | None = None
) -> ParsedFile:
    """The file's detection and row stream; ImportFailed when it cannot be read."""
    try:
        return parse(stream, filename=filename, options=options)
    except ParseFailed as failed:
        raise ImportFailed.from_parse(failed) from None


NO_OPTIONS = ParseOptions()
MAX_CATEGORY_LENGTH = 100  # categories.name


def options_to_json(options: ParseOptions) -> dict:
    """The options given, as an import profile keeps them."""
    return {name: value for name, value in dataclasses.asdict(options).items() if value is not None}


def options_from_json(saved: dict) -> ParseOptions:
    fields = {field.name for field in dataclasses.fields(ParseOptions)}
    return ParseOptions(**{name: value for name, value in saved.items() if name in fields})


def _profile_options(
    session: Session, *, user_id: int, account_id: int, stream: BinaryIO, filename: str | None
) -> ParseOptions | None:
    """The options saved on the account for this file's layout, if any."""
    if not imports.has_profiles(session, user_id=user_id, account_id=account_id):
        return None
    saved = imports.find_profile(
        session,
        user_id=user_id,
        account_id=account_id,
        signature=file_signature(stream, filename=filename),
    )
    return None if saved is None else options_from_json(saved)


def resolve_options(
    session: Session,
    *,
    user_id: int,
    account_id: int,
    stream: BinaryIO,
    options: ParseOptions,
    filename: str | None,
) -> tuple[ParseOptions, bool]:
    """The options to read the file with, and whether they came from an import profile
    (only when the caller gave none)."""
    if options != NO_OPTIONS:
        return options, False
    saved = _profile_options(
        session, user_id=user_id, account_id=account_id, stream=stream, filename=filename
    )
    return (options, False) if saved is None else (saved, True)


def _account_and_options(
    session: Session,
    *,
    user_id: int,
    account_id: int | None,
    stream: BinaryIO,
    options: ParseOptions,
    filename: str | None,
) -> tuple[int, BinaryIO, ParseOptions, bool]:
    """The account (default: the user's first), the stream made seekable, and the options
    to read with: the ones given, else the account's profile for this file's layout (then
    True)."""
    if account_id is None:
        account_id = default_account_id(session, user_id=user_id)
    stream = seekable(stream)
    options, from_profile = resolve_options(
        session,
        user_id=user_id,
        account_id=account_id,
        stream=stream,
        options=options,
        filename=filename,
    )
    return account_id, stream, options, from_profile


def import_csv(
    session: Session,
    *,
    user_id: int,
    stream: BinaryIO,
    options: ParseOptions,
    filename: str | None = None,
    account_id: int | None = None,
) -> ImportResult:
    """Import a bank export (CSV, OFX, QIF, CAMT.053) into the user's account (default:
    the first; the caller checks that it is the user's), all or nothing; the caller
    commits. Raises ImportFailed (after rolling the session back)."""
    account_id, stream, options, from_profile = _account_and_options(
        session,
        user_id=user_id,
        account_id=account_id,
        stream=stream,
        options=options,
        filename=filename,
    )
    try:
        parsed = parse_upload(stream, options=options, filename=filename)
        parsed.require_decided()
    except ParseFailed as failed:
        raise _said_profile(ImportFailed.from_parse(failed), from_profile) from None
    logger.info("importing for user %s: %s", user_id, parsed.detection)
    lock_ledger(session, user_id=user_id)  # pairs and categories: transfers.repository
    import_id = imports.start_import(
        session,
        user_id=user_id,
        account_id=account_id,
        file_name=filename,
        file_format=parsed.detection.format,
    )
    names = CategoryNames(category_names(session, user_id=user_id))
    card = account_kind(session, user_id=user_id, account_id=account_id) == "credit_card"
    rows = _new_transactions(
        parsed, lambda row: to_new_transaction(row, categories=names, card_account=card)
    )
    try:
        counts = insert_transactions(
            session, user_id=user_id, rows=rows, account_id=account_id, import_id=import_id
        )
    except ParseFailed as failed:
        session.rollback()
        raise _said_profile(ImportFailed.from_parse(failed), from_profile) from None
    finally:
        rows.close()  # while the stream is still open, if the insert gave up early
    imports.finish_import(
        session,
        user_id=user_id,
        import_id=import_id,
        counts=imports.ImportCounts(
            row_count=counts.total,
            inserted=counts.inserted,
            duplicates=counts.skipped,
            skipped=parsed.skipped_count,
        ),
    )
    if options != NO_OPTIONS and not from_profile:
        imports.save_profile(
            session,
            user_id=user_id,
            account_id=account_id,
            signature=file_signature(stream, filename=filename),
            options=options_to_json(options),
        )
    if counts.inserted:
        # The user's rules come after what the file said, and before the pairing (which
        # leaves rule categories alone).
        run_rules_for_import(session, user_id=user_id, import_id=import_id)
    pair_transfers(session, user_id=user_id, import_id=import_id, new_rows=counts.inserted)
    return ImportResult(
        import_id=import_id,
        account_id=account_id,
        inserted=counts.inserted,
        skipped_duplicates=counts.skipped,
        total_rows=counts.total,
        skipped_rows=_skipped(parsed),
        skipped_row_count=parsed.skipped_count,
        profile_used=from_profile,
    )


PROFILE_NOTE = (
    " (The file was read with the import options saved for its layout on this account; "
    "give options to read it differently.)"
)


def _said_profile(failed: ImportFailed, from_profile: bool) -> ImportFailed:
    """The refusal, saying when the saved options were the ones that failed."""
    if not from_profile:
        return failed
    return ImportFailed(failed.message + PROFILE_NOTE, failed.problems, failed.problem_count)


class CategoryNames:
    """The user's category names by case-folded form: a bank's 'GROCERIES' is the user's
    'Groceries'; a new name's first spelling in the file is the one kept."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._by_fold = {name.casefold(): name for name in names}
        self._seen: dict[str, str] = {}  # as written -> the user's name (few distinct)
        self._kinds: dict[str, tuple[str, str]] = {}  # as written -> (name, its kind)

    def __call__(self, written: str) -> str:
        found = self._seen.get(written)
        if found is None:
            name = written[:MAX_CATEGORY_LENGTH]  # as written: only the case may differ
            found = self._seen[written] = self._by_fold.setdefault(name.casefold(), name)
        return found

    def with_kind(self, written: str) -> tuple[str, str]:
        """The user's name for a bank's category and the kind that name suggests
        (`kind_for_name`), worked out once per distinct spelling."""
        found = self._kinds.get(written)
        if found is None:
            name = self(written)
            found = self._kinds[written] = (name, kind_for_name(name))
        return found


def to_new_transaction(
    row: ParsedRow, *, categories: CategoryNames | None = None, card_account: bool = False
) -> NewTransaction:
    """What the database stores of a parsed row, classified by what the file says:
    - the bank's category (mapped onto the user's category of that name, any case; a new
      name gets the kind it suggests), unless the file calls the row a transfer or card
      payment and the category is not one (QIF's [Account], Mint's 'Checking');
    - else the file's hints: a card payment, a transfer (not the bare word "transfer",
      as often a payment to someone: pairing finds those between the user's accounts),
      income (payroll words: Salary, else Other income);
    - else money in that the file calls a refund, or any other money in to a credit card
      account, lowers spending (Uncategorized);
    - else Uncategorized income for money in, Uncategorized for money out."""
    resolve = categories or CategoryNames()
    hint = row.kind_hint
    if hint == "transfer":
        texts = (row.bank_type, row.description, row.notes)
        if is_bare_transfer(texts) or is_cash_withdrawal(texts):
            # "TRANSFER To JOHN SMITH" is a payment, cash taken out is spent; pairing
            # still finds the moves between the user's own accounts.
            hint = None
    category = None
    if row.bank_category:
        name, kind = resolve.with_kind(row.bank_category)
        if hint not in ("transfer", "card_payment") or kind == "transfer":
            category, source = name, "bank"
    if category is None:
        texts = (row.bank_type, row.description, row.notes)
        category, source, kind = _by_hints(row, hint, texts, card_account)
        category = resolve(category)
    # By position (notes, category_source, category_kind last): keywords cost more per row.
    return NewTransaction(
        row.timestamp,
        row.amount,
        category,
        row.description or None,
        row.line,
        row.external_id,
        row.kind_hint,
        row.notes or None,
        source,
        kind,
    )


def _by_hints(
    row: ParsedRow, hint: str | None, texts: tuple, card_account: bool
) -> tuple[str, str, str]:
    """(category, source, kind) of a row the bank's category does not decide."""
    if hint == "card_payment":
        return CARD_PAYMENT, "bank", "transfer"
    if hint == "transfer":
        return TRANSFER, "bank", "transfer"
    if hint == "income" and row.amount < 0:
        return (SALARY if is_salary(texts) else OTHER_INCOME), "bank", "income"
    if row.amount < 0 and is_refund(texts):
        return UNCATEGORIZED, "bank", "spending"
    if row.amount < 0 and card_account:
        # Money in to a card that pays nothing off and earns nothing is a merchant's credit.
        return UNCATEGORIZED, "default", "spending"
    if row.amount < 0:
        return UNCATEGORIZED_INCOME, "default", "income"
    return UNCATEGORIZED, "default", "spending"


def _new_transactions(
    parsed: ParsedFile, convert: Callable[[ParsedRow], NewTransaction]
) -> Iterator[NewTransaction]:
    """The rows, then a verdict: raising here aborts the COPY (and the import)."""
    currencies: set[str] = set()
    for row in parsed.rows():
        if row.currency is not None:
            currencies.add(row.currency)
        yield convert(row)
    if len(currencies) > 1:
        shown = ", ".join(sorted(currencies)[:MAX_LISTED_CURRENCIES])
        raise ImportFailed(f"The file mixes currencies ({shown}); import one currency at a time.")


def preview_import(
    session: Session,
    *,
    user_id: int,
    stream: BinaryIO,
    options: ParseOptions,
    filename: str | None = None,
    account_id: int | None = None,
) -> ImportPreview:
    """What an import of the file into the account would do, storing nothing: the
    detection (with the account's import profile when no options are given), the first
    rows, the rows it would skip and the problems that would refuse it."""
    account_id, stream, options, from_profile = _account_and_options(
        session,
        user_id=user_id,
        account_id=account_id,
        stream=stream,
        options=options,
        filename=filename,
    )
    parsed = parse_upload(stream, options=options, filename=filename)
    first: list[ParsedRow] = []
    message, problems, problem_count = None, [], 0
    try:
        for row in parsed.rows():
            if len(first) < PREVIEW_ROWS:
                first.append(row)
    except ParseFailed as failed:
        message, problems, problem_count = failed.message, failed.problems, failed.problem_count
    if message is None and parsed.detection.undecided:
        message = " ".join(parsed.detection.undecided)
    detection = parsed.detection
    header = detection.header
    return ImportPreview(
        detection=DetectionOut(
            format=detection.format,
            encoding=detection.encoding,
            delimiter=detection.delimiter,
            header_line=detection.header_line if header else None,
            header=header,
            columns=[
                DetectedColumn(
                    index=index,
                    name=header[index] if header and index < len(header) else None,
                    role=role,
                )
                for index, role in sorted(detection.columns.items())
            ],
            mapping=detection.mapping(),
            date_format=detection.date_format,
            amount_sign=detection.amount_sign,
            decimal_separator=detection.decimal_separator,
            currency=detection.currency,
            undecided=detection.undecided,
        ),
        rows=[
            PreviewRowOut(
                line=row.line,
                timestamp=row.timestamp,
                amount=row.amount,
                description=row.description,
                notes=row.notes,
                category=row.bank_category,
                type=row.bank_type,
                currency=row.currency,
                external_id=row.external_id,
                kind_hint=row.kind_hint,
            )
            for row in first
        ],
        skipped_rows=_skipped(parsed),
        skipped_row_count=parsed.skipped_count,
        problems=[ImportRowError(**problem.as_dict()) for problem in problems],
        problem_count=problem_count,
        message=message,
        account_id=account_id,
        profile_used=from_profile,
        options=options_to_json(options),
    )


def _skipped(parsed: ParsedFile) -> list[SkippedRowOut]:
    return [SkippedRowOut(line=skip.line, reason=skip.reason) for skip in parsed.skipped]
