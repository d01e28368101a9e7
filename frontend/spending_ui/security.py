"""Security headers on every response of `panel serve --plugins spending_ui.security`.

Panel's serve command imports each plugin module before the server starts; this one adds
no routes and makes every Tornado handler send the headers below.
"""

from __future__ import annotations

from tornado.web import RequestHandler

# Bokeh and Panel evaluate generated code and inline styles, and Panel's JS components
# are imported from blob: URLs; everything else comes from this server.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss: blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

ROUTES: list = []  # required of a Panel plugin module; no extra routes

_original_set_default_headers = RequestHandler.set_default_headers


def _set_default_headers(self: RequestHandler) -> None:
    _original_set_default_headers(self)
    for name, value in SECURITY_HEADERS.items():
        self.set_header(name, value)


if not getattr(RequestHandler.set_default_headers, "_spending_security", False):
    _set_default_headers._spending_security = True  # type: ignore[attr-defined]
    RequestHandler.set_default_headers = _set_default_headers  # type: ignore[method-assign]
