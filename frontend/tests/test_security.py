"""The security plugin's pieces, in process: the request guard, the nonce, SystemExit."""

from __future__ import annotations

import asyncio

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from spending_ui import security

ALLOWED = {"127.0.0.1:8501", "localhost:8501", "dashboard.example.org:80"}


def request(path: str, host: str = "127.0.0.1:8501", method="GET", headers=None):
    return HTTPServerRequest(
        start_line=RequestStartLine(method, path, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": host, **(headers or {})}),
    )


@pytest.mark.parametrize(
    "path, host, headers, expected",
    [
        ("/app", "127.0.0.1:8501", {}, None),
        ("/app?preset=all&category=Food", "localhost:8501", {}, None),
        ("/app", "dashboard.example.org", {}, None),
        ("/app", "evil.example.org", {}, 400),
        ("/app", "127.0.0.1:8502", {}, 400),
        ("/app?bokeh-absolute-url=x", "127.0.0.1:8501", {}, 400),
        ("/app?BOKEH-TOKEN=x", "127.0.0.1:8501", {}, 400),
        ("/app/autoload.js?bokeh-app-path=/x", "127.0.0.1:8501", {}, 400),
        ("/app", "127.0.0.1:8501", {"Bokeh-Session-Id": "x"}, 400),
        ("/components/certifi.__main__/x/y/z", "127.0.0.1:8501", {}, 404),
        ("/components/x", "127.0.0.1:8501", {}, 404),
        ("/prefix/components/certifi.__main__/x/y/z", "127.0.0.1:8501", {}, 404),
        ("/static/js/bokeh.min.js", "127.0.0.1:8501", {}, None),
    ],
)
def test_refusal(path, host, headers, expected):
    refused = security.refusal(request(path, host, headers=headers), ALLOWED)
    assert (refused[0] if refused else None) == expected


def _owner():
    return type("Owner", (), {})()


def test_pages_are_refused_only_while_the_anonymous_sessions_are_full(monkeypatch):
    sessions = security.AnonymousSessions(limit=3, per_address=2, login_wait=600)
    monkeypatch.setattr(security, "anonymous_sessions", sessions)
    owners = [_owner() for _ in range(3)]
    sessions.add(owners[0], "10.0.0.1")
    assert security.refusal(request("/app"), ALLOWED) is None
    sessions.add(owners[1], "10.0.0.1")
    assert sessions.full_for("10.0.0.1") and not sessions.full_for("10.0.0.2")
    sessions.add(owners[2], "10.0.0.2")
    assert security.refusal(request("/app"), ALLOWED) == (503, security.DETAIL_TOO_MANY_SESSIONS)
    assert security.refusal(request("/static/x.js"), ALLOWED) is None
    assert security.refusal(request("/app", method="POST"), ALLOWED) is None
    sessions.discard(owners[0])  # logged in
    assert security.refusal(request("/app"), ALLOWED) is None
    del owners  # a dropped session that was never discarded does not count forever
    assert len(sessions) == 0


def test_a_session_may_wait_for_a_login_only_so_long():
    sessions = security.AnonymousSessions(limit=10, per_address=10, login_wait=600)
    owner = _owner()
    sessions.add(owner, "10.0.0.1")
    assert not sessions.waited_too_long(owner)
    assert sessions.waited_too_long(owner, now=security.time.monotonic() + 601)
    sessions.add(owner, "10.0.0.1")  # adding again does not restart the clock
    assert sessions.waited_too_long(owner, now=security.time.monotonic() + 601)
    sessions.discard(owner)
    assert not sessions.waited_too_long(owner, now=security.time.monotonic() + 601)


def test_the_nonce_goes_on_every_script_tag_and_into_the_policy():
    transform = security.NonceTransform(request("/app"))
    headers = HTTPHeaders({"Content-Type": "text/html", "Content-Length": "10"})
    page = b"<script>a()</script><script src='x.js'></script><scripty>"
    _, headers, body = transform.transform_first_chunk(200, headers, page, True)
    nonce = headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert body.count(f'<script nonce="{nonce}"'.encode()) == 2
    assert b"<scripty>" in body
    assert headers["Content-Length"] == str(len(body))
    other = security.NonceTransform(request("/app"))
    _, again, _ = other.transform_first_chunk(
        200, HTTPHeaders({"Content-Type": "text/html"}), page, True
    )
    assert f"'nonce-{nonce}'" not in again["Content-Security-Policy"]


def test_non_html_is_left_alone():
    transform = security.NonceTransform(request("/x.js"))
    headers = HTTPHeaders({"Content-Type": "application/javascript"})
    _, headers, body = transform.transform_first_chunk(200, headers, b"<script>", True)
    assert body == b"<script>" and "Content-Security-Policy" not in headers


class _Exits(RequestHandler):
    def get(self):
        raise SystemExit(2)  # what certifi's CLI does on an import with bad arguments


class _Fine(RequestHandler):
    def get(self):
        self.write("ok")


def test_a_handler_that_raises_system_exit_answers_500_and_the_server_keeps_serving():
    async def scenario():
        sock, port = bind_unused_port()
        server = HTTPServer(Application([("/exit", _Exits), ("/fine", _Fine)]))
        server.add_sockets([sock])
        client = AsyncHTTPClient()
        try:
            exited = await client.fetch(f"http://127.0.0.1:{port}/exit", raise_error=False)
            fine = await client.fetch(f"http://127.0.0.1:{port}/fine", raise_error=False)
        finally:
            server.stop()
        return exited.code, fine.code, fine.body

    assert asyncio.run(scenario()) == (500, 200, b"ok")
