"""The dashboard server (Panel on Tornado) sends the same security headers as the API.

That the dashboard still works under its CSP is proven in Chromium by
frontend/tests/test_e2e.py::test_login_shows_the_kpis_of_metrics_with_security_headers.
"""

from unittest import mock

import pytest

security = pytest.importorskip("spending_ui.security")


def test_every_tornado_handler_sends_the_headers():
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
    from tornado.web import Application, RequestHandler

    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "127.0.0.1:8501"}),
        connection=mock.Mock(),
    )
    handler = RequestHandler(Application(), request)
    headers = dict(handler._headers.get_all())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "default-src 'self'" in csp
    # The page's websocket may reach its own server only.
    assert "connect-src 'self' ws://127.0.0.1:8501 wss://127.0.0.1:8501 blob:" in csp
    assert " ws: " not in csp and " wss: " not in csp


@pytest.mark.parametrize(
    "host, connect",
    [
        ("dashboard.example.org", "'self' ws://dashboard.example.org wss://dashboard.example.org"),
        ("[::1]:8501", "'self' ws://[::1]:8501 wss://[::1]:8501"),
        ("evil.org; script-src *", "'self' blob:"),
        ("a b", "'self' blob:"),
    ],
)
def test_the_websocket_source_is_the_requested_host_or_nothing(host, connect):
    csp = security.content_security_policy(host)
    assert f"connect-src {connect}" in csp
    assert csp.count(";") == 10  # no directive smuggled in through the Host header
