"""The one HTTP client of the dashboard: typed results, and errors the views turn into messages."""

from __future__ import annotations

import base64
import functools
import json
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import httpx

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=3.0)
# A request made with less than this share of the token's lifetime left renews it first
# (POST /refresh): a session in use never expires, an idle one does.
REFRESH_WHEN_LEFT = 0.5


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every session's client shares: making them (reading the CA bundle)
    cost each new browser session about 20 ms of the server's CPU before its first page."""
    return httpx.create_ssl_context()


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without checking it (the API checks it)."""
    claims = _claims(token)
    try:
        return datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc)
    except (KeyError, ValueError, TypeError):
        return None


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class ApiError(Exception):
    """The API answered with an error, or could not be asked; `message` is for people."""

    def __init__(self, message: str, *, status: int | None = None, detail: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail


class AuthExpired(ApiError):
    """The token is missing, expired or no longer valid: log in again."""


class InvalidCredentials(ApiError):
    """POST /login refused the username or password."""


class LoginLocked(ApiError):
    """Too many failed logins; `retry_after` seconds until the next try."""

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BackendUnavailable(ApiError):
    """No answer (refused, timed out) or the API said it is unavailable (502-504)."""


class InvalidRequest(ApiError):
    """422: the API rejected a value (a filter, a CSV file)."""


class WrongCurrentPassword(ApiError):
    """403 from POST /me/password: the current password given is not the user's."""


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class User:
    id: int
    username: str


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    total: Decimal
    count: int
    share: Decimal


@dataclass(frozen=True)
class PeriodTotal:
    period_start: date
    total: Decimal
    count: int
    income: Decimal = Decimal(0)


@dataclass(frozen=True)
class Metrics:
    total_spend: Decimal
    transaction_count: int
    average_monthly_spend: Decimal
    average_transaction: Decimal
    first_transaction: date | None
    last_transaction: date | None
    top_categories: list[CategoryTotal] = field(default_factory=list)
    spend_over_time: list[PeriodTotal] = field(default_factory=list)
    # Money in under income categories (positive) and what is left of it; None from an API
    # that does not report income. `savings_rate` is None when there was no income.
    total_income: Decimal | None = None
    net_savings: Decimal | None = None
    savings_rate: Decimal | None = None
    income_categories: list[CategoryTotal] = field(default_factory=list)
    # The same, rolled up by group (a top-level category with everything below it).
    category_groups: list[CategoryTotal] = field(default_factory=list)
    income_groups: list[CategoryTotal] = field(default_factory=list)

    @property
    def top_category(self) -> CategoryTotal | None:
        """The category with the most spending; None when nothing was spent (only refunds)."""
        spending = self.spending_categories
        return spending[0] if spending else None

    @property
    def spending_categories(self) -> list[CategoryTotal]:
        """The categories with more spent than refunded; a refund-only category is not spend."""
        return [item for item in self.top_categories if item.total > 0]

    @property
    def positive_spend(self) -> Decimal:
        return sum((item.total for item in self.spending_categories), Decimal(0))

    def category_total(self, category: str) -> Decimal:
        for item in self.top_categories:
            if item.category == category:
                return item.total
        return Decimal(0)

    @property
    def uncategorized_share(self) -> Decimal | None:
        """The share of total_spend under "Uncategorized" (0..1, 4 decimals like `share`);
        None when nothing was spent."""
        if self.total_spend <= 0:
            return None
        share = self.category_total(UNCATEGORIZED) / self.total_spend
        return max(Decimal(0), share).quantize(Decimal("0.0001"))


# The API's name of the spending category nobody chose (spending_api.categories.defaults).
UNCATEGORIZED = "Uncategorized"
CATEGORY_SOURCES = ("user", "rule", "bank", "learned", "default")


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: Decimal | None


@dataclass(frozen=True)
class Transaction:
    id: int
    amount: Decimal
    category: str
    timestamp: datetime
    description: str | None
    account_id: int | None = None
    kind: str | None = None
    notes: str | None = None
    category_source: str | None = None
    suggestion: Suggestion | None = None


@dataclass(frozen=True)
class BulkResult:
    """PATCH /transactions: how many rows matched, their total, how many were changed."""

    matched: int
    total: Decimal
    updated: int


@dataclass(frozen=True)
class Rule:
    id: int | None
    name: str
    conditions: list[dict[str, Any]]
    actions: dict[str, Any]
    enabled: bool = True
    position: int | None = None

    def body(self) -> dict[str, Any]:
        """The rule as POST /rules and /rules/preview take it."""
        return {
            "name": self.name,
            "conditions": self.conditions,
            "actions": self.actions,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class RuleChange:
    id: int
    timestamp: datetime
    amount: Decimal
    description: str | None
    category: str
    new_category: str
    new_description: str | None = None


@dataclass(frozen=True)
class RulePreview:
    count: int
    total: Decimal
    transactions: list[RuleChange]


@dataclass(frozen=True)
class RuleProposal:
    rule: Rule
    preview: RulePreview


ACCOUNT_KINDS = {
    "checking": "Checking",
    "savings": "Savings",
    "credit_card": "Credit card",
    "cash": "Cash",
    "wallet": "Wallet",
    "loan": "Loan",
}


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    kind: str
    currency: str
    institution: str | None = None


@dataclass(frozen=True)
class TransactionPage:
    items: list[Transaction]
    total: int


@dataclass(frozen=True)
class CategoryCount:
    """One of the user's categories as GET /categories lists it (`count`: its transactions;
    `parent_id`: the category it is grouped under)."""

    category: str
    count: int
    kind: str | None = None
    id: int | None = None
    colour: str | None = None
    parent_id: int | None = None


CATEGORY_KINDS = {"spending": "Spending", "income": "Income", "transfer": "Transfer"}


@dataclass(frozen=True)
class SkippedRow:
    line: int | None
    reason: str


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    skipped_duplicates: int
    total_rows: int
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    skipped_row_count: int = 0
    import_id: int | None = None
    account_id: int | None = None


AMOUNT_SIGNS = ("spend_positive", "spend_negative")


@dataclass(frozen=True)
class ImportOptions:
    """What the user decided in the import dialog; None: let the API detect it."""

    account_id: int | None = None
    mapping: dict[str, list[int]] | None = None
    has_header: bool | None = None
    date_format: str | None = None
    amount_sign: str | None = None
    encoding: str | None = None

    def query(self) -> Params:
        """The options as the import's query parameters (`account_id` is a form field)."""
        query: Params = []
        if self.mapping:
            targets = {
                role: cols[0] if len(cols) == 1 else cols for role, cols in self.mapping.items()
            }
            query.append(("mapping", json.dumps(targets, separators=(",", ":"))))
        if self.has_header is not None:
            query.append(("has_header", "true" if self.has_header else "false"))
        if self.date_format:
            query.append(("date_format", self.date_format))
        if self.amount_sign:
            query.append(("amount_sign", self.amount_sign))
        if self.encoding:
            query.append(("encoding", self.encoding))
        return query


@dataclass(frozen=True)
class DetectedColumn:
    index: int
    name: str | None
    role: str


@dataclass(frozen=True)
class Detection:
    format: str
    encoding: str | None
    delimiter: str | None
    header_line: int | None
    header: list[str] | None
    columns: list[DetectedColumn]
    mapping: dict[str, list[int]]
    date_format: str | None
    amount_sign: str | None
    currency: str | None
    undecided: list[str]
    roles: tuple[str, ...] = ()  # every role a column can play, as the API lists them


@dataclass(frozen=True)
class PreviewRow:
    line: int
    timestamp: datetime
    amount: Decimal
    description: str
    notes: str | None
    category: str | None
    type: str | None
    currency: str | None


@dataclass(frozen=True)
class ImportPreview:
    detection: Detection
    rows: list[PreviewRow]
    skipped_rows: list[SkippedRow]
    skipped_row_count: int
    problems: list[RowError]
    problem_count: int
    message: str | None


@dataclass(frozen=True)
class RowError:
    line: int | None
    column: str | None
    value: str | None
    reason: str


class ImportRejected(InvalidRequest):
    """422 from the importer: the file was not imported; `errors` says why, row by row."""

    def __init__(self, message: str, *, error_count: int, errors: list[RowError], **kwargs: Any):
        super().__init__(message, **kwargs)
        self.error_count = error_count
        self.errors = errors


Params = list[tuple[str, str]]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _metrics(data: dict[str, Any]) -> Metrics:
    return Metrics(
        total_spend=Decimal(data["total_spend"]),
        transaction_count=int(data["transaction_count"]),
        average_monthly_spend=Decimal(data["average_monthly_spend"]),
        average_transaction=Decimal(data["average_transaction"]),
        first_transaction=_date(data.get("first_transaction")),
        last_transaction=_date(data.get("last_transaction")),
        top_categories=[_category_total(item) for item in data.get("top_categories", [])],
        spend_over_time=[
            PeriodTotal(
                period_start=date.fromisoformat(item["period_start"]),
                total=Decimal(item["total"]),
                count=int(item["count"]),
                income=Decimal(item.get("income") or 0),
            )
            for item in data.get("spend_over_time", [])
        ],
        total_income=_optional_decimal(data.get("total_income")),
        net_savings=_optional_decimal(data.get("net_savings")),
        savings_rate=_optional_decimal(data.get("savings_rate")),
        income_categories=[_category_total(item) for item in data.get("income_categories", [])],
        category_groups=[_category_total(item) for item in data.get("category_groups", [])],
        income_groups=[_category_total(item) for item in data.get("income_groups", [])],
    )


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _category_total(item: dict[str, Any]) -> CategoryTotal:
    return CategoryTotal(
        category=item["category"],
        total=Decimal(item["total"]),
        count=int(item["count"]),
        share=Decimal(item["share"]),
    )


def _row_errors(items: list[Any]) -> list[RowError]:
    return [
        RowError(
            line=e.get("line"),
            column=e.get("column"),
            value=None if e.get("value") is None else str(e.get("value")),
            reason=str(e.get("reason", "")),
        )
        for e in items
        if isinstance(e, dict)
    ]


def _skipped_rows(items: list[Any]) -> list[SkippedRow]:
    return [
        SkippedRow(line=s.get("line"), reason=str(s.get("reason", "")))
        for s in items
        if isinstance(s, dict)
    ]


def _transaction(i: dict[str, Any]) -> Transaction:
    suggestion = i.get("suggestion")
    return Transaction(
        id=int(i["id"]),
        amount=Decimal(i["amount"]),
        category=i["category"],
        timestamp=datetime.fromisoformat(i["timestamp"]),
        description=i.get("description"),
        account_id=i.get("account_id"),
        kind=i.get("kind"),
        notes=i.get("notes"),
        category_source=i.get("category_source"),
        suggestion=(
            Suggestion(
                category=str(suggestion["category"]),
                confidence=_optional_decimal(suggestion.get("confidence")),
            )
            if isinstance(suggestion, dict)
            else None
        ),
    )


def _category(data: dict[str, Any]) -> CategoryCount:
    return CategoryCount(
        category=str(data["name"]),
        count=int(data["count"]),
        kind=data.get("kind"),
        id=int(data["id"]),
        colour=data.get("colour"),
        parent_id=data.get("parent_id"),
    )


def _rule(data: dict[str, Any]) -> Rule:
    return Rule(
        id=data.get("id"),
        name=str(data["name"]),
        conditions=list(data.get("conditions") or []),
        actions=dict(data.get("actions") or {}),
        enabled=bool(data.get("enabled", True)),
        position=data.get("position"),
    )


def _rule_preview(data: dict[str, Any]) -> RulePreview:
    return RulePreview(
        count=int(data["count"]),
        total=Decimal(data["total"]),
        transactions=[
            RuleChange(
                id=int(t["id"]),
                timestamp=datetime.fromisoformat(t["timestamp"]),
                amount=Decimal(t["amount"]),
                description=t.get("description"),
                category=str(t["category"]),
                new_category=str(t["new_category"]),
                new_description=t.get("new_description"),
            )
            for t in data.get("transactions", [])
        ],
    )


def _account(data: dict[str, Any]) -> Account:
    return Account(
        id=int(data["id"]),
        name=str(data["name"]),
        kind=str(data["kind"]),
        currency=str(data["currency"]),
        institution=data.get("institution"),
    )


def _preview(data: dict[str, Any]) -> ImportPreview:
    found = data["detection"]
    return ImportPreview(
        detection=Detection(
            format=found["format"],
            encoding=found.get("encoding"),
            delimiter=found.get("delimiter"),
            header_line=found.get("header_line"),
            header=found.get("header"),
            columns=[
                DetectedColumn(index=int(c["index"]), name=c.get("name"), role=str(c["role"]))
                for c in found.get("columns", [])
            ],
            mapping={
                str(role): [int(i) for i in indexes]
                for role, indexes in (found.get("mapping") or {}).items()
            },
            date_format=found.get("date_format"),
            amount_sign=found.get("amount_sign"),
            currency=found.get("currency"),
            undecided=[str(u) for u in found.get("undecided", [])],
            roles=tuple(str(role) for role in found.get("roles", [])),
        ),
        rows=[
            PreviewRow(
                line=int(r["line"]),
                timestamp=datetime.fromisoformat(r["timestamp"]),
                amount=Decimal(r["amount"]),
                description=str(r.get("description") or ""),
                notes=r.get("notes"),
                category=r.get("category"),
                type=r.get("type"),
                currency=r.get("currency"),
            )
            for r in data.get("rows", [])
        ],
        skipped_rows=_skipped_rows(data.get("skipped_rows", [])),
        skipped_row_count=int(data.get("skipped_row_count", 0)),
        problems=_row_errors(data.get("problems", [])),
        problem_count=int(data.get("problem_count", 0)),
        message=data.get("message"),
    )


def _detail_text(detail: Any) -> str:
    """A readable sentence from FastAPI's `detail` (a string or a list of errors)."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail:
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p not in ("query", "body"))
                # Pydantic prefixes a validator's own sentence with "Value error, ".
                message = str(item.get("msg", "")).removeprefix("Value error, ")
                parts.append(f"{where}: {message}".strip(": "))
        return "; ".join(parts) or "The request was not valid"
    if isinstance(detail, dict) and "message" in detail:
        return str(detail["message"])
    return "The request was not valid"


class ApiClient:
    """A small async client of the spending API; one per browser session, with its token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # Told about every token this client gets by itself (a refresh), e.g. to store it.
        self.on_new_token: Callable[[Token], None] | None = None
        self._unrenewable: str | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            verify=tls_context(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if not self.token:
            raise AuthExpired("Please log in.", status=401)
        return {"Authorization": f"Bearer {self.token}"}

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            logger.warning("%s %s timed out: %s", method, url, exc)
            raise BackendUnavailable("The server took too long to answer.") from exc
        except httpx.TransportError as exc:
            logger.warning("%s %s failed: %s", method, url, exc)
            raise BackendUnavailable("The server cannot be reached.") from exc
        return response

    @staticmethod
    def _detail(response: httpx.Response) -> Any:
        try:
            return response.json().get("detail")
        except (ValueError, AttributeError):
            return None

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = self._detail(response)
        if status == 401:
            raise AuthExpired("Your session has expired. Please log in again.", status=status)
        if status == 422:
            raise InvalidRequest(_detail_text(detail), status=status, detail=detail)
        if status == 413:
            raise InvalidRequest("The file is too large to upload.", status=status, detail=detail)
        if status in (502, 503, 504):
            raise BackendUnavailable(
                "The server is unavailable right now.", status=status, detail=detail
            )
        if status >= 500:
            raise ApiError("The server had a problem. Please try again.", status=status)
        raise ApiError(
            _detail_text(detail) if detail else f"Request failed ({status})",
            status=status,
            detail=detail,
        )

    async def _authorized(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request with the token, renewed first when most of its lifetime is gone."""
        await self._refresh_if_due()
        return await self._send(method, url, headers=self._headers(), **kwargs)

    async def _get(self, url: str, params: Params | None = None) -> httpx.Response:
        response = await self._authorized("GET", url, params=params or [])
        self._raise_for_status(response)
        return response

    async def _refresh_if_due(self) -> None:
        claims = _claims(self.token or "")
        try:
            issued, expires = int(claims["iat"]), int(claims["exp"])
        except (KeyError, ValueError, TypeError):
            return  # not a token we can read: the request itself will tell
        now_ts = self.clock().timestamp()
        if now_ts >= expires or expires - now_ts > (expires - issued) * REFRESH_WHEN_LEFT:
            return
        if self.token == self._unrenewable:
            return
        try:
            await self.refresh()
        except AuthExpired:
            # The session's maximum age: use the token while it lasts, without asking again.
            self._unrenewable = self.token

    def _new_token(self, response: httpx.Response) -> Token:
        data = self._json(response)
        token = Token(access_token=data["access_token"], expires_in=int(data["expires_in"]))
        self.token = token.access_token
        return token

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError("The server sent an answer that could not be read.") from exc

    # -- endpoints ------------------------------------------------------------------------

    async def login(
        self, username: str, password: str, *, client_address: str | None = None
    ) -> Token:
        # The API trusts this header from the dashboard's address only (TRUSTED_PROXIES):
        # the login limits then count per browser, not for the dashboard as a whole.
        headers = {"X-Forwarded-For": client_address} if client_address else {}
        response = await self._send(
            "POST", "/login", json={"username": username, "password": password}, headers=headers
        )
        if response.status_code == 401:
            raise InvalidCredentials("Incorrect username or password.", status=401)
        if response.status_code == 429:
            retry = response.headers.get("Retry-After", "")
            seconds = int(retry) if retry.isdigit() else None
            wait = f" Try again in {max(1, round(seconds / 60))} min." if seconds else ""
            raise LoginLocked(
                f"Too many failed attempts; this account is locked for now.{wait}",
                status=429,
                retry_after=seconds,
            )
        if response.status_code == 422:
            raise InvalidRequest("Enter a username and a password.", status=422)
        self._raise_for_status(response)
        return self._new_token(response)

    async def refresh(self) -> Token:
        """A fresh token for the same session (POST /refresh)."""
        response = await self._send("POST", "/refresh", headers=self._headers())
        self._raise_for_status(response)
        token = self._new_token(response)
        if self.on_new_token is not None:
            self.on_new_token(token)
        return token

    async def logout(self) -> None:
        """End the session on the server; the token is forgotten here whatever happens."""
        if not self.token:
            return
        try:
            response = await self._send("POST", "/logout", headers=self._headers())
            if response.status_code not in (204, 401):  # 401: already ended
                logger.warning("logout answered %s", response.status_code)
        except BackendUnavailable:
            logger.warning("logout: the API is unreachable; the token expires by itself")
        finally:
            self.token = None

    async def change_password(self, current_password: str, new_password: str) -> Token:
        """A new password; every other session of the user ends, this one gets a new token."""
        response = await self._authorized(
            "POST",
            "/me/password",
            json={"current_password": current_password, "new_password": new_password},
        )
        if response.status_code == 403:
            raise WrongCurrentPassword("The current password is not correct.", status=403)
        if response.status_code == 429:
            retry = response.headers.get("Retry-After", "")
            raise LoginLocked(
                "Too many wrong passwords; try again later.",
                status=429,
                retry_after=int(retry) if retry.isdigit() else None,
            )
        if response.status_code == 422:
            raise InvalidRequest("The new password must have at least 8 characters.", status=422)
        self._raise_for_status(response)
        return self._new_token(response)

    async def me(self) -> User:
        data = self._json(await self._get("/me"))
        return User(id=int(data["id"]), username=str(data["username"]))

    async def health(self) -> bool:
        try:
            response = await self._http.get("/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def categories(self) -> list[CategoryCount]:
        data = self._json(await self._get("/categories"))
        try:
            return [_category(item) for item in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent categories that could not be read.") from exc

    async def create_category(
        self, *, name: str, kind: str, colour: str | None, parent_id: int | None
    ) -> CategoryCount:
        body = {"name": name, "kind": kind, "colour": colour, "parent_id": parent_id}
        return _category(await self._write("POST", "/categories", body))

    async def update_category(self, category_id: int, **changes: Any) -> CategoryCount:
        """PATCH: only the fields given (name, kind, colour, parent_id; None clears the
        colour or the group). A new name moves every transaction to it."""
        return _category(await self._write("PATCH", f"/categories/{int(category_id)}", changes))

    async def merge_category(self, category_id: int, *, into: int) -> CategoryCount:
        """Every transaction of the category moves to `into`, then it is deleted; the answer
        is `into` as it is now."""
        body = {"into": int(into)}
        return _category(await self._write("POST", f"/categories/{int(category_id)}/merge", body))

    async def delete_category(self, category_id: int, *, move_to: int) -> None:
        """Delete the category, its transactions (and rules) moved to `move_to` first."""
        await self._write("DELETE", f"/categories/{int(category_id)}?move_to={int(move_to)}")

    async def metrics(self, params: Params, granularity: str = "month") -> Metrics:
        response = await self._get("/metrics", [*params, ("granularity", granularity)])
        try:
            return _metrics(response.json(parse_float=Decimal))
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError("The server sent metrics that could not be read.") from exc

    async def transactions(
        self, params: Params, *, sort: str = "-timestamp", limit: int = 25, offset: int = 0
    ) -> TransactionPage:
        query = [*params, ("sort", sort), ("limit", str(limit)), ("offset", str(offset))]
        response = await self._get("/transactions", query)
        try:
            items = [_transaction(i) for i in response.json(parse_float=Decimal)]
            total = int(response.headers.get("X-Total-Count", len(items)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError("The server sent transactions that could not be read.") from exc
        return TransactionPage(items=items, total=total)

    async def review_queue(
        self, params: Params, *, limit: int = 10, offset: int = 0
    ) -> TransactionPage:
        """The review queue (uncategorized and low-confidence rows), the largest first."""
        return await self.transactions(
            [*params, ("review", "true")], sort="-amount", limit=limit, offset=offset
        )

    async def _write(self, method: str, url: str, body: Any = None) -> Any:
        response = await self._authorized(method, url, json=body)
        self._raise_for_status(response)
        if response.status_code == 204:
            return None
        try:
            return response.json(parse_float=Decimal)
        except ValueError as exc:
            raise ApiError("The server sent an answer that could not be read.") from exc

    async def _transaction_answer(self, method: str, url: str, body: Any = None) -> Transaction:
        data = await self._write(method, url, body)
        try:
            return _transaction(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent a transaction that could not be read.") from exc

    async def create_transaction(
        self,
        *,
        account_id: int,
        timestamp: datetime,
        amount: Decimal,
        description: str | None,
        category: str | None,
        notes: str | None = None,
    ) -> Transaction:
        """A manual transaction; `amount` positive is money out, negative money in."""
        body: dict[str, Any] = {
            "account_id": account_id,
            "timestamp": timestamp.replace(tzinfo=None).isoformat(timespec="seconds"),
            "amount": str(amount),
        }
        if description:
            body["description"] = description
        if category:
            body["category"] = category
        if notes:
            body["notes"] = notes
        return await self._transaction_answer("POST", "/transactions", body)

    async def update_transaction(self, transaction_id: int, **changes: Any) -> Transaction:
        """PATCH: only the fields given (category, description, notes, timestamp, amount)."""
        return await self._transaction_answer(
            "PATCH", f"/transactions/{int(transaction_id)}", changes
        )

    async def delete_transaction(self, transaction_id: int) -> None:
        await self._write("DELETE", f"/transactions/{int(transaction_id)}")

    async def bulk_update(
        self, *, ids: list[int], change: dict[str, Any], dry_run: bool
    ) -> BulkResult:
        body = {"ids": [int(i) for i in ids], "change": change, "dry_run": dry_run}
        data = await self._write("PATCH", "/transactions", body)
        try:
            return BulkResult(
                matched=int(data["matched"]),
                total=Decimal(data["total"]),
                updated=int(data["updated"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent an answer that could not be read.") from exc

    async def accept_suggestion(self, transaction_id: int) -> Transaction:
        return await self._transaction_answer(
            "POST", f"/transactions/{int(transaction_id)}/accept-suggestion"
        )

    async def rules(self) -> list[Rule]:
        data = self._json(await self._get("/rules"))
        try:
            return [_rule(item) for item in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent rules that could not be read.") from exc

    async def create_rule(self, rule: Rule) -> Rule:
        return _rule(await self._write("POST", "/rules", rule.body()))

    async def update_rule(self, rule_id: int, **changes: Any) -> Rule:
        """PATCH: only the fields given (name, conditions, actions, enabled, position: the
        rule's place, 1-based, the others renumbered around it)."""
        return _rule(await self._write("PATCH", f"/rules/{int(rule_id)}", changes))

    async def delete_rule(self, rule_id: int) -> None:
        await self._write("DELETE", f"/rules/{int(rule_id)}")

    async def preview_rule(self, rule: Rule) -> RulePreview:
        """What the rule would change, before it is saved; nothing is stored."""
        data = await self._write("POST", "/rules/preview", rule.body())
        try:
            return _rule_preview(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent a preview that could not be read.") from exc

    async def apply_rules(self, rule_ids: list[int] | None = None) -> int:
        """Run saved rules over the existing transactions (these, or every enabled one, in
        their order); how many changed."""
        body = None if rule_ids is None else {"rule_ids": [int(i) for i in rule_ids]}
        data = await self._write("POST", "/rules/apply", body)
        return int(data["updated"])

    async def rule_proposals(self) -> list[RuleProposal]:
        """Rules offered from the user's repeated corrections (none is saved by asking)."""
        data = self._json(await self._get("/rules/proposals"))
        try:
            return [
                RuleProposal(rule=_rule(item["rule"]), preview=_rule_preview(item["preview"]))
                for item in data
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent rule proposals that could not be read.") from exc

    async def export_csv(self, params: Params) -> bytes:
        return (await self._get("/transactions/export", params)).content

    async def accounts(self) -> list[Account]:
        data = self._json(await self._get("/accounts"))
        try:
            return [_account(item) for item in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent accounts that could not be read.") from exc

    async def create_account(
        self, *, name: str, kind: str, currency: str, institution: str | None = None
    ) -> Account:
        body = {"name": name, "kind": kind, "currency": currency}
        if institution:
            body["institution"] = institution
        response = await self._authorized("POST", "/accounts", json=body)
        self._raise_for_status(response)
        return _account(self._json(response))

    async def _upload(
        self, url: str, filename: str, content: bytes, options: ImportOptions
    ) -> httpx.Response:
        """The file and the options; a 422 that lists the file's rows is ImportRejected."""
        form = {"account_id": str(options.account_id)} if options.account_id is not None else {}
        response = await self._authorized(
            "POST",
            url,
            params=options.query(),
            data=form,
            files={"file": (filename, content, "application/octet-stream")},
            timeout=UPLOAD_TIMEOUT,
        )
        if response.status_code == 422:
            detail = self._detail(response)
            if isinstance(detail, dict) and "errors" in detail:
                errors = _row_errors(detail.get("errors") or [])
                raise ImportRejected(
                    str(detail.get("message") or "The file could not be imported."),
                    status=422,
                    detail=detail,
                    error_count=int(detail.get("error_count", len(errors))),
                    errors=errors,
                )
        self._raise_for_status(response)
        return response

    async def preview_import(
        self, filename: str, content: bytes, options: ImportOptions | None = None
    ) -> ImportPreview:
        """What importing the file with these options would do; nothing is stored."""
        response = await self._upload(
            "/transactions/import/preview", filename, content, options or ImportOptions()
        )
        try:
            return _preview(response.json(parse_float=Decimal))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("The server sent a preview that could not be read.") from exc

    async def import_file(
        self, filename: str, content: bytes, options: ImportOptions | None = None
    ) -> ImportResult:
        response = await self._upload(
            "/transactions/import", filename, content, options or ImportOptions()
        )
        data = self._json(response)
        return ImportResult(
            inserted=int(data["inserted"]),
            skipped_duplicates=int(data["skipped_duplicates"]),
            total_rows=int(data["total_rows"]),
            skipped_rows=_skipped_rows(data.get("skipped_rows") or []),
            skipped_row_count=int(data.get("skipped_row_count", 0)),
            import_id=data.get("import_id"),
            account_id=data.get("account_id"),
        )
