"""Dates as banks write them, with the format decided from every value in the file.

Shapes read: ISO (with time), YYYY/MM/DD, YYYYMMDD (and YYYYMMDDhhmmss[tz]), D/M/Y and
M/D/Y with '/', '.', '-' and 2- or 4-digit years, day-month-name-year and
month-name-day-year in EN/DE/NL/FR/ES/PT/IT, each with an optional time of day (24-hour
or 12-hour AM/PM) and time zone (dropped: the wall-clock time is kept).

When no value settles the day/month order (every day <= 12), the order of the rows and what
the rest of the file says (`DateHint`: decimal comma, currency, ...) decide it; a weak hint
only picks the reading that the user is asked to confirm.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from spending_api.ingest.vocabulary import fold

_MONTH_WORDS = {
    1: "jan january januar janvier enero janeiro gennaio januari janv ene gen",
    2: "feb february februar fevrier febrero fevereiro febbraio februari fev fevr",
    3: "mar march marz maerz mars marzo marco maart mrz mär",
    4: "apr april avril abril aprile abr avr",
    5: "may mai mayo maio maggio mei mag",
    6: "jun june juni juin junio junho giugno giu",
    7: "jul july juli juillet julio julho luglio juil lug",
    8: "aug august aout agosto augustus ago",
    9: "sep sept september septembre septiembre setembro settembre set",
    10: "oct october oktober octobre octubre outubro ottobre okt out ott",
    11: "nov november novembre noviembre novembro",
    12: "dec december dezember decembre diciembre dezembro dicembre dez dic",
}
MONTHS = {fold(word): number for number, words in _MONTH_WORDS.items() for word in words.split()}

_TIME = (
    r"(?:[T ]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<frac>\d{1,6})\d*)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2}|\[[^\]]*\]|[A-Z]{2,5})?"
)
_SHAPES = {
    "ymd": re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})" + _TIME),
    "compact": re.compile(
        r"(?P<y>\d{4})(?P<a>\d{2})(?P<b>\d{2})"
        r"(?:(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?)?"
        r"(?:\[[^\]]*\])?"
    ),
    "xxy": re.compile(
        r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME
    ),
    "dMy": re.compile(
        r"(?P<a>\d{1,2})\.?(?P<sep>[-/ .]+)(?P<month>[^\W\d_]{3,10})\.?[-/ .]+(?P<y>\d{4}|\d{2})"
        + _TIME
    ),
    "Mdy": re.compile(
        r"(?P<month>[^\W\d_]{3,10})\.?[ -](?P<a>\d{1,2}),?[ -](?P<y>\d{4}|\d{2})" + _TIME
    ),
}
ORDERS = ("dmy", "mdy")
NAMES = {
    "ymd": "YYYY-MM-DD",
    "compact": "YYYYMMDD",
    "dmy": "DD/MM/YYYY",
    "mdy": "MM/DD/YYYY",
    "dMy": "DD Mon YYYY",
    "Mdy": "Mon DD YYYY",
}
PENDING_WORDS = {"pending", "vorgemerkt", "en attente", "pendiente", "pendente", "in behandeling"}


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _time(match: re.Match) -> tuple[int, int, int, int, bool]:
    hour = match.group("hour")
    if hour is None:
        return 0, 0, 0, 0, False
    hour, minute = int(hour), int(match.group("minute"))
    second = int(match.group("second") or 0)
    groups = match.groupdict()
    micro = int((groups.get("frac") or "0").ljust(6, "0")[:6])
    ampm = (groups.get("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("not a 12-hour time")
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    return hour, minute, second, micro, True


@dataclass
class DateFormat:
    """A decided format: `parse(text)` gives (datetime, has_time) or raises ValueError."""

    name: str
    parse: Callable[[str], tuple[datetime, bool]]


def _iso_parser(slow: Callable[[str], tuple[datetime, bool]]):
    from_iso = datetime.fromisoformat  # looked up once, not per row

    def parse(text: str) -> tuple[datetime, bool]:
        text = text.strip()
        size = len(text)
        if 10 <= size <= 26 and text[4] == "-":  # the C parser, for most ISO files
            try:
                parsed = from_iso(text)
            except ValueError:
                return slow(text)
            if parsed.tzinfo is not None:  # replace() costs as much as the parse
                parsed = parsed.replace(tzinfo=None)
            return parsed, size > 10
        return slow(text)

    return parse


def _shape_parser(kind: str, order: str | None) -> Callable[[str], tuple[datetime, bool]]:
    pattern = _SHAPES[kind]

    def parse(text: str) -> tuple[datetime, bool]:
        match = pattern.fullmatch(text.strip())
        if match is None:
            raise ValueError("not a date")
        year = _year(match.group("y"))
        if kind in ("dMy", "Mdy"):
            month = MONTHS.get(fold(match.group("month")))
            if month is None:
                raise ValueError("unknown month name")
            day = int(match.group("a"))
        elif kind in ("ymd", "compact") or order == "mdy":
            month, day = int(match.group("a")), int(match.group("b"))
        else:
            day, month = int(match.group("a")), int(match.group("b"))
        hour, minute, second, micro, has_time = _time(match)
        return datetime(year, month, day, hour, minute, second, micro), has_time

    return parse


def strptime_format(pattern: str) -> DateFormat:
    """The user's own strftime pattern; a time of day after the date is also accepted."""

    def parse(text: str) -> tuple[datetime, bool]:
        text = text.strip()
        try:
            parsed = datetime.strptime(text, pattern)
            return parsed, parsed.time() != datetime.min.time()
        except ValueError:
            date_part, _, rest = text.replace("T", " ", 1).partition(" ")
            parsed = datetime.strptime(date_part, pattern)
            match = re.fullmatch(_TIME, " " + rest)
            if not rest or match is None:
                raise
            hour, minute, second, micro, has_time = _time(match)
            return parsed.replace(hour=hour, minute=minute, second=second, microsecond=micro), True

    return DateFormat(pattern, parse)


def check_date_format(pattern: str) -> None:
    """Refuse a date_format that cannot read back the dates it writes."""
    sample = datetime(2024, 11, 28, 13, 45, 30)
    try:
        parsed = datetime.strptime(sample.strftime(pattern), pattern)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.date() != sample.date() or "\x00" in pattern:
        raise ValueError(
            "date_format must be a strftime pattern with day, month and year, e.g. %d/%m/%Y."
        )


def is_pending_word(text: str) -> bool:
    text = text.strip()
    return text[:1].isalpha() and fold(text) in PENDING_WORDS


# Currencies of countries that write the day first (D/M/Y); USD alone hints the month
# first (accounts in USD are held everywhere, so that reading is only a guess to confirm).
DAY_FIRST_CURRENCIES = frozenset(
    "EUR GBP INR AUD NZD BRL CHF SGD HKD MXN ARS CLP COP PEN ZAR SEK NOK DKK PLN CZK RON"
    " BGN TRY RUB UAH ILS AED SAR QAR KWD EGP NGN KES THB MYR IDR VND PKR BDT LKR ISK".split()
)


def currency_hint(codes: set[str]) -> "DateHint | None":
    """What the currency of the file's amounts says of its day/month order."""
    if len(codes) != 1:
        return None
    code = next(iter(codes))
    if code in DAY_FIRST_CURRENCIES:
        return DateHint("dmy", f"the amounts are in {code}")
    if code == "USD":
        return DateHint("mdy", "the amounts are in USD", strong=False)
    return None


# The order of the rows can settle day/month: a bank lists its rows by date, so the
# reading under which they run one way (up or down) is the file's, when the other reading
# breaks that order more than this share of the steps between rows.
MAX_DISORDER = 0.1


@dataclass
class _Run:
    """The steps between consecutive dates under one reading, in constant memory."""

    previous: int | None = None
    ups: int = 0
    downs: int = 0

    def add(self, key: int) -> None:
        if self.previous is not None:
            if key > self.previous:
                self.ups += 1
            elif key < self.previous:
                self.downs += 1
        self.previous = key

    @property
    def disorder(self) -> int:
        """Steps against the run's main direction."""
        return min(self.ups, self.downs)


@dataclass(frozen=True)
class DateHint:
    """What the rest of the file says of the day/month order: `order` is 'dmy' or 'mdy';
    a strong hint decides, a weak one only picks the reading the user confirms."""

    order: str
    reason: str
    strong: bool = True


@dataclass
class DateEvidence:
    """What a date column's values say about their format, kept in constant memory."""

    counts: dict[str, int] = field(default_factory=dict)
    max_a: int = 0
    max_b: int = 0
    separators: set[str] = field(default_factory=set)
    others: int = 0
    runs: dict[str, _Run] = field(default_factory=lambda: {order: _Run() for order in ORDERS})

    def add(self, text: str) -> None:
        text = text.strip()
        if not text or is_pending_word(text):
            return
        for kind, pattern in _SHAPES.items():
            match = pattern.fullmatch(text)
            if match is None:
                continue
            if kind in ("dMy", "Mdy") and fold(match.group("month")) not in MONTHS:
                continue
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "xxy":
                a, b = int(match.group("a")), int(match.group("b"))
                self.max_a = max(self.max_a, a)
                self.max_b = max(self.max_b, b)
                self.separators.add(match.group("sep"))
                if self.max_a <= 12 and self.max_b <= 12:  # else the values settle it
                    year = _year(match.group("y")) * 10_000
                    self.runs["dmy"].add(year + b * 100 + a)
                    self.runs["mdy"].add(year + a * 100 + b)
            return
        self.others += 1

    def bounds_from(self, other: "DateEvidence") -> None:
        """Take the day/month bounds of another date column of the file (a value or
        posting date written the same way): a day above 12 there settles this one too."""
        if set(other.counts) == {"xxy"} and other.separators == self.separators:
            self.max_a = max(self.max_a, other.max_a)
            self.max_b = max(self.max_b, other.max_b)

    @property
    def dates(self) -> int:
        return sum(self.counts.values())

    @property
    def settled(self) -> bool:
        """Whether more values could change the decision (only a day/month order can)."""
        if set(self.counts) - {"xxy"}:
            return True
        return self.max_a > 12 or self.max_b > 12 or self.separators == {"."}

    def _by_order(self) -> str | None:
        """The reading under which the rows run in date order, if only one does."""
        dmy, mdy = self.runs["dmy"], self.runs["mdy"]
        if dmy.disorder == mdy.disorder:
            return None
        better, worse = (dmy, mdy) if dmy.disorder < mdy.disorder else (mdy, dmy)
        steps = worse.ups + worse.downs
        if better.disorder > MAX_DISORDER * (better.ups + better.downs):
            return None
        if worse.disorder < 2 or worse.disorder <= MAX_DISORDER * steps:
            return None
        return "dmy" if better is dmy else "mdy"

    def decide(self, hints: tuple[DateHint, ...] = ()) -> tuple[DateFormat | None, str | None]:
        """The format, and what is left to the user (None when decided). `hints` are what
        the rest of the file says (decimal comma, currency, ...) when the values cannot."""
        if not self.counts:
            return None, (
                "The dates are in a format that was not recognised; "
                "give it with the date_format option (e.g. %d/%m/%Y)."
            )
        kind = max(self.counts, key=self.counts.get)
        if kind == "ymd":
            return DateFormat(NAMES[kind], _iso_parser(_shape_parser(kind, None))), None
        if kind != "xxy":
            return DateFormat(NAMES[kind], _shape_parser(kind, None)), None
        separator = "/" if len(self.separators) != 1 else next(iter(self.separators))
        if self.max_a > 12 and self.max_b > 12:
            return None, (
                "The dates fit neither DD/MM/YYYY nor MM/DD/YYYY throughout; "
                "give the format with the date_format option."
            )
        if self.max_b > 12:
            order, undecided = "mdy", None
        elif self.max_a > 12 or separator == ".":
            order, undecided = "dmy", None
        else:
            order, undecided = self._ambiguous(hints)
        name = NAMES[order].replace("/", separator)
        return DateFormat(name, _shape_parser("xxy", order)), undecided

    def _ambiguous(self, hints: tuple[DateHint, ...]) -> tuple[str, str | None]:
        """(order, undecided) when no day in the file is above 12."""
        by_order = self._by_order()
        if by_order:
            return by_order, None
        strong = {hint.order for hint in hints if hint.strong}
        if len(strong) == 1:
            return next(iter(strong)), None
        weak = [hint for hint in hints if not hint.strong]
        if not strong and weak and len({hint.order for hint in weak}) == 1:
            order = weak[0].order
            reasons = "; ".join(hint.reason for hint in weak)
            other = "%d/%m/%Y" if order == "mdy" else "%m/%d/%Y"
            return order, (
                f"The dates could be DD/MM/YYYY or MM/DD/YYYY (no day above 12 in the file); "
                f"read as {NAMES[order]} because {reasons}, which is not proof: confirm, "
                f"or give date_format={other}."
            )
        return "dmy", (
            "The dates could be DD/MM/YYYY or MM/DD/YYYY (no day above 12 in the file); "
            "read as DD/MM/YYYY: confirm, or give date_format=%m/%d/%Y."
        )


def looks_like_date(text: str) -> bool:
    evidence = DateEvidence()
    evidence.add(text)
    return evidence.dates == 1


_TIME_ONLY = re.compile(_TIME.replace(r"(?:[T ]\s*", r"(?:\s*", 1))


def parse_time_of_day(text: str) -> tuple[int, int, int, int]:
    """A time column's value ('18:45', '06:50 PM', '03:46:20') as hour, minute, second, µs."""
    match = _TIME_ONLY.fullmatch(text.strip())
    if match is None or match.group("hour") is None:
        raise ValueError("not a time of day")
    hour, minute, second, micro, _ = _time(match)
    return hour, minute, second, micro
