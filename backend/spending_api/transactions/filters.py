"""The filters shared by /transactions, /metrics and the export, parsed once."""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar, get_origin

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

M = TypeVar("M", bound=BaseModel)

MAX_ABS_AMOUNT = Decimal("9999999999.99")
MAX_ID = 2**31 - 1  # accounts.id is an integer column
CategoryKind = Literal["spending", "income", "transfer"]
ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

# Query strings carry text: document exactly the forms that are accepted.
DateParam = Annotated[
    date, WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE_PATTERN})
]
AmountParam = Annotated[
    Decimal,
    Field(ge=-MAX_ABS_AMOUNT, le=MAX_ABS_AMOUNT),
    WithJsonSchema(
        {"type": "number", "minimum": -float(MAX_ABS_AMOUNT), "maximum": float(MAX_ABS_AMOUNT)}
    ),
]


# The review queue: rows whose category nobody chose (`default`), and rows the system
# categorized by learning with less than this confidence.
REVIEW_BELOW = Decimal("0.95")
REVIEW_CONDITION = (
    "(category_source = 'default' OR "
    f"(category_source = 'learned' AND coalesce(category_confidence, 0) < {REVIEW_BELOW}))"
)


def _reject_nul(value: str, name: str) -> str:
    # PostgreSQL text cannot hold NUL; say so instead of failing in the driver.
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    return value


class TransactionFilters(BaseModel):
    """Which of the user's transactions a request is about; all optional."""

    start: DateParam | None = Field(None, description="First day, inclusive (YYYY-MM-DD)")
    end: DateParam | None = Field(None, description="Last day, inclusive: the whole day")
    category: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, description="Any of these categories (repeatable)"
    )
    min_amount: AmountParam | None = Field(None, description="Inclusive")
    max_amount: AmountParam | None = Field(None, description="Inclusive")
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Case-insensitive substring of the description",
    )
    account: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, description="Any of these account ids (repeatable)"
    )
    kind: list[CategoryKind] = Field(
        default_factory=list,
        description="Any of these kinds of category: spending, income, transfer (repeatable)",
    )
    review: bool = Field(
        False,
        description=(
            "Only the review queue: transactions nobody categorized, and those the system "
            f"categorized by learning with a confidence under {REVIEW_BELOW}"
        ),
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates_are_iso(cls, value: object, info) -> object:
        # Pydantic would also read a number as a Unix time (start=0 is 1970-01-01).
        if isinstance(value, str) and not re.fullmatch(ISO_DATE_PATTERN, value):
            raise ValueError(f"{info.field_name} must be a date as YYYY-MM-DD")
        return value

    @field_validator("category")
    @classmethod
    def _categories_have_no_nul(cls, values: list[str]) -> list[str]:
        return [_reject_nul(value, "category") for value in values]

    @field_validator("q")
    @classmethod
    def _q_has_no_nul(cls, value: str | None) -> str | None:
        return None if value is None else _reject_nul(value, "q")

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> "TransactionFilters":
        if self.start and self.end and self.start > self.end:
            raise ValueError("start must be on or before end")
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount > self.max_amount
        ):
            raise ValueError("min_amount must not be above max_amount")
        return self

    @property
    def uses_rollup(self) -> bool:
        """True when the daily rollup answers these filters exactly."""
        return (
            self.min_amount is None
            and self.max_amount is None
            and self.q is None
            and not self.review
        )

    @property
    def end_exclusive(self) -> datetime | None:
        if self.end is None:
            return None
        if self.end == date.max:
            return None
        return datetime.combine(self.end + timedelta(days=1), time.min)

    def postgresql_where(self, *, user_id: int, rollup: bool) -> tuple[str, dict]:
        """The WHERE condition over `daily_category_spend` (rollup) or `transactions`,
        always scoped to the user, with its parameters in psycopg's `%(name)s` style
        (the text depends only on which filters are set: statements are prebuilt). The
        two conditions' parameters can share one statement: a name has one value."""
        params: dict = {"user_id": user_id}
        clauses = ["user_id = %(user_id)s"]
        if rollup:
            if self.start:
                clauses.append("day >= %(start_day)s")
                params["start_day"] = self.start
            if self.end:
                clauses.append("day <= %(end_day)s")
                params["end_day"] = self.end
        else:
            if self.start:
                clauses.append('"timestamp" >= %(start)s')
                params["start"] = datetime.combine(self.start, time.min)
            if self.end_exclusive:
                clauses.append('"timestamp" < %(end)s')
                params["end"] = self.end_exclusive
            if self.min_amount is not None:
                clauses.append("amount >= %(min_amount)s")
                params["min_amount"] = self.min_amount
            if self.max_amount is not None:
                clauses.append("amount <= %(max_amount)s")
                params["max_amount"] = self.max_amount
            if self.q:
                clauses.append("lower(coalesce(description, '')) LIKE lower(%(q)s) ESCAPE '/'")
                params["q"] = "%" + _escape_like(self.q) + "%"
            if self.review:
                clauses.append(REVIEW_CONDITION)
        if self.category:
            clauses.append("category = ANY(%(categories)s)")
            params["categories"] = list(self.category)
        if self.account:
            # An id of another user's account matches nothing: the user scope comes first.
            clauses.append("account_id = ANY(%(accounts)s)")
            params["accounts"] = sorted(set(self.account))
        if self.kind:
            # A transaction's kind is its category's; every category name in use has a
            # record (the write paths and the rollup trigger create missing ones).
            clauses.append(
                "category IN (SELECT name FROM categories "
                "WHERE user_id = %(user_id)s AND kind = ANY(%(kinds)s))"
            )
            params["kinds"] = sorted(set(self.kind))
        return " AND ".join(clauses), params


def _escape_like(value: str) -> str:
    """`/` escapes itself, `%` and `_`: the search text matches only literally."""
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


@lru_cache
def _repeatable(model: type[BaseModel]) -> dict[str, bool]:
    """The repeatable parameters are read as lists, the others as their last value: what
    FastAPI does for a query model (`Annotated[TransactionFilters, Query()]`)."""
    return {
        name: get_origin(field.annotation) is list for name, field in model.model_fields.items()
    }


def query_model(model: type[M], request: Request) -> M:
    """`model`'s fields read from the query string and validated straight into it.

    FastAPI's own query parameter parsing, of a model or of plain parameters, costs
    several times this per request (it inspects every field's annotation each time);
    this answers the same 422 (locations under "query"). Routes document the parameters
    with `openapi_extra` (query_model_openapi).
    """
    params = request.query_params
    data: dict[str, Any] = {}
    for name, repeatable in _repeatable(model).items():
        if name in params:
            data[name] = params.getlist(name) if repeatable else params[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


async def get_filters(request: Request) -> TransactionFilters:
    """The filters of the query string. A bad filter is refused before the route's own
    parameters are read, so its 422 lists the filters' errors only."""
    return query_model(TransactionFilters, request)


FiltersDep = Annotated[TransactionFilters, Depends(get_filters)]


def query_model_openapi(*models: type[BaseModel]) -> dict:
    """`openapi_extra` of a route that reads `models` with query_model: the parameters
    (and the 422 answer) FastAPI documents for each as a query model, from a one-route
    application: the same text as when FastAPI parsed the models itself."""
    parameters = []
    for model in models:
        probe = FastAPI()

        @probe.get("/")
        def _probe(params: Annotated[model, Query()]) -> None:
            """Never called."""

        operation = probe.openapi()["paths"]["/"]["get"]
        parameters += operation["parameters"]
    return {"parameters": parameters, "responses": {"422": operation["responses"]["422"]}}


FILTERS_OPENAPI = query_model_openapi(TransactionFilters)
"""`openapi_extra` of every route that reads `FiltersDep`: documents its parameters."""
