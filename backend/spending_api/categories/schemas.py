"""Request and response bodies of /categories."""

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from spending_api.names import Name

CategoryKind = Literal["spending", "income", "transfer"]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="'#rrggbb'")]


def _a_number(value: object) -> object:
    # As the schema says: a JSON integer (5 or 5.0), never "5" or true.
    if isinstance(value, (str, bool)):
        raise ValueError("must be a category id (an integer)")
    return value


CategoryRef = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_a_number)]
# \s and the patterns as Python reads them, so the schema and the check agree exactly.
_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re")


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: CategoryKind
    count: int = Field(description="How many of your transactions are in it")
    colour: str | None
    parent_id: int | None


class CategoryCreate(BaseModel):
    model_config = _CONFIG

    name: Name
    kind: CategoryKind
    colour: Colour | None = None
    parent_id: CategoryRef | None = Field(
        None, description="A category of yours it is grouped under"
    )


class CategoryChange(BaseModel):
    """Only the fields sent change; `colour: null` and `parent_id: null` clear them. A new
    name moves every transaction (and suggestion) of the category to it."""

    model_config = _CONFIG

    name: Name = None
    kind: CategoryKind = None
    colour: Colour | None = None
    parent_id: CategoryRef | None = None


class CategoryMerge(BaseModel):
    model_config = _CONFIG

    into: CategoryRef = Field(description="The category that takes every transaction")
