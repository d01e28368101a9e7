"""Response bodies for transactions, categories and imports."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

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


class ImportResult(BaseModel):
    inserted: int
    skipped_duplicates: int
    total_rows: int


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
