"""QIF files (Quicken Interchange Format), read with quiffen.

QIF writes money out as a negative amount; here it becomes positive. A category in
brackets ('[Savings]') names another account: a transfer. Whether dates are day-first is
decided from all of the file's D lines, like a CSV's date column.
"""

import re
from typing import BinaryIO

from quiffen import Qif
from quiffen.core.qif import ParserException

from spending_api.ingest.dates import DateEvidence
from spending_api.ingest.kinds import kind_hint
from spending_api.ingest.model import (
    Detection,
    ParsedFile,
    ParsedRow,
    ParseFailed,
    ParseOptions,
    SkipLog,
)

_DATE_LINE = re.compile(r"^D(.+)$", re.MULTILINE)


def _day_first(text: str, options: ParseOptions) -> tuple[bool, list[str]]:
    if options.date_format:
        return options.date_format.lstrip().startswith("%d"), []
    evidence = DateEvidence()
    for match in _DATE_LINE.finditer(text):
        evidence.add(match.group(1).strip().replace("'", "/").replace(" ", ""))
    date_format, undecided = evidence.decide()
    if date_format is None:
        raise ParseFailed(undecided)
    return date_format.name.startswith("DD"), [undecided] if undecided else []


def read_qif(stream: BinaryIO, *, encoding: str, options: ParseOptions) -> ParsedFile:
    stream.seek(0)
    text = stream.read().decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
    day_first, undecided = _day_first(text, options)
    try:
        qif = Qif.parse_string(text.strip(), day_first=day_first)
    except (ParserException, ValueError) as error:
        raise ParseFailed(f"The QIF file could not be read: {error}.") from None
    rows: list[ParsedRow] = []
    skips = SkipLog()
    for account in qif.accounts.values():
        for kind, transactions in account.transactions.items():
            for transaction in transactions:
                line = transaction.line_number or 0
                amount = -transaction.amount
                if amount == 0:
                    skips.add(line, "zero amount")
                    continue
                category = transaction.category.name if transaction.category else None
                description = transaction.payee or transaction.memo or category or ""
                if transaction.to_account:
                    hint = "transfer"
                else:
                    hint = kind_hint(
                        category=category,
                        bank_type=None,
                        texts=(description, transaction.memo),
                        money_in=amount < 0,
                    )
                rows.append(
                    ParsedRow(
                        line=line,
                        timestamp=transaction.date.replace(tzinfo=None),
                        has_time=False,
                        amount=amount,
                        description=description,
                        notes=transaction.memo if transaction.payee else None,
                        bank_category=category or transaction.to_account,
                        bank_type=getattr(kind, "value", str(kind)),
                        external_id=None,
                        kind_hint=hint,
                    )
                )
    if not rows:
        raise ParseFailed("The QIF file has no transactions.")
    detection = Detection(
        format="qif",
        encoding=encoding,
        date_format="DD/MM/YYYY" if day_first else "MM/DD/YYYY",
        amount_sign="spend_negative",
        undecided=undecided,
        signature="qif",
    )
    return ParsedFile(detection, iter(rows), skips)
