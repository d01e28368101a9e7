"""Storing an import: the rows `spending_api.ingest` reads, all or nothing, without duplicates.

One path serves `POST /transactions/import`, `spending-admin import-csv` and the
dashboard's upload button. `ingest.parse` decides the file's format and layout and
streams its rows; here they stream on into `insert_transactions` (COPY into a
staging table, then one INSERT ... ON CONFLICT), so a million-row file never sits in
memory. Any invalid row, a guess the user has not confirmed, or a file that mixes
currencies makes the import fail: the session is rolled back and `ImportFailed` is
raised. Nothing is committed here: the caller commits on success.

The duplicate key is the bank's own transaction id (OFX FITID) when the row has one,
else the row's fingerprint (see `repository.dedup_base`).
"""

import json
import logging
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy.orm import Session

from spending_api.categories.defaults import (
    CARD_PAYMENT,
    TRANSFER,
    UNCATEGORIZED,
    UNCATEGORIZED_INCOME,
    kind_for_name,
)
from spending_api.errors import BAD_MAPPING
from spending_api.ingest import ParsedFile, ParsedRow, ParseFailed, ParseOptions, parse
from spending_api.transactions.repository import NewTransaction, insert_transactions
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


def import_csv(
    session: Session,
    *,
    user_id: int,
    stream: BinaryIO,
    options: ParseOptions,
    filename: str | None = None,
) -> ImportResult:
    """Import a bank export (CSV, OFX, QIF, CAMT.053) for the user, all or nothing; the
    caller commits. Raises ImportFailed (after rolling the session back)."""
    parsed = parse_upload(stream, options=options, filename=filename)
    try:
        parsed.require_decided()
    except ParseFailed as failed:
        raise ImportFailed.from_parse(failed) from None
    logger.info("importing for user %s: %s", user_id, parsed.detection)
    rows = _new_transactions(parsed)
    try:
        counts = insert_transactions(session, user_id=user_id, rows=rows)
    except ParseFailed as failed:
        session.rollback()
        raise ImportFailed.from_parse(failed) from None
    finally:
        rows.close()  # while the stream is still open, if the insert gave up early
    return ImportResult(
        inserted=counts.inserted,
        skipped_duplicates=counts.skipped,
        total_rows=counts.total,
        skipped_rows=_skipped(parsed),
        skipped_row_count=parsed.skipped_count,
    )


def to_new_transaction(row: ParsedRow) -> NewTransaction:
    """What the database stores of a parsed row: the bank's category when the file has
    one (a new name gets the kind it suggests), else what the file's hints say (a card
    payment, a transfer), else Uncategorized for money out and Uncategorized income
    for money in."""
    if row.bank_category:
        category, source, kind = row.bank_category, "bank", kind_for_name(row.bank_category)
    elif row.kind_hint == "card_payment":
        category, source, kind = CARD_PAYMENT, "bank", "transfer"
    elif row.kind_hint == "transfer":
        category, source, kind = TRANSFER, "bank", "transfer"
    elif row.amount < 0:
        category, source, kind = UNCATEGORIZED_INCOME, "default", "income"
    else:
        category, source, kind = UNCATEGORIZED, "default", "spending"
    return NewTransaction(
        row.timestamp,
        row.amount,
        category,
        row.description or None,
        row.line,
        row.external_id,
        row.kind_hint,
        notes=row.notes or None,
        category_source=source,
        category_kind=kind,
    )


def _new_transactions(parsed: ParsedFile) -> Iterator[NewTransaction]:
    """The rows, then a verdict: raising here aborts the staging (and the COPY)."""
    currencies: set[str] = set()
    convert = to_new_transaction
    for row in parsed.rows():
        if row.currency is not None:
            currencies.add(row.currency)
        yield convert(row)
    if len(currencies) > 1:
        shown = ", ".join(sorted(currencies)[:MAX_LISTED_CURRENCIES])
        raise ImportFailed(f"The file mixes currencies ({shown}); import one currency at a time.")


def preview_import(
    stream: BinaryIO, *, options: ParseOptions, filename: str | None = None
) -> ImportPreview:
    """What an import of the file would do, storing nothing: the detection, the first
    rows, the rows it would skip and the problems that would refuse it."""
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
    )


def _skipped(parsed: ParsedFile) -> list[SkippedRowOut]:
    return [SkippedRowOut(line=skip.line, reason=skip.reason) for skip in parsed.skipped]
