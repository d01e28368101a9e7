"""The values the ingest package hands out: options, detection, parsed rows, problems."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

AmountSign = Literal["spend_negative", "spend_positive"]
KindHint = Literal["income", "transfer", "card_payment"]
FileFormat = Literal["csv", "ofx", "qif", "camt053"]

# The roles a CSV column can play; `time`, `status`, `id` and `counter_account` are the
# file's own helpers (time of day, pending state, the bank's transaction id, the other
# party's account number).
ROLES = (
    "date",
    "amount",
    "debit",
    "credit",
    "direction",
    "description",
    "payee",
    "category",
    "type",
    "currency",
    "balance",
    "notes",
    "time",
    "status",
    "id",
    "counter_account",
)
MAX_REPORTED_PROBLEMS = 100
MAX_LISTED_SKIPS = 1000


@dataclass(frozen=True)
class ParseOptions:
    """What the user knows better than the file; every field optional."""

    mapping: Mapping[str, str | int] | None = None
    has_header: bool | None = None
    date_format: str | None = None
    amount_sign: AmountSign | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where, what was found, why it is wrong."""

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


class ParseFailed(Exception):
    """The file cannot be read as it is; `message` says what to do."""

    def __init__(self, message: str, problems: list[Problem] | None = None, count: int = 0):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.problem_count = max(count, len(self.problems))

    def detail(self) -> dict:
        return {
            "message": self.message,
            "error_count": self.problem_count,
            "errors": [problem.as_dict() for problem in self.problems],
        }


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str


class SkipLog:
    """The rows left out and why: the first MAX_LISTED_SKIPS, and how many in all."""

    def __init__(self) -> None:
        self.listed: list[Skipped] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_SKIPS:
            self.listed.append(Skipped(line, reason))


@dataclass(slots=True)  # not frozen: a frozen dataclass costs a setattr per field per row
class ParsedRow:
    """One transaction; `amount` is positive for money out of the account, negative for money in."""

    line: int
    timestamp: datetime
    has_time: bool
    amount: Decimal
    description: str
    notes: str | None = None
    bank_category: str | None = None
    bank_type: str | None = None
    currency: str | None = None
    external_id: str | None = None
    kind_hint: KindHint | None = None


@dataclass
class Detection:
    """What the parser decided about the file, for a preview and an import profile."""

    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int | None = None
    header: list[str] | None = None
    columns: dict[int, str] = field(default_factory=dict)  # column index -> role
    date_format: str | None = None
    amount_sign: str | None = None
    decimal_separator: str | None = None
    currency: str | None = None
    undecided: list[str] = field(default_factory=list)
    signature: str | None = None

    def mapping(self) -> dict[str, list[int]]:
        """Role -> column indexes, the shape the `mapping` option takes back."""
        roles: dict[str, list[int]] = {}
        for index, role in sorted(self.columns.items()):
            roles.setdefault(role, []).append(index)
        return roles


class ParsedFile:
    """The detection, then the rows as a stream; `skipped` fills while the rows are read.

    `rows()` reads the file once; when rows were invalid it raises ParseFailed after the
    last row, listing the first problems and their count.
    """

    def __init__(self, detection: Detection, rows: Iterator[ParsedRow], skips: SkipLog) -> None:
        self.detection = detection
        self._rows = rows
        self._skips = skips

    @property
    def skipped(self) -> list[Skipped]:
        return self._skips.listed

    @property
    def skipped_count(self) -> int:
        return self._skips.count

    def rows(self) -> Iterator[ParsedRow]:
        return self._rows  # the reader's own generator: no extra layer per row

    def require_decided(self) -> None:
        """Refuse a file whose reading rests on a guess the user has not confirmed."""
        if self.detection.undecided:
            raise ParseFailed(" ".join(self.detection.undecided))
