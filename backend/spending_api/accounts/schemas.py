"""Request and response bodies of /accounts."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from spending_api.names import Name

AccountKind = Literal["checking", "savings", "credit_card", "cash", "wallet", "loan"]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")]
# \s and the pattern as Python reads them, so the schema and the check agree exactly.
_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re")


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: AccountKind
    currency: str
    institution: str | None


class AccountCreate(BaseModel):
    model_config = _CONFIG

    name: Name
    kind: AccountKind = "checking"
    currency: Currency = "USD"
    institution: Name | None = None


class AccountChange(BaseModel):
    """Only the fields sent change; `institution: null` clears it."""

    model_config = _CONFIG

    name: Name = None
    kind: AccountKind = None
    currency: Currency = None
    institution: Name | None = None
