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
