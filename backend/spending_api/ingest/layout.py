"""Where a CSV file's header is (after any preamble), its delimiter, and each column's role.

A header is found by its words (vocabulary.py). A file without one gets its date, amount
and text columns from their content; that guess is listed as undecided so a user confirms
it once (and the mapping is saved as an import profile).
"""

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from spending_api.ingest.amounts import direction_of, looks_like_amount
from spending_api.ingest.dates import is_pending_word, looks_like_date
from spending_api.ingest.model import ROLES, ParseFailed
from spending_api.ingest.vocabulary import has_money, map_header, normalise_header

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 40
SAMPLE_ROWS = 200
MONEY_ROLES = ("amount", "debit", "credit")


@dataclass
class Layout:
    delimiter: str
    header: list[str] | None
    header_records: int  # csv records up to and including the header (0 when none)
    header_line: int | None
    columns: dict[int, str]
    currency: str | None
    width: int
    undecided: list[str]
    escapechar: str | None = None

    def column_name(self, index: int) -> str:
        if self.header and index < len(self.header) and self.header[index].strip():
            return self.header[index].strip()
        return f"column {index + 1}"

    def indexes(self, role: str) -> list[int]:
        return [index for index, name in sorted(self.columns.items()) if name == role]

    def index(self, role: str) -> int | None:
        found = self.indexes(role)
        return found[0] if found else None

    def date_columns(self, sample: list[list[str]], *, besides: int | None) -> list[int]:
        """The columns other than `besides` whose every value in the sample is a date: a
        value or posting date beside the transaction date, unmapped or not."""
        return [
            index
            for index in range(self.width)
            if index != besides and _column_shape(sample, index) == "d"
        ]

    def signature(self, sample: list[list[str]]) -> str:
        if self.header:
            text = "|".join(normalise_header(cell) for cell in self.header)
        else:
            text = f"no header|{self.width}|" + "".join(
                _column_shape(sample, i) for i in range(self.width)
            )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def escape_char(head: str) -> str | None:
    """A backslash before quotes inside quoted cells ("QUOTES \\"CO\\""), where the file never
    doubles a quote, is that writer's escape character."""
    if '\\"' in head and not _DOUBLED_QUOTE.search(head):
        return "\\"
    return None


_DOUBLED_QUOTE = re.compile(r'[^,;\t|\r\n"\\]""')


def _records(
    head: str, delimiter: str, escapechar: str | None = None
) -> list[tuple[int, list[str]]]:
    """(first physical line, cells) of each record in the head."""
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter, escapechar=escapechar)
    records, line = [], 1
    try:
        for row in reader:
            records.append((line, row))
            line = reader.line_num + 1
    except csv.Error:
        pass
    return records


def _non_empty(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _column_shape(rows: list[list[str]], index: int) -> str:
    values = [row[index].strip() for row in rows if index < len(row) and row[index].strip()]
    if not values:
        return "e"
    if all(looks_like_date(value) or is_pending_word(value) for value in values):
        return "d"
    if all(looks_like_amount(value) for value in values):
        return "n"
    return "t"


def _refine_by_content(columns: dict[int, str], rows: list[list[str]], width: int) -> None:
    """Content settles what words cannot: a type column of D/C words is the direction, an
    unnamed column of CR markers too; an id that repeats is no id; a constant text column
    (the account's name on every row) describes nothing when another text column does."""

    def values(index: int) -> list[str]:
        return [row[index].strip() for row in rows if index < len(row) and row[index].strip()]

    if "direction" not in columns.values():
        candidates = [i for i, role in columns.items() if role == "type"] + [
            i for i in range(width) if i not in columns
        ]
        for index in candidates:
            found = values(index)
            if found and all(direction_of(value) for value in found):
                columns[index] = "direction"
                break
    for index, role in list(columns.items()):
        found = values(index)
        if role == "id" and len(set(found)) < len(found):
            del columns[index]
        if role == "description" and len(found) >= 3 and len(set(found)) == 1:
            if sum(1 for r in columns.values() if r == "description") > 1:
                del columns[index]


def _best_header(head: str) -> tuple[str, int, int, list[str], dict[int, str], str | None] | None:
    best = None
    for delimiter in DELIMITERS:
        records = _records(head, delimiter)
        non_empty = [(n, line, row) for n, (line, row) in enumerate(records) if _non_empty(row)]
        for position, (number, line, row) in enumerate(non_empty[:HEADER_SEARCH_ROWS]):
            columns, currency = map_header(row)
            roles = set(columns.values())
            if "date" not in roles or not has_money(columns):
                continue
            following = [r for _, _, r in non_empty[position + 1 : position + 21]]
            widths = Counter(len(r) for r in following)
            fits = bool(widths) and widths.most_common(1)[0][0] >= len(row) - 1
            score = len(roles) + (3 if fits else 0)
            if best is None or score > best[0]:
                best = (score, delimiter, number + 1, line, row, columns, currency)
            break
    return best[1:] if best else None


def _headerless(head: str) -> Layout:
    best = None
    for delimiter in DELIMITERS:
        rows = [row for _, row in _records(head, delimiter) if _non_empty(row)][:SAMPLE_ROWS]
        if not rows:
            continue
        width, count = Counter(len(row) for row in rows).most_common(1)[0]
        if width >= 3 and (best is None or (count, width) > (best[1], best[2])):
            best = (delimiter, count, width, rows)
    if best is None:
        return None
    delimiter, _, width, rows = best
    rows = [row for row in rows if len(row) == width]
    shapes = [_column_shape(rows, index) for index in range(width)]
    columns: dict[int, str] = {}
    dates = [i for i, shape in enumerate(shapes) if shape == "d"]
    money = [i for i, shape in enumerate(shapes) if shape == "n"]
    texts = [i for i, shape in enumerate(shapes) if shape == "t"]
    if not dates or not money:
        return None
    columns[dates[0]] = "date"

    def filled(index: int) -> list[bool]:
        return [bool(row[index].strip()) for row in rows]

    always = [i for i in money if all(filled(i))]
    sometimes = [i for i in money if not all(filled(i))]
    if len(sometimes) >= 2:
        columns[sometimes[0]], columns[sometimes[1]] = "debit", "credit"
        if always:
            columns[always[-1]] = "balance"
    else:
        columns[always[0] if always else money[0]] = "amount"
        if len(always) > 1:
            columns[always[-1]] = "balance"
    for index in texts:
        found = [row[index].strip() for row in rows if row[index].strip()]
        if all(direction_of(value) for value in found):
            columns[index] = "direction"
        elif len(set(found)) <= max(3, len(found) // 3) and all(v.isupper() for v in found):
            columns[index] = "type"
    free = [i for i in texts if i not in columns]
    if free:
        columns[free[0]] = "description"
        for index in free[1:2]:
            columns[index] = "notes"
    roles = ", ".join(f"{role} = column {index + 1}" for index, role in sorted(columns.items()))
    undecided = [
        f"The file has no header row; its columns were guessed from their content ({roles}): "
        "confirm them, or give the mapping option (role -> column index)."
    ]
    return Layout(delimiter, None, 0, None, columns, None, width, undecided)


def _first_row_header(head: str) -> Layout | None:
    """The first row as the header, for a user who says there is one (or maps by name)
    when its words are not in the vocabulary: the delimiter that splits it widest."""
    best = None
    for delimiter in DELIMITERS:
        records = [(n, line, row) for n, (line, row) in enumerate(_records(head, delimiter))]
        records = [record for record in records if _non_empty(record[2])]
        if records and (best is None or len(records[0][2]) > len(best[1][2])):
            best = (delimiter, records[0])
    if best is None or len(best[1][2]) < 2:
        return None
    delimiter, (number, line, row) = best
    columns, currency = map_header(row)
    return Layout(delimiter, row, number + 1, line, columns, currency, len(row), [])


def find_layout(
    head: str, *, has_header: bool | None, header_named: bool = False
) -> tuple[Layout, list[list[str]]]:
    """The layout that explains the head best, and the head's rows after the header.

    `header_named`: the user's mapping names header cells, so the file has a header even
    when none of its words are known here.
    """
    found = None if has_header is False else _best_header(head)
    if found is not None:
        delimiter, records, line, header, columns, currency = found
        layout = Layout(delimiter, header, records, line, columns, currency, len(header), [])
    elif has_header or header_named:
        layout = _first_row_header(head)
        if layout is None:
            raise ParseFailed(_missing_columns_message(head))
    else:
        layout = _headerless(head)
        if layout is None:
            raise ParseFailed(_missing_columns_message(head))
    layout.escapechar = escape_char(head)
    records = _records(head, layout.delimiter, layout.escapechar)
    sample = [row for _, row in records[layout.header_records :]]
    sample = [row for row in sample if _non_empty(row)][:SAMPLE_ROWS]
    _refine_by_content(layout.columns, sample, layout.width)
    return layout, sample


def _missing_columns_message(head: str) -> str:
    candidates = []
    for delimiter in DELIMITERS:
        for _, row in _records(head, delimiter)[:HEADER_SEARCH_ROWS]:
            if len([cell for cell in row if cell.strip()]) >= 2:
                candidates.append(row)
    widest = max(candidates, key=len, default=[])
    shown = ", ".join(cell.strip() for cell in widest[:12])[:300]
    columns, _ = map_header(widest)
    missing = []
    if "date" not in columns.values():
        missing.append("a date column (Date, Transaction Date, Buchungstag, Datum, Fecha, ...)")
    if not has_money(columns):
        missing.append("an amount column (Amount, Betrag, Bedrag, Montant, or Debit/Credit)")
    what = " and ".join(missing) or "a header row"
    return (
        f"No header row with {what} was found, and the columns could not be told apart by "
        f"their content. Widest row seen: {shown}. Give the mapping option "
        "(role -> header text or column index)."
    )


def apply_mapping(layout: Layout, mapping: Mapping[str, str | int | list]) -> None:
    """The user's mapping over the detected one: named roles move, the rest stay unless
    their column is taken; a given money role replaces the detected money roles."""
    chosen: dict[int, str] = {}
    for role, target in mapping.items():
        if role not in ROLES:
            raise ParseFailed(f"Unknown role {role!r} in mapping; roles are: {', '.join(ROLES)}.")
        for item in target if isinstance(target, list) else [target]:
            chosen[_column_index(layout, role, item)] = role
    money_given = any(role in MONEY_ROLES for role in chosen.values())
    kept = {
        index: role
        for index, role in layout.columns.items()
        if index not in chosen and role not in mapping and not (money_given and role in MONEY_ROLES)
    }
    layout.columns = {**kept, **chosen}
    layout.undecided = []


def _column_index(layout: Layout, role: str, target: str | int) -> int:
    if isinstance(target, int) or (isinstance(target, str) and target.strip().isdigit()):
        index = int(target)
        if not 0 <= index < layout.width:
            raise ParseFailed(
                f"mapping: {role} -> column {index} is outside the file's {layout.width} columns "
                f"(0 to {layout.width - 1})."
            )
        return index
    names = [normalise_header(cell) for cell in layout.header or []]
    wanted = normalise_header(str(target))
    if wanted in names:
        return names.index(wanted)
    shown = ", ".join(cell.strip() for cell in layout.header or [])[:300] or "none (no header)"
    raise ParseFailed(
        f"mapping: {role} -> {target!r} is not a column of the file; columns: {shown}."
    )
