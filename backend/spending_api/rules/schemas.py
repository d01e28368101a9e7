"""Rules as the API reads and writes them; `service` turns them into `categorize.rules`."""

from decimal import Decimal
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from spending_api.categorize.rules import MAX_CONDITIONS, MAX_PATTERN_LENGTH, MAX_VALUE_LENGTH
from spending_api.transactions.filters import MAX_ABS_AMOUNT
from spending_api.transactions.schemas import MoneyOut


def _no_nul(value: str) -> str:
    # PostgreSQL's text and JSON cannot hold NUL: say so instead of failing in the driver.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
RuleName = Annotated[Text, Field(min_length=1, max_length=100)]
CategoryName = Annotated[Text, Field(min_length=1, max_length=100)]
Size = Annotated[Decimal, Field(ge=0, le=MAX_ABS_AMOUNT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextConditionIn(_Strict):
    """The description (or merchant key) contains / equals / starts with a text, or
    matches a regular expression; always case-insensitive."""

    type: Literal["text"]
    field: Literal["description", "payee", "merchant"] = "description"
    operator: Literal["contains", "equals", "starts_with", "regex"] = "contains"
    value: Annotated[
        Text, Field(min_length=1, max_length=max(MAX_PATTERN_LENGTH, MAX_VALUE_LENGTH))
    ]


class AmountConditionIn(_Strict):
    """The amount's size is within [minimum, maximum]; `direction` in (money in) or out."""

    type: Literal["amount"]
    minimum: Size | None = None
    maximum: Size | None = None
    direction: Literal["in", "out"] | None = None


class AccountConditionIn(_Strict):
    type: Literal["account"]
    account_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=100)]


class CategoryConditionIn(_Strict):
    """The current category is one of these."""

    type: Literal["category"]
    categories: Annotated[list[CategoryName], Field(min_length=1, max_length=100)]


ConditionIn = Annotated[
    TextConditionIn | AmountConditionIn | AccountConditionIn | CategoryConditionIn,
    Field(discriminator="type"),
]


class ActionsIn(_Strict):
    set_category: CategoryName | None = None
    set_description: Annotated[Text, Field(min_length=1, max_length=MAX_VALUE_LENGTH)] | None = None
    mark_transfer: bool = False


class RuleIn(_Strict):
    name: RuleName
    conditions: Annotated[list[ConditionIn], Field(min_length=1, max_length=MAX_CONDITIONS)]
    actions: ActionsIn
    enabled: bool = True


class RuleUpdate(_Strict):
    name: RuleName | None = None
    conditions: (
        Annotated[list[ConditionIn], Field(min_length=1, max_length=MAX_CONDITIONS)] | None
    ) = None
    actions: ActionsIn | None = None
    enabled: bool | None = None
    position: Annotated[int, Field(ge=1, le=10_000)] | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    position: int
    enabled: bool
    conditions: list[ConditionIn]
    actions: ActionsIn


class RuleChangeOut(BaseModel):
    """One transaction a rule changes: as it is, and as the rule leaves it."""

    id: int
    timestamp: datetime
    amount: MoneyOut
    description: str | None
    category: str
    new_category: str
    new_description: str | None


class RulePreviewOut(BaseModel):
    count: int
    total: MoneyOut
    transactions: list[RuleChangeOut]


class RulesApplyIn(_Strict):
    """Which saved rules to run over the existing transactions (default: every enabled one)."""

    rule_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=1000)] | None = None


class RulesApplyOut(BaseModel):
    updated: int
