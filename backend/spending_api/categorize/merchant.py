"""Merchant keys: one stable name for the many ways a bank writes the same merchant.

Card and bank descriptors wrap the merchant in noise: a payment processor in front
('SQ *', 'PAYPAL *'), a reference after a '*', store numbers, card digits, dates, times,
and a fixed-width city and country tail. `clean_description` removes that noise and
`merchant_key` reduces what is left to a short consonant skeleton of its first two words,
so spelling variants meet ('AMAZON MKTPL*AB12C' and 'AMZN Mktp US*2K4' are both
'amzn mktp') without a list of brands.
"""

import re
import unicodedata
from functools import lru_cache

# Payment processors and wallets that put their own name before the merchant's.
PROCESSOR_PREFIXES = frozenset(
    {
        "sq",
        "sqr",
        "tst",
        "sp",
        "pp",
        "paypal",
        "pypl",
        "iz",
        "izettle",
        "zettle",
        "sumup",
        "sum up",
        "stripe",
        "apl",
        "apple pay",
        "applepay",
        "goog",
        "google pay",
        "gpay",
        "ck",
        "venmo",
        "cash app",
        "twint",
        "klarna",
        "afterpay",
        "crv",
        "dnh",
        "fs",
        "wpy",
        "ppro",
    }
)

# Words that say what kind of booking it is, not who was paid; dropped at the start.
BOOKING_WORDS = frozenset(
    {
        "pos",
        "card",
        "debit",
        "credit",
        "purchase",
        "payment",
        "pmt",
        "visa",
        "mastercard",
        "mc",
        "maestro",
        "contactless",
        "cntctless",
        "dd",
        "direct",
        "so",
        "dbt",
        "tfr",
        "kartenzahlung",
        "lastschrift",
        "compra",
        "pago",
        "tarjeta",
        "betaalautomaat",
        "bea",
        "gea",
        "cb",
        "prlv",
        "sepa",
        "the",
        "online",
        "debit card",
        "recurring",
        "to",
        "at",
    }
)

# Words that mark money coming back for an earlier purchase.
REFUND_WORDS = frozenset(
    {
        "refund",
        "refunded",
        "return",
        "returned",
        "reversal",
        "reversed",
        "chargeback",
        "devolucion",
        "reembolso",
        "erstattung",
        "gutschrift",
        "rückerstattung",
        "ruckerstattung",
        "terugbetaling",
        "remboursement",
        "storno",
    }
)

# Country codes that close a fixed-width card descriptor ('... LONDON GBR').
COUNTRY_CODES = frozenset(
    "us usa gb gbr uk de deu nl nld fr fra es esp it ita ie irl be bel lu lux ch che at aut "
    "se swe no nor dk dnk fi fin pt prt pl pol cz cze ca can au aus nz nzl sg sgp in ind "
    "br bra mx mex jp jpn cn chn hk hkg za zaf ae are".split()
)

TOP_LEVEL_DOMAINS = frozenset("com net org co uk de nl fr es it io eu us ca au ch be at".split())

_LEADING_WORDS = BOOKING_WORDS | REFUND_WORDS
_LEADING_WORD = re.compile(r"^\s*([a-z]+)\b[\s:\-/]*")
_PROCESSOR_WORD = re.compile(r"^(?:paypal|pypl|sumup|zettle|izettle|twint)[ :]")
_DIGIT = re.compile(r"\d")
_MULTI_SPACE = re.compile(r"\s{2,}")
_PROCESSOR_STAR = re.compile(r"^\s*([a-z][a-z_. ]{0,14}?)\s*\*\s*(.+)$")
_STAR_REFERENCE = re.compile(r"\*.*$")
_DOMAIN = re.compile(r"\b([a-z0-9-]+)((?:\.[a-z]{2,3}){1,2})\b")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_APOSTROPHE = re.compile(r"['’]")
_VOWELS_AFTER_FIRST = re.compile(r"(?<=.)[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")

KEY_WORDS = 2
KEY_WORD_LENGTH = 4


def _fold(text: str) -> str:
    """Lower case without accents ('Devolución' -> 'devolucion')."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _strip_processor(text: str) -> str:
    """'sq *blue bottle' -> 'blue bottle'; 'amazon mktpl*ab12c' -> 'amazon mktpl'."""
    match = _PROCESSOR_STAR.match(text)
    if match and match.group(1).strip(" _.") in PROCESSOR_PREFIXES:
        text = match.group(2)
    else:
        # 'PAYPAL NETFLIX', 'Debit TWINT: Test Merchant' (no star)
        text = _PROCESSOR_WORD.sub("", text, count=1)
    # What follows a star is the merchant's own order or reference number.
    return _STAR_REFERENCE.sub("", text)


def _strip_domains(text: str) -> str:
    """'amazon.co.uk' -> 'amazon', 'netflix.com/bill' -> 'netflix /bill'."""

    def replace(match: re.Match) -> str:
        suffixes = match.group(2).strip(".").split(".")
        if all(suffix in TOP_LEVEL_DOMAINS for suffix in suffixes):
            return match.group(1)
        return match.group(0)

    return _DOMAIN.sub(replace, text)


@lru_cache(maxsize=65_536)
def _words(text: str) -> tuple[str, ...]:
    """The words of a descriptor that can name a merchant, in order (cached: a ledger
    repeats its descriptions, and training reads each row more than once)."""
    folded = _fold(text)
    # Fixed-width card descriptors: merchant, then the city and country in later columns.
    segments = [segment for segment in _MULTI_SPACE.split(folded.strip()) if segment]
    if len(segments) > 1 and re.search(r"[a-z]{2}", segments[0]):
        folded = segments[0]
    for _ in range(2):  # 'debit twint: sq *shop' has two layers
        folded = _strip_processor(_strip_leading_booking_words(folded))
    folded = _strip_domains(folded)
    words = [_APOSTROPHE.sub("", word) for word in _WORD.findall(folded)]

    def has_digit(word: str) -> bool:
        return _DIGIT.search(word) is not None

    while words and (has_digit(words[0]) or words[0] in _LEADING_WORDS):
        words.pop(0)
    # Card digits, store numbers, dates, times and codes like 'ab12c' hold a digit; what
    # follows the first of them is a city, a date or a reference, not the merchant.
    for index, word in enumerate(words):
        if has_digit(word):
            words = words[:index]
            break
    while len(words) > 1 and words[-1] in COUNTRY_CODES:
        words.pop()
    return tuple(words)


def _strip_leading_booking_words(text: str) -> str:
    """Drop 'debit', 'card payment', 'refund:' and similar words at the start."""
    while True:
        match = _LEADING_WORD.match(text)
        if not match or match.group(1) not in _LEADING_WORDS:
            return text.strip()
        if match.end() >= len(text):
            return text.strip()
        text = text[match.end() :]


def clean_description(text: str | None) -> str:
    """The merchant words of a description, lower case, without codes and numbers."""
    if not text:
        return ""
    return " ".join(_words(text))


@lru_cache(maxsize=65_536)
def _skeleton(word: str) -> str:
    """First letter, then consonants without repeats, cut short: 'amazon' -> 'amzn'."""
    skeleton = _REPEATS.sub(r"\1", _VOWELS_AFTER_FIRST.sub("", word))
    if len(skeleton) < 3:  # 'lolilo' -> 'l' would meet too many others
        return word[: KEY_WORD_LENGTH + 1]
    return skeleton[:KEY_WORD_LENGTH]


@lru_cache(maxsize=65_536)
def merchant_key(text: str | None) -> str:
    """A stable key for the merchant of a description; '' when nothing names one."""
    words = _words(text or "")
    return " ".join(_skeleton(word) for word in words[:KEY_WORDS])


def looks_like_refund(text: str | None) -> bool:
    """Whether the description itself says money came back ('Refund: ...', 'Devolución')."""
    if not text:
        return False
    return any(word in REFUND_WORDS for word in _WORD.findall(_fold(text)))
