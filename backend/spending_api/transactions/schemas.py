"""Response bodies for transactions, categories and imports."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

# Exact inside, a JSON number rounded to cents outside.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: float(round(value, 2)), return_type=float, when_used="json"),
]


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount: MoneyOut
    category: str
    timestamp: datetime
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
