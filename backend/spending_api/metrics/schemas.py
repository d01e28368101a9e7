"""The /metrics response."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, PlainSerializer

from spending_api.transactions.schemas import MoneyOut

Granularity = Literal["day", "week", "month"]

Share = Annotated[
    Decimal,
    PlainSerializer(lambda value: float(value), return_type=float, when_used="json"),
]


class CategoryTotal(BaseModel):
    category: str
    total: MoneyOut
    count: int
    share: Share


class PeriodTotal(BaseModel):
    period_start: date
    total: MoneyOut
    count: int


class Metrics(BaseModel):
    total_spend: MoneyOut
    transaction_count: int
    average_monthly_spend: MoneyOut
    average_transaction: MoneyOut
    first_transaction: date | None
    last_transaction: date | None
    top_categories: list[CategoryTotal]
    spend_over_time: list[PeriodTotal]
