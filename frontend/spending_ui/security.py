"""The dashboard server's defences, loaded by `panel serve --plugins spending_ui.security`.

Panel's serve command imports each plugin module before the server starts; this one adds no
routes. It changes three Tornado/Bokeh classes of the one process it runs in:

- every response (every handler, `autoload.js` included) gets the security headers and a CSP;
  HTML pages get a fresh nonce on their own `<script>` tags, so injected markup cannot run;
- every request is checked before a handler (or any import) runs: the Host must be one the
  server was configured for, Bokeh's client-settable session arguments are refused, only
  allowlisted `/components/` resources exist, and new pages are refused while too many
  sessions wait for a login;
- a handler that raises SystemExit answers 500 instead of ending the process.

The upstream issue behind each of these is listed in docs/SECURITY.md.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import secrets
import time
import weakref

from bokeh.server.tornado import BokehTornado
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform, RequestHandler

logger = logging.getLogger("spending_ui.security")

# Panel's FastListTemplate calls these from inline onclick/onchange attributes (the sidebar,
# full-screen and theme buttons); 'unsafe-hashes' lets exactly these sources run and no other
# inline handler.
INLINE_HANDLERS = (
    "openNav()",
    "closeNav()",
    "toggleFullScreen(this)",
    "toggleLightDarkTheme('default')",
    "toggleLightDarkTheme('dark')",
)


def _source_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


_HANDLER_HASHES = " ".join(_source_hash(source) for source in INLINE_HANDLERS)
# Scripts: this server's files, the page's own inline scripts (by nonce), the template's
# handlers (by hash) and Panel's JS components, compiled into blob: modules. No
# 'unsafe-inline': injected <script> tags and on* attributes do not run. 'unsafe-eval' stays:
# Panel's ReactiveHTML models (FlexBox, the template's actions) render their templates with
# `new Function` (see docs/SECURITY.md). Styles stay 'unsafe-inline': Bokeh sets style
# attributes.
_POLICY = [
    "default-src 'self'",
    "script-src 'self' {nonce}'unsafe-hashes' " + _HANDLER_HASHES + " 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src {connect}",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
# A host[:port] as a CSP source may name it; anything else gets no websocket source.
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Headers Bokeh's autoload.js handler adds so any site may embed the app (with credentials).
# This dashboard is never embedded elsewhere.
CROSS_ORIGIN_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Credentials",
)
# Query arguments (and the header) through which Bokeh and Panel let the client choose the
# page's resource URLs (reflected into <script src>) or the session it joins.
CLIENT_SESSION_ARGUMENTS = frozenset(
    {"bokeh-absolute-url", "bokeh-app-path", "bokeh-session-id", "bokeh-token"}
)
CLIENT_SESSION_HEADER = "Bokeh-Session-Id"
# `/components/<module>/<class>/...` imports <module>; only these (module, class) pairs
# may be asked for. The app uses no component files (its JS component is inline), so none.
COMPONENT_ALLOWLIST: frozenset[tuple[str, str]] = frozenset()
COMPONENTS_PREFIX = "/components/"
# Page routes: each GET builds a new session (about 0.1 s of CPU).
PAGE_PATHS = frozenset({"/", "/app", "/app/"})
# Live sessions not logged in yet: in all, from one client address, and how long each may
# wait for a login before the server ends it (DASHBOARD_MAX_ANONYMOUS_SESSIONS,
# DASHBOARD_MAX_ANONYMOUS_SESSIONS_PER_ADDRESS, DASHBOARD_LOGIN_WAIT_SECONDS). Behind a
# reverse proxy every client has the proxy's address, and the per-address cap is the total.
DEFAULT_MAX_ANONYMOUS_SESSIONS = 200
DEFAULT_MAX_ANONYMOUS_PER_ADDRESS = 20
DEFAULT_LOGIN_WAIT_SECONDS = 600

DETAIL_BAD_HOST = "Unknown host: open the dashboard at the address it was configured for."
DETAIL_SESSION_ARGUMENT = (
    "Session arguments cannot be chosen by the client: remove bokeh-* from the address."
)
DETAIL_NOT_FOUND = "Not found."
DETAIL_TOO_MANY_SESSIONS = "Too many visitors are waiting to log in: try again in a minute."


def content_security_policy(host: str, nonce: str | None = None) -> str:
    """The policy for a page served as `host`: its websocket may go back to that host only
    (listed explicitly: older browsers do not let 'self' cover ws: and wss:)."""
    connect = "'self' blob:"
    if _HOST.match(host):
        connect = f"'self' ws://{host} wss://{host} blob:"
    return "; ".join(_POLICY).format(connect=connect, nonce=f"'nonce-{nonce}' " if nonce else "")


class AnonymousSessions:
    """The live dashboard sessions nobody has logged in to yet (kept by spending_ui.session):
    at most `limit` in all and `per_address` from one client address, each for at most
    `login_wait` seconds."""

    def __init__(self, limit: int, per_address: int, login_wait: float):
        self.limit, self.per_address, self.login_wait = limit, per_address, login_wait
        # owner -> (client address, when it started waiting); weak: a dropped session leaves
        self._members: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def add(self, owner: object, address: str = "") -> None:
        self._members.setdefault(owner, (address, time.monotonic()))

    def discard(self, owner: object) -> None:
        self._members.pop(owner, None)

    def __len__(self) -> int:
        return len(self._members)

    def full_for(self, address: str) -> bool:
        members = list(self._members.values())
        if len(members) >= self.limit:
            return True
        return sum(1 for member_address, _ in members if member_address == address) >= (
            self.per_address
        )

    def waited_too_long(self, owner: object, now: float | None = None) -> bool:
        entry = self._members.get(owner)
        now = time.monotonic() if now is None else now
        return entry is not None and now - entry[1] > self.login_wait


def _env_number(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


anonymous_sessions = AnonymousSessions(
    limit=_env_number("DASHBOARD_MAX_ANONYMOUS_SESSIONS", DEFAULT_MAX_ANONYMOUS_SESSIONS),
    per_address=_env_number(
        "DASHBOARD_MAX_ANONYMOUS_SESSIONS_PER_ADDRESS", DEFAULT_MAX_ANONYMOUS_PER_ADDRESS
    ),
    login_wait=_env_number("DASHBOARD_LOGIN_WAIT_SECONDS", DEFAULT_LOGIN_WAIT_SECONDS),
)


def host_allowed(host: str, allowed_hosts: set[str]) -> bool:
    """Whether a Host header names one of the `host:port` pairs the server was started for
    (Bokeh's websocket origins; a name without a port there means port 80)."""
    host = host.lower()
    if not host.rpartition("]")[2].count(":"):  # no port: the scheme's default
        return "*" in allowed_hosts or bool({f"{host}:80", f"{host}:443"} & allowed_hosts)
    return "*" in allowed_hosts or host in allowed_hosts


def refusal(request: HTTPServerRequest, allowed_hosts: set[str]) -> tuple[int, str] | None:
    """Why this request must not reach a handler (status, detail), or None when it may."""
    if not host_allowed(request.host, allowed_hosts):
        return 400, DETAIL_BAD_HOST
    names = {name.lower() for name in (request.query_arguments or {})}
    if names & CLIENT_SESSION_ARGUMENTS or CLIENT_SESSION_HEADER in request.headers:
        return 400, DETAIL_SESSION_ARGUMENT
    path = request.path
    if COMPONENTS_PREFIX in path:  # also under a --prefix
        parts = path.split(COMPONENTS_PREFIX, 1)[1].split("/")
        if len(parts) < 2 or (parts[0], parts[1]) not in COMPONENT_ALLOWLIST:
            return 404, DETAIL_NOT_FOUND
    if (
        request.method == "GET"
        and path in PAGE_PATHS
        and anonymous_sessions.full_for(request.remote_ip or "")
    ):
        return 503, DETAIL_TOO_MANY_SESSIONS
    return None


class RefusedHandler(RequestHandler):
    """Answers a refused request with its status and a plain-text reason; imports nothing."""

    def initialize(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail

    def prepare(self) -> None:
        self.set_status(self.status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        if self.status == 503:
            self.set_header("Retry-After", "60")
        self.finish(self.detail + "\n")


class NonceTransform(OutputTransform):
    """Gives an HTML page's own inline scripts a fresh nonce, and the CSP that allows it."""

    def __init__(self, request: HTTPServerRequest):
        super().__init__(request)
        self.host = request.host

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        if headers.get("Content-Type", "").startswith("text/html") and chunk:
            nonce = secrets.token_urlsafe(18)
            chunk = re.sub(rb"<script(?=[\s>])", f'<script nonce="{nonce}"'.encode(), chunk)
            headers["Content-Security-Policy"] = content_security_policy(self.host, nonce)
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk


ROUTES: list = []  # required of a Panel plugin module; no extra routes

_original_clear = RequestHandler.clear
_original_execute = RequestHandler._execute
_original_find_handler = BokehTornado.find_handler
_original_init = BokehTornado.__init__


def _clear(self: RequestHandler) -> None:
    # clear() runs set_default_headers(), which Bokeh's autoload.js handler overrides without
    # calling the base class: adding the headers after it reaches every handler.
    _original_clear(self)
    for name in CROSS_ORIGIN_HEADERS:
        self._headers.pop(name, None)
    for name, value in SECURITY_HEADERS.items():
        self.set_header(name, value)
    self.set_header("Content-Security-Policy", content_security_policy(self.request.host))


async def _execute(self: RequestHandler, *args, **kwargs):
    try:
        return await _original_execute(self, *args, **kwargs)
    except SystemExit:
        # Tornado catches Exception only: a SystemExit (a module's CLI run by an import, say)
        # would otherwise stop the event loop and the whole dashboard with it.
        logger.error("%s %s raised SystemExit; answered 500", self.request.method, self.request.uri)
        if self._finished:
            return None
        if not self._headers_written:
            self.clear()
            self.set_status(500)
            self.write("Internal server error.\n")
        self.finish()


def _find_handler(self: BokehTornado, request: HTTPServerRequest, **kwargs):
    refused = refusal(request, self._websocket_origins)
    if refused is not None:
        status, detail = refused
        logger.warning("refused %s %s: %s", request.method, request.path, detail)
        return self.get_handler_delegate(
            request, RefusedHandler, {"status": status, "detail": detail}
        )
    return _original_find_handler(self, request, **kwargs)


def _init(self: BokehTornado, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    self.transforms.insert(0, NonceTransform)  # before any compression of the body


if not getattr(RequestHandler.clear, "_spending_security", False):
    for patched in (_clear, _execute, _find_handler, _init):
        patched._spending_security = True  # type: ignore[attr-defined]
    RequestHandler.clear = _clear  # type: ignore[method-assign]
    RequestHandler._execute = _execute  # type: ignore[method-assign]
    BokehTornado.find_handler = _find_handler  # type: ignore[method-assign]
    BokehTornado.__init__ = _init  # type: ignore[method-assign]
