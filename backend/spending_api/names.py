"""The names a user types for their accounts and categories, validated once."""

from typing import Annotated

from pydantic import AfterValidator, Field

# The schema says exactly what is accepted: up to 100 characters, no NUL (PostgreSQL text
# cannot hold it), at least one that is not whitespace. Surrounding whitespace is then
# trimmed, so 'Groceries ' and 'Groceries' are one name.
NAME_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _trimmed(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: not storable text
        raise ValueError("must be valid Unicode text") from None
    return value.strip()


Name = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NAME_PATTERN),
    AfterValidator(_trimmed),
]
