"""CSV export in the project's own format, streamed, safe to open in a spreadsheet.

Format: header `timestamp,amount,category,description`; ISO timestamps; amounts with
two decimals, positive = money spent; oldest first.

Formula neutralisation: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`
(and, in some, tab or CR) as a formula. Text cells (category, description) that
start with one of those, possibly after some `'`, get one more `'` in front. The
rule is reversible without ambiguity: the importer removes one `'` from any text
cell made of one or more `'` followed by one of those characters (`restore`), so
`=SUM(A1)` exports as `'=SUM(A1)` and `'=x` as `''=x`, and both import back as
they were stored.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TextIO

HEADER = ("timestamp", "amount", "category", "description")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]").match
_QUOTED = re.compile(r"'+[=+\-@\t\r]").match
FLUSH_ROWS = 2000


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet shows it as text, never as a formula."""
    return "'" + cell if _NEEDS_QUOTE(cell) else cell


def restore(cell: str) -> str:
    """The inverse of `neutralise` (see the module docstring)."""
    return cell[1:] if _QUOTED(cell) else cell


def format_row(
    timestamp: datetime, amount: Decimal, category: str, description: str | None
) -> tuple[str, str, str, str]:
    return (
        timestamp.isoformat(),
        f"{amount:.2f}",
        neutralise(category),
        neutralise(description) if description else "",
    )


def csv_chunks(rows: Iterable) -> Iterator[bytes]:
    """UTF-8 CSV in chunks of about FLUSH_ROWS rows; rows have timestamp, amount,
    category and description attributes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    pending = 0
    for row in rows:
        writer.writerow(format_row(row.timestamp, row.amount, row.category, row.description))
        pending += 1
        if pending >= FLUSH_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


def write_csv(rows: Iterable, stream: TextIO | io.RawIOBase | io.BufferedIOBase) -> int:
    """Write rows (e.g. NewTransaction values) to a text or binary stream in the
    project's own format; returns the number of rows written."""
    count = 0

    def counted() -> Iterator:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    binary = not isinstance(stream, io.TextIOBase)
    for chunk in csv_chunks(counted()):
        stream.write(chunk if binary else chunk.decode())
    return count
