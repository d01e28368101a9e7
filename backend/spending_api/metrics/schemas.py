"""The /metrics response."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

from spending_api.transactions.schemas import MoneyOut

Granularity = Literal["day", "week", "month"]

Share = Annotated[
    Decimal,
    PlainSerializer(lambda value: float(value), return_type=float, when_used="json"),
]


class CategoryTotal(BaseModel):
    category: str
    total: MoneyOut = Field(description="Spending: spent minus refunds; income: money in")
    count: int
    share: Share = Field(description="Of total_spend (spending) or total_income (income)")


class PeriodTotal(BaseModel):
    period_start: date
    total: MoneyOut = Field(description="Spending in the period (spent minus refunds)")
    income: MoneyOut = Field(description="Income in the period, positive")
    count: int = Field(description="Every matching transaction of the period")


class Metrics(BaseModel):
    total_spend: MoneyOut = Field(description="Money out minus refunds, spending categories")
    total_income: MoneyOut = Field(description="Money in under income categories, positive")
    net_savings: MoneyOut = Field(description="total_income - total_spend")
    savings_rate: Share | None = Field(
        description="net_savings / total_income (4 places); null without income"
    )
    transaction_count: int = Field(description="Every matching transaction, transfers too")
    average_monthly_spend: MoneyOut
    average_transaction: MoneyOut = Field(description="total_spend per spending transaction")
    first_transaction: date | None
    last_transaction: date | None
    top_categories: list[CategoryTotal] = Field(description="Spending categories")
    income_categories: list[CategoryTotal]
    category_groups: list[CategoryTotal] = Field(
        description=(
            "Spending by group: each top-level category (one with no parent) with the "
            "spending of itself and of every category below it, at any depth, as in "
            "top_categories (refunds lower it, transfers never count); `category` is the "
            "group's name. The category filter matches names exactly: a group's name "
            "selects only the transactions filed directly under it, not its children's"
        )
    )
    income_groups: list[CategoryTotal] = Field(
        description="Income by group, as category_groups (money in, positive)"
    )
    spend_over_time: list[PeriodTotal]
