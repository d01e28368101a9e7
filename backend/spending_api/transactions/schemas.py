"""Response bodies for transactions, categories and imports."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

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


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount: MoneyOut
    category: str
    timestamp: LocalDateTime
    description: str | None


class CategoryCount(BaseModel):
    category: str
    count: int


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
