"""Session state: filters (presets, URL round trip, previous period) and who is logged in."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import param

from spending_ui.api import (
    ApiClient,
    ApiError,
    AuthExpired,
    BackendUnavailable,
    Params,
    Token,
    token_expiry,
)

logger = logging.getLogger(__name__)

PRESETS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_30_days": "Last 30 days",
    "last_3_months": "Last 3 months",
    "last_12_months": "Last 12 months",
    "this_year": "This year",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT_PRESET = "last_12_months"
GRANULARITIES = ("day", "week", "month")
MAX_Q_LENGTH = 200
SESSION_EXPIRED = "Your session has expired. Please log in again."


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def preset_range(preset: str, today: date) -> tuple[date | None, date | None]:
    """The inclusive dates a preset stands for on `today`; (None, None) for all time."""
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        first_of_this_month = today.replace(day=1)
        return months_before(first_of_this_month, 1), first_of_this_month - timedelta(days=1)
    if preset == "last_30_days":
        return today - timedelta(days=29), today
    if preset == "last_3_months":
        return months_before(today, 3) + timedelta(days=1), today
    if preset == "last_12_months":
        return months_before(today, 12) + timedelta(days=1), today
    if preset == "this_year":
        return date(today.year, 1, 1), today
    return None, None


def period_end(start: date, granularity: str) -> date:
    """The last day of the day/week/month that begins on `start`."""
    if granularity == "day":
        return start
    if granularity == "week":
        return start + timedelta(days=6)
    return months_before(start, -1) - timedelta(days=1)


def _month_end(day: date) -> date:
    return months_before(day.replace(day=1), -1) - timedelta(days=1)


def previous_period(
    start: date | None, end: date | None, preset: str = "custom"
) -> tuple[date, date] | None:
    """The period a KPI's change is measured against; None for an open or reversed range.

    "This year" (a year to date, also 1 January .. a day that does not end a month): the same
    days of the previous year. Whole calendar months (a month, a quarter, a year, ...): the same
    number of calendar months before. A month to date (the 1st .. a day of that month): the
    same days of the previous month. Any other range: the same number of days just before it.
    """
    if start is None or end is None or start > end:
        return None
    if preset == "this_year":
        return months_before(start, 12), months_before(end, 12)
    if start.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if end == _month_end(end):
            return months_before(start, months), start - timedelta(days=1)
        if months == 1:  # month to date
            return months_before(start, 1), months_before(end, 1)
        if start.month == 1 and start.year == end.year:  # year to date
            return months_before(start, 12), months_before(end, 12)
    days = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    return previous_end - timedelta(days=days - 1), previous_end


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class Filters(param.Parameterized):
    """What the dashboard shows: one set of filters sent to /metrics, /transactions and export."""

    preset = param.Selector(default=DEFAULT_PRESET, objects=list(PRESETS))
    start = param.CalendarDate(default=None, allow_None=True)
    end = param.CalendarDate(default=None, allow_None=True)
    categories = param.List(default=[], item_type=str)
    accounts = param.List(default=[], item_type=int, doc="Account ids; none: every account")
    min_amount = param.Number(default=None, allow_None=True)
    max_amount = param.Number(default=None, allow_None=True)
    q = param.String(default="")
    granularity = param.Selector(default="month", objects=list(GRANULARITIES))
    by_group = param.Boolean(
        default=False, doc="The donut shows category groups (top-level categories) instead"
    )

    def __init__(self, *, today: date | None = None, **params):
        self._today = today
        super().__init__(**params)
        self._applying_preset = False
        if self.preset != "custom" and "start" not in params and "end" not in params:
            self._apply_preset()

    @property
    def today(self) -> date:
        return self._today or date.today()

    # -- presets --------------------------------------------------------------------------

    def _apply_preset(self) -> None:
        start, end = preset_range(self.preset, self.today)
        self._applying_preset = True
        try:
            self.param.update(start=start, end=end)
        finally:
            self._applying_preset = False

    @param.depends("preset", watch=True)
    def _preset_changed(self) -> None:
        if self.preset != "custom":
            self._apply_preset()

    @param.depends("start", "end", watch=True)
    def _dates_changed(self) -> None:
        if self.start and self.end and self.start > self.end:
            # From after To: the user means the range between them, never an invalid one.
            self.param.update(start=self.end, end=self.start)
            return
        if self._applying_preset:
            return
        if (self.start, self.end) != preset_range(self.preset, self.today):
            self.preset = "custom"

    @param.depends("min_amount", "max_amount", watch=True)
    def _amounts_changed(self) -> None:
        # The invariant for any writer; set_amounts orders them first (one change, not two).
        if self.min_amount is not None and self.max_amount is not None:
            if self.min_amount > self.max_amount:
                self.set_amounts(self.min_amount, self.max_amount)

    def set_amounts(self, low: float | None, high: float | None) -> None:
        """The amount range, in one change: Min above Max means the range between them."""
        low, high = _ordered(low, high)
        self.param.update(min_amount=low, max_amount=high)

    def set_range(self, start: date | None, end: date | None) -> None:
        """A custom range, e.g. from the date picker or a click on a bar."""
        self._applying_preset = True
        try:
            self.param.update(start=start, end=end, preset="custom")
        finally:
            self._applying_preset = False

    # -- the API's query parameters -------------------------------------------------------

    def to_params(self, *, start: date | None = None, end: date | None = None) -> Params:
        """The filters as /metrics and /transactions query parameters; dates can be overridden."""
        start = start if start is not None else self.start
        end = end if end is not None else self.end
        params: Params = []
        if start:
            params.append(("start", start.isoformat()))
        if end:
            params.append(("end", end.isoformat()))
        params.extend(("category", category) for category in self.categories)
        params.extend(("account", str(account)) for account in self.accounts)
        if self.min_amount is not None:
            params.append(("min_amount", _number_text(self.min_amount)))
        if self.max_amount is not None:
            params.append(("max_amount", _number_text(self.max_amount)))
        if self.q.strip():
            params.append(("q", self.q.strip()))
        return params

    def previous_period(self) -> tuple[date, date] | None:
        return previous_period(self.start, self.end, self.preset)

    def previous_params(self) -> Params | None:
        period = self.previous_period()
        if period is None:
            return None
        return self.to_params(start=period[0], end=period[1])

    @property
    def is_default(self) -> bool:
        return (
            self.preset == DEFAULT_PRESET
            and not self.categories
            and not self.accounts
            and self.min_amount is None
            and self.max_amount is None
            and not self.q
        )

    def describe_range(self) -> str:
        if self.preset not in ("custom",):
            return PRESETS[self.preset]
        if self.start and self.end:
            return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"
        if self.start:
            return f"since {self.start:%d %b %Y}"
        if self.end:
            return f"until {self.end:%d %b %Y}"
        return PRESETS["all"]

    # -- the URL --------------------------------------------------------------------------

    def to_query(self) -> list[tuple[str, str]]:
        """The filters as URL query items: a relative preset stays relative when shared."""
        query: list[tuple[str, str]] = []
        if self.preset == "custom":
            if self.start:
                query.append(("start", self.start.isoformat()))
            if self.end:
                query.append(("end", self.end.isoformat()))
        elif self.preset != DEFAULT_PRESET:
            query.append(("preset", self.preset))
        query.extend(("category", category) for category in self.categories)
        query.extend(("account", str(account)) for account in self.accounts)
        if self.min_amount is not None:
            query.append(("min", _number_text(self.min_amount)))
        if self.max_amount is not None:
            query.append(("max", _number_text(self.max_amount)))
        if self.q:
            query.append(("q", self.q))
        if self.granularity != "month":
            query.append(("granularity", self.granularity))
        if self.by_group:
            query.append(("groups", "1"))
        return query

    def apply_query(self, query: Mapping[str, Sequence[str]]) -> None:
        """Set the filters from parsed URL query items (parse_qs); bad values are ignored."""

        def first(name: str) -> str | None:
            values = query.get(name) or []
            return values[0] if values else None

        updates: dict = {}
        preset = first("preset")
        start, end = _iso_date(first("start")), _iso_date(first("end"))
        if start or end:
            if start and end and start > end:
                start, end = end, start
            updates.update(preset="custom", start=start, end=end)
        else:
            preset = preset if preset in PRESETS and preset != "custom" else DEFAULT_PRESET
            first_day, last_day = preset_range(preset, self.today)
            updates.update(preset=preset, start=first_day, end=last_day)
        categories = [c for c in query.get("category", []) if c and len(c) <= 100]
        updates["categories"] = list(dict.fromkeys(categories))
        accounts = [
            int(a) for a in query.get("account", []) if a.isascii() and a.isdigit() and len(a) <= 18
        ]
        updates["accounts"] = list(dict.fromkeys(accounts))
        low, high = _ordered(_decimal(first("min") or ""), _decimal(first("max") or ""))
        updates["min_amount"] = None if low is None else float(low)
        updates["max_amount"] = None if high is None else float(high)
        updates["q"] = (first("q") or "")[:MAX_Q_LENGTH]
        granularity = first("granularity")
        updates["granularity"] = granularity if granularity in GRANULARITIES else "month"
        updates["by_group"] = first("groups") == "1"
        self._applying_preset = True
        try:
            self.param.update(**updates)
        finally:
            self._applying_preset = False

    # -- narrowing from the charts --------------------------------------------------------

    def narrow_to_categories(self, categories: list[str]) -> None:
        self.categories = list(categories)

    def narrow_to_period(self, start: date, granularity: str) -> None:
        """Show just the clicked bar's period, one level finer."""
        end = period_end(start, granularity)
        finer = {"month": "week", "week": "day", "day": "day"}[granularity]
        # One change of state, so one refresh: range and granularity land together.
        self._applying_preset = True
        try:
            self.param.update(start=start, end=end, preset="custom", granularity=finer)
        finally:
            self._applying_preset = False

    def reset(self) -> None:
        start, end = preset_range(DEFAULT_PRESET, self.today)
        self._applying_preset = True
        try:
            self.param.update(
                categories=[],
                accounts=[],
                min_amount=None,
                max_amount=None,
                q="",
                preset=DEFAULT_PRESET,
                start=start,
                end=end,
            )
        finally:
            self._applying_preset = False


def _ordered(low, high):
    """(low, high) with a crossed pair swapped; None is an open end."""
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


def _iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_money(text: str) -> Decimal | None:
    """An amount typed by a person, exactly: "1,000", "1 000.50", "-12"; None for an empty
    box.

    Raises ValueError with a sentence to show when it is not a number.
    """
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    number = _decimal(cleaned)
    if number is None:
        raise ValueError(f"“{text.strip()[:20]}” is not an amount: type a number like 1,000.50")
    return number


def parse_amount(text: str) -> float | None:
    """`parse_money` as the filters' float."""
    number = parse_money(text)
    return None if number is None else float(number)


def amount_text(value: float | None) -> str:
    """How an amount filter reads in its box (empty for none, never "NaN")."""
    if value is None or value != value:
        return ""
    text = f"{Decimal(str(value)):,.2f}"
    return text[:-3] if text.endswith(".00") else text


def _number_text(value: float) -> str:
    text = f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    return text


class AuthState(param.Parameterized):
    """Who is logged in, in this browser session only: the token never leaves this object."""

    status = param.Selector(default="starting", objects=["starting", "logged_out", "logged_in"])
    username = param.String(default="")
    message = param.String(default="", doc="Shown on the login page")
    busy = param.Boolean(default=False)
    backend_down = param.Boolean(default=False)
    expires_at = param.ClassSelector(class_=datetime, default=None, allow_None=True)
    token = param.String(default="", precedence=-1, doc="Per session; mirrored to sessionStorage")
    client_address = param.String(default="", precedence=-1, doc="The browser's, for the API")

    def __init__(self, api: ApiClient, **params):
        super().__init__(**params)
        self.api = api
        # Tokens renewed by the client while the user works: kept and mirrored like a login's.
        api.on_new_token = self._token_renewed

    def _token_renewed(self, token: Token) -> None:
        self.param.update(token=token.access_token, expires_at=token_expiry(token.access_token))

    async def login(self, username: str, password: str) -> bool:
        if not username.strip() or not password:
            self.message = "Enter your username and password."
            return False
        self.busy = True
        try:
            token = await self.api.login(
                username.strip(), password, client_address=self.client_address or None
            )
            user = await self.api.me()
        except BackendUnavailable:
            self.api.token = None
            self.message = "The server cannot be reached. Please try again in a moment."
            return False
        except ApiError as exc:
            self.api.token = None
            self.message = exc.message
            return False
        finally:
            self.busy = False
        now = datetime.now(timezone.utc)
        self.param.update(
            token=token.access_token,
            username=user.username,
            expires_at=token_expiry(token.access_token)
            or now + timedelta(seconds=token.expires_in),
            message="",
            backend_down=False,
            status="logged_in",
        )
        return True

    async def restore(self, token: str) -> bool:
        """Resume with a token kept by this browser tab (a page reload)."""
        if not token:
            self.status = "logged_out"
            return False
        expiry = token_expiry(token)
        if expiry and expiry <= datetime.now(timezone.utc):
            self.param.update(status="logged_out", message=SESSION_EXPIRED)
            return False
        self.api.token = token
        try:
            user = await self.api.me()
        except AuthExpired:
            self.api.token = None
            self.param.update(token="", status="logged_out", message=SESSION_EXPIRED)
            return False
        except ApiError as exc:
            self.api.token = None
            self.param.update(token="", status="logged_out", message=exc.message)
            return False
        # The client may have renewed the token on the way (a tab reloaded late in its life).
        self.param.update(
            token=self.api.token,
            username=user.username,
            expires_at=token_expiry(self.api.token),
            status="logged_in",
        )
        return True

    def logout(self, message: str = "") -> None:
        """Forget the session here (an expired or refused token needs nothing more)."""
        self.api.token = None
        self.param.update(
            token="", username="", expires_at=None, message=message, status="logged_out"
        )

    async def sign_out(self) -> None:
        """The Log out button: the server ends the session, then this tab forgets it."""
        await self.api.logout()
        self.logout()

    async def change_password(self, current: str, new: str) -> str:
        """Returns the message to show; every other session of the user ends."""
        try:
            token = await self.api.change_password(current, new)
        except AuthExpired as exc:
            return self.handle(exc)
        except ApiError as exc:
            return exc.message
        self._token_renewed(token)
        return "Password changed. Your other sessions have been logged out."

    def expire_if_due(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        if self.status == "logged_in" and self.expires_at and self.expires_at <= now:
            self.logout(SESSION_EXPIRED)
            return True
        return False

    def handle(self, exc: ApiError) -> str:
        """React to an API error of a logged-in request; returns the message to show."""
        if isinstance(exc, AuthExpired):
            self.logout(SESSION_EXPIRED)
        elif isinstance(exc, BackendUnavailable):
            self.backend_down = True
        return exc.message

    async def check_backend(self) -> bool:
        """Called while the backend is down; True once it answers again."""
        if await self.api.health():
            self.backend_down = False
            return True
        return False
