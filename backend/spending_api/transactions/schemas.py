"""Request and response bodies for transactions, imports and corrections."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from spending_api.ingest.csvfile import MAX_CATEGORY_LENGTH, MAX_DESCRIPTION_LENGTH
from spending_api.ingest.model import ROLES
from spending_api.transactions.filters import MAX_ABS_AMOUNT, TransactionFilters

from spending_api.transactions.filters import CategoryKind

# Exact inside, a JSON number rounded to cents outside.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: float(round(value, 2)), return_type=float, when_used="json"),
]


# When the purchase happened, as the bank reported it: a local time with no UTC offset,
# which OpenAPI's `date-time` (RFC 3339) would require.
LocalDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$",
            "description": "ISO 8601 local date and time, without offset",
        }
    ),
]


class SuggestionOut(BaseModel):
    """The category the system would choose for the row, and how sure it is (0..1)."""

    category: str
    confidence: float | None


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    amount: MoneyOut = Field(description="Positive: money out of the account; negative: in")
    category: str
    kind: CategoryKind = Field(description="The category's kind")
    timestamp: LocalDateTime
    description: str | None
    notes: str | None
    category_source: Literal["user", "rule", "bank", "learned", "default"]
    suggestion: SuggestionOut | None


class SkippedRowOut(BaseModel):
    """A row of the file left out on purpose (pending, zero, balance, notice, ...)."""

    line: int
    reason: str


class ImportResult(BaseModel):
    import_id: int = Field(description="The import's id (GET /imports, DELETE /imports/{id})")
    account_id: int
    inserted: int
    skipped_duplicates: int
    total_rows: int
    skipped_rows: list[SkippedRowOut] = Field(
        description="The rows left out and why (the first 1000)"
    )
    skipped_row_count: int
    profile_used: bool = Field(
        description="The file was read with the options saved for its layout on the account"
    )


class ImportRowError(BaseModel):
    line: int
    column: str
    value: str
    reason: str


class ImportErrorDetail(BaseModel):
    message: str
    error_count: int
    errors: list[ImportRowError]


class ImportErrorOut(BaseModel):
    """422 from the import: the file's problems, or FastAPI's own validation errors."""

    detail: ImportErrorDetail | list[dict[str, Any]]


class DetectedColumn(BaseModel):
    index: int = Field(description="0-based column index")
    name: str | None = Field(description="The header's text, or null without a header")
    role: str


class DetectionOut(BaseModel):
    """What the importer decided about the file."""

    format: Literal["csv", "ofx", "qif", "camt053"]
    encoding: str | None
    delimiter: str | None
    header_line: int | None = Field(description="1-based line of the header; null: none")
    header: list[str] | None
    columns: list[DetectedColumn]
    mapping: dict[str, list[int]] = Field(description="role -> column indexes (the mapping option)")
    date_format: str | None
    amount_sign: str | None
    decimal_separator: str | None
    currency: str | None
    undecided: list[str] = Field(description="What the file could not decide: confirm or give it")
    roles: list[str] = Field(
        default=list(ROLES),
        description="Every role a column can play (the mapping option's roles), for a form",
    )


class PreviewRowOut(BaseModel):
    line: int
    timestamp: LocalDateTime
    amount: MoneyOut = Field(description="Positive: money out; negative: money in")
    description: str
    notes: str | None
    category: str | None
    type: str | None
    currency: str | None
    external_id: str | None
    kind_hint: Literal["income", "transfer", "card_payment"] | None


class ImportPreview(BaseModel):
    """`POST /transactions/import/preview`: the detection, the first rows, skips and problems."""

    detection: DetectionOut
    rows: list[PreviewRowOut] = Field(description="The first 20 rows as they would be stored")
    skipped_rows: list[SkippedRowOut]
    skipped_row_count: int
    problems: list[ImportRowError]
    problem_count: int
    message: str | None = Field(description="Why the file would be refused as it is, if it would")
    account_id: int
    profile_used: bool = Field(
        description="No options were given and the account's saved ones for this layout of "
        "file were used"
    )
    options: dict[str, Any] = Field(description="The options the file was read with")


# Corrections (issue #14): manual transactions, edits and bulk changes.

MAX_NOTES_LENGTH = 2000
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?")
_AMOUNT_TEXT = re.compile(r"-?\d{1,10}(\.\d{1,2})?")


def _local_datetime(value: object) -> object:
    # Only the documented form: pydantic alone would also take a Unix time or an offset.
    if not isinstance(value, str) or not _LOCAL_DATETIME.fullmatch(value):
        raise ValueError("timestamp must be a local date and time: YYYY-MM-DDTHH:MM:SS")
    return value


def _exact_amount(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("amount must be a number, e.g. 12.34 (positive: money out)")
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        raise ValueError("amount as text must look like -12.34 (at most 2 decimals)")
    return value


def _cents(value: Decimal) -> Decimal:
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError("amount must have at most 2 decimals")
    if value == 0:
        raise ValueError("amount must not be zero")
    return value.quantize(Decimal("0.01"))


def _text(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the driver.
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


LocalDateTimeIn = Annotated[
    datetime,
    BeforeValidator(_local_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$",
            "description": "ISO 8601 local date and time, without offset",
        }
    ),
]
AmountIn = Annotated[
    Decimal,
    BeforeValidator(_exact_amount),
    Field(ge=-MAX_ABS_AMOUNT, le=MAX_ABS_AMOUNT),
    AfterValidator(_cents),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": -float(MAX_ABS_AMOUNT),
                    "maximum": float(MAX_ABS_AMOUNT),
                },
                {"type": "string", "pattern": r"^-?\d{1,10}(\.\d{1,2})?$"},
            ],
            "description": "Positive: money out; negative: money in; not zero, at most 2 decimals",
        }
    ),
]
CategoryName = Annotated[
    str, Field(min_length=1, max_length=MAX_CATEGORY_LENGTH), AfterValidator(_text)
]
Description = Annotated[str | None, Field(max_length=MAX_DESCRIPTION_LENGTH), AfterValidator(_text)]
Notes = Annotated[str | None, Field(max_length=MAX_NOTES_LENGTH), AfterValidator(_text)]
# Strict where pydantic would convert what the schema refuses (FastAPI validates the
# parsed JSON as Python: "1" would become 1, 1 a boolean, 0 a date).
TransactionId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
AccountId = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]


class ManualTransactionIn(BaseModel):
    """`POST /transactions`: money the bank does not export (cash, ...)."""

    model_config = ConfigDict(extra="forbid")

    account_id: AccountId | None = Field(
        None, description="One of the user's accounts (default: the first)"
    )
    timestamp: LocalDateTimeIn
    amount: AmountIn
    description: Description = None
    category: CategoryName | None = Field(
        None,
        description="An existing category's name (default: Uncategorized, or "
        "Uncategorized income for money in)",
    )
    notes: Notes = None


class TransactionChangeIn(BaseModel):
    """`PATCH /transactions/{id}`: only the fields sent change; `timestamp` and `amount`
    only on manual transactions (an imported row keeps what the bank said)."""

    model_config = ConfigDict(extra="forbid")

    category: CategoryName | None = Field(None, description="An existing category's name")
    description: Description = None
    notes: Notes = None
    timestamp: LocalDateTimeIn | None = None
    amount: AmountIn | None = None

    @model_validator(mode="after")
    def _required_fields_are_not_cleared(self) -> "TransactionChangeIn":
        for name in ("category", "timestamp", "amount"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class BulkChangeIn(BaseModel):
    """What a bulk change sets on every selected transaction (at least one field)."""

    model_config = ConfigDict(extra="forbid")

    category: CategoryName | None = Field(None, description="An existing category's name")
    notes: Notes = None

    @model_validator(mode="after")
    def _changes_something(self) -> "BulkChangeIn":
        if not self.model_fields_set:
            raise ValueError("change must set category and/or notes")
        if "category" in self.model_fields_set and self.category is None:
            raise ValueError("category cannot be null; leave it out to keep it")
        return self


class BulkFilters(TransactionFilters):
    """The shared filters in a JSON body: an unknown key is an error (a misspelt filter
    would widen a bulk change to every transaction), values are the JSON types the schema
    names."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates_are_text(cls, value: object, info) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{info.field_name} must be a date as YYYY-MM-DD")
        return value

    @field_validator("min_amount", "max_amount", mode="before")
    @classmethod
    def _amounts_are_numbers(cls, value: object, info) -> object:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{info.field_name} must be a number")
        return value


class BulkCorrectionIn(BaseModel):
    """`PATCH /transactions`: the transactions by id or by the shared filters, the change,
    and whether to only count them."""

    model_config = ConfigDict(extra="forbid")

    # Within the 64 KiB JSON body limit; a larger selection is made with filters.
    ids: list[TransactionId] | None = Field(None, min_length=1, max_length=2000)
    filters: BulkFilters | None = Field(
        None, description="The same filters as GET /transactions ({} selects every one)"
    )
    change: BulkChangeIn
    dry_run: bool = Field(
        False, strict=True, description="Count and sum the transactions, change nothing"
    )

    @model_validator(mode="after")
    def _one_selection(self) -> "BulkCorrectionIn":
        if (self.ids is None) == (self.filters is None):
            raise ValueError("give either ids or filters")
        return self


class CorrectionErrorOut(BaseModel):
    """422 from a correction: a stable code (unknown_category) or FastAPI's validation errors."""

    detail: str | list[dict[str, Any]]


class BulkCorrectionOut(BaseModel):
    matched: int = Field(description="Transactions selected")
    total: Decimal = Field(description="Their amounts' sum, exact (positive: money out)")
    updated: int = Field(description="Transactions changed (0 on a dry run)")
