"""Money amounts as banks write them: signs, currencies, grouping, decimal comma, CR/DR."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from spending_api.ingest.vocabulary import fold

MAX_ABS_AMOUNT = Decimal(10) ** 10
CENT = Decimal("0.01")

_PLAIN = {
    ".": re.compile(r"-?\d{1,10}(?:\.\d{1,2})?").fullmatch,
    ",": re.compile(r"-?\d{1,10}(?:,\d{1,2})?").fullmatch,
}
# DOTALL: a quoted cell may hold a line break, which must end as "not a number".
_CURRENCY_AFFIX = re.compile(
    r"^(?:[A-Z]{3}|R\$|Rs\.?|[$£€¥₹]|[A-Z]{0,2}\$)?\s*(.*?)\s*(?:[A-Z]{3}|[$£€¥₹])?$", re.DOTALL
)
# A trailing marker that says the direction: credit (money in) or debit (money out).
_MARKER = re.compile(r"^(.*?)\s*\b(CR|DR|Cr|Dr|cr|dr)\.?$", re.DOTALL)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009'’")
SYMBOL_CURRENCIES = {"£": "GBP", "€": "EUR", "₹": "INR", "R$": "BRL", "¥": "JPY"}

# Words in a direction column (or a type column made only of them).
MONEY_IN_WORDS = {"c", "cr", "credit", "bij", "haben", "h", "in", "+", "crdt", "gutschrift"}
MONEY_OUT_WORDS = {"d", "dr", "debit", "af", "soll", "s", "out", "-", "dbit", "lastschrift"}


class AmountError(ValueError):
    pass


@dataclass(frozen=True)
class Amount:
    """A parsed cell: the number as written, whether it carried a sign, and a CR/DR marker."""

    value: Decimal
    signed: bool
    marker: str | None = None  # "in" or "out"


def plain_matcher(decimal_separator: str) -> Callable[[str], object]:
    """A test for amounts with nothing but a sign, digits and cents ('-12.34'), which
    Decimal reads as they are: the fast path of a large file."""
    return _PLAIN[decimal_separator]


def direction_of(word: str) -> str | None:
    folded = fold(word.strip())
    if folded in MONEY_IN_WORDS:
        return "in"
    if folded in MONEY_OUT_WORDS:
        return "out"
    return None


def parse_amount(text: str, decimal_separator: str = ".") -> Amount:
    """A money amount: sign, currency, grouping, parentheses, trailing CR/DR or +/-."""
    text = text.strip()
    if _PLAIN[decimal_separator](text):
        value = Decimal(text if decimal_separator == "." else text.replace(",", "."))
        amount = Amount(value, text.startswith("-"))
    else:
        amount = _parse_slow(text, decimal_separator)
    if abs(amount.value) >= MAX_ABS_AMOUNT:
        raise AmountError("amount too large")
    return amount


def _parse_slow(text: str, decimal_separator: str) -> Amount:
    body = text.replace("\u2212", "-")
    marker = None
    found = _MARKER.match(body)
    if found and found.group(1):
        body, marker = found.group(1), "in" if found.group(2).lower() == "cr" else "out"
    negative = signed = False
    if body.startswith("(") and body.endswith(")"):
        negative = signed = True
        body = body[1:-1].strip()
    for _ in range(2):  # the sign may come before or after a currency symbol
        if body.startswith(("-", "+")):
            negative ^= body[0] == "-"
            signed = True
            body = body[1:].strip()
        elif body.endswith(("-", "+")):
            negative ^= body[-1] == "-"
            signed = True
            body = body[:-1].strip()
        body = _CURRENCY_AFFIX.match(body).group(1)
    body = body.translate(_GROUPING)
    if decimal_separator == ".":
        body = body.replace(",", "")
    else:
        body = body.replace(".", "").replace(",", ".")
    if not _NUMBER.fullmatch(body):
        raise AmountError("not a number")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise AmountError("not a number") from None
    if value != value.quantize(CENT):
        raise AmountError("more than 2 decimal places")
    return Amount(-value if negative else value, signed, marker)


def currency_of(text: str) -> str | None:
    """The currency a cell names with a symbol or code ('£1.50', 'EUR 7.00'), if any."""
    for symbol, code in SYMBOL_CURRENCIES.items():
        if symbol in text:
            return code
    match = re.search(r"\b([A-Z]{3})\b", text)
    return match.group(1) if match else None


def separator_vote(text: str) -> str | None:
    """Which decimal separator this value shows, if it shows one."""
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    position = max(dot, comma)
    if position < 0:
        return None
    separator = text[position]
    other = "," if separator == "." else "."
    if text.count(separator) > 1:
        return other
    tail = text[position + 1 :].rstrip(" +-CRDcrd")
    if len(tail) in (1, 2) and tail.isdigit():
        return separator
    return None


def looks_like_amount(text: str) -> bool:
    text = text.strip()
    if not text or not any(char.isdigit() for char in text):
        return False
    try:
        parse_amount(text, separator_vote(text) or ".")
    except (AmountError, InvalidOperation):
        return False
    return True


@dataclass
class SeparatorVotes:
    votes: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})

    def add(self, text: str) -> None:
        vote = separator_vote(text)
        if vote:
            self.votes[vote] += 1

    def decide(self, delimiter: str | None) -> str:
        if self.votes[","] > self.votes["."]:
            return ","
        if not self.votes["."] and delimiter == ";":
            return ","
        return "."
