"""The FastAPI application: routers, middleware, error handlers and /health."""

import logging
import math
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from psycopg import OperationalError as PsycopgOperationalError
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from spending_api import __version__, errors
from spending_api.accounts.router import router as accounts_router
from spending_api.auth.router import router as auth_router
from spending_api.cache import ResponseCache
from spending_api.categories.router import router as categories_router
from spending_api.db import Database, Reads, make_async_read_pool
from spending_api.deps import DatabaseDep
from spending_api.imports.router import router as imports_router
from spending_api.limits import RequestLimits
from spending_api.metrics.router import router as metrics_router
from spending_api.rules.router import router as rules_router
from spending_api.suggestions.router import router as suggestions_router
from spending_api.settings import Settings, get_settings
from spending_api.transactions.router import router as transactions_router
from spending_api.transfers.router import router as transfers_router

logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# /docs loads Swagger UI from a CDN; the API's own answers need nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


_SECRET_PATTERNS = (
    # access_token=..., token=..., password=... in query strings and form bodies.
    (
        re.compile(r"(?i)\b((?:access_|refresh_)?token|password|passwd|secret)=[^&\s\"']*"),
        r"\1=[REDACTED]",
    ),
    # "password": "..." in JSON.
    (
        re.compile(r'(?i)("(?:password|access_token|token)"\s*:\s*)"(?:[^"\\]|\\.)*"'),
        r'\1"[REDACTED]"',
    ),
    (re.compile(r"(?i)\bBearer\s+[^\s,;\"']+"), "Bearer [REDACTED]"),
    # Any JWT, wherever it appears (a path, an error message).
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), "[REDACTED-JWT]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Removes passwords and tokens from a record's message and arguments.

    uvicorn's access log prints the request line with its query string, so a token sent
    as `?access_token=` would otherwise land in the logs. The arguments stay a tuple of
    the same length: uvicorn's AccessFormatter unpacks them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a broken record: leave it to logging's own error report
        redacted = redact(message)
        if redacted != message:
            # The merged message, so a template like "Bearer %s" is not cut in half.
            record.msg, record.args = redacted, None
        return True


_REDACTING_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "spending_api")


def install_log_redaction() -> None:
    """Put the filter on the loggers that write requests and on every handler they use.

    A logger's filter only sees records logged to that very logger; a handler's filter
    sees everything that reaches it, including records propagated from child loggers.
    Idempotent: create_app may run several times in one process.
    """
    for name in _REDACTING_LOGGERS:
        logger_ = logging.getLogger(name)
        for target in (logger_, *logger_.handlers):
            if not any(isinstance(f, RedactSecrets) for f in target.filters):
                target.addFilter(RedactSecrets())


class SecurityHeaders:
    """Adds the security headers (and the CSP of the API or of the docs) to every answer.

    A pure ASGI middleware: `@app.middleware("http")` (BaseHTTPMiddleware) would run each
    request through a task group and memory streams, about 100 µs of CPU per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                headers["Content-Security-Policy"] = csp
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorDetail(BaseModel):
    detail: str


def _json_safe(value):
    """Validation errors echo the input: a NaN or an infinity (which Python's JSON reader
    accepts in a body) is shown as text, so the 422 itself can be written as JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _is_unavailable(exc: DBAPIError) -> bool:
    return exc.connection_invalidated or isinstance(exc, OperationalError)


def _unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": errors.DATABASE_UNAVAILABLE},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "1"},
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The pool belongs to this event loop: opened here, closed on the way out.
        pool = make_async_read_pool(app.state.database, settings)
        app.state.read_pool = pool
        app.state.reads = Reads(app.state.database, settings, pool)
        try:
            yield
        finally:
            app.state.read_pool = None
            app.state.reads = Reads(app.state.database, settings)
            await pool.close()
            app.state.database.dispose()

    app = FastAPI(
        title="spending-dashboard API",
        version=__version__,
        description=(
            "Personal spending: login, accounts, categories, transactions, metrics, "
            "import and export."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database or Database.from_settings(settings)
    # Until the lifespan opens the async pool, each read connects on its own.
    app.state.read_pool = None
    app.state.reads = Reads(app.state.database, settings)
    app.state.response_cache = (
        ResponseCache(settings.response_cache_mb * 2**20) if settings.response_cache_mb else None
    )

    # Innermost of the middlewares: its refusals still get the CORS and security headers.
    app.add_middleware(
        RequestLimits,
        max_header_bytes=settings.max_header_bytes,
        body_idle_seconds=settings.body_idle_timeout_seconds,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["X-Total-Count", "Content-Disposition"],
    )

    if settings.trusted_proxies:
        # The client address is settled before any route reads it. uvicorn runs
        # with --no-proxy-headers, so this setting alone decides whom to believe.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    # Outermost: every answer of the application carries them.
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        content = {"detail": _json_safe(jsonable_encoder(exc.errors()))}
        return JSONResponse(content, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        logger.warning("database pool exhausted on %s", request.url.path)
        return _unavailable()

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if not _is_unavailable(exc):
            raise exc
        logger.warning("database unavailable on %s: %s", request.url.path, exc.orig)
        return _unavailable()

    # The async read pool's errors come from psycopg itself (ReadPoolTimeout included).
    @app.exception_handler(PsycopgOperationalError)
    async def async_database_error(request: Request, exc: PsycopgOperationalError):
        logger.warning("database unavailable on %s: %s", request.url.path, exc)
        return _unavailable()

    headers_too_large = {
        431: {"model": ErrorDetail, "description": "Request headers over MAX_HEADER_BYTES"}
    }

    @app.get(
        "/health",
        tags=["health"],
        responses={503: {"description": "Database down"}, **headers_too_large},
    )
    def health(database: DatabaseDep) -> JSONResponse:
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (DBAPIError, PoolTimeout):
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    # Every route that reads the database can answer 503; every route behind a token, 401.
    unavailable = {503: {"model": ErrorDetail, "description": errors.DATABASE_UNAVAILABLE}}
    unauthorized = {401: {"model": ErrorDetail, "description": errors.INVALID_TOKEN}}
    common = {**unavailable, **headers_too_large}
    app.include_router(auth_router, responses=common)
    app.include_router(transactions_router, responses={**unauthorized, **common})
    app.include_router(metrics_router, responses={**unauthorized, **common})
    app.include_router(accounts_router, responses={**unauthorized, **common})
    app.include_router(categories_router, responses={**unauthorized, **common})
    app.include_router(imports_router, responses={**unauthorized, **common})
    app.include_router(transfers_router, responses={**unauthorized, **common})
    # Before the rules router: /rules/proposals is not a rule id.
    app.include_router(suggestions_router, responses={**unauthorized, **common})
    app.include_router(rules_router, responses={**unauthorized, **common})
    return app
