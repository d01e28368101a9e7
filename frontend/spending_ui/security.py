"""Security headers on every response of `panel serve --plugins spending_ui.security`.

Panel's serve command imports each plugin module before the server starts; this one adds
no routes and makes every Tornado handler send the headers below.
"""

from __future__ import annotations

import re

from tornado.web import RequestHandler

# Bokeh and Panel evaluate generated code and inline styles, and Panel's JS components
# are imported from blob: URLs; everything else comes from this server.
_POLICY = [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src {connect}",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
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


def content_security_policy(host: str) -> str:
    """The policy for a page served as `host`: its websocket may go back to that host only
    (listed explicitly: older browsers do not let 'self' cover ws: and wss:)."""
    connect = "'self' blob:"
    if _HOST.match(host):
        connect = f"'self' ws://{host} wss://{host} blob:"
    return "; ".join(_POLICY).format(connect=connect)


ROUTES: list = []  # required of a Panel plugin module; no extra routes

_original_set_default_headers = RequestHandler.set_default_headers


def _set_default_headers(self: RequestHandler) -> None:
    _original_set_default_headers(self)
    for name, value in SECURITY_HEADERS.items():
        self.set_header(name, value)
    self.set_header("Content-Security-Policy", content_security_policy(self.request.host))


if not getattr(RequestHandler.set_default_headers, "_spending_security", False):
    _set_default_headers._spending_security = True  # type: ignore[attr-defined]
    RequestHandler.set_default_headers = _set_default_headers  # type: ignore[method-assign]
