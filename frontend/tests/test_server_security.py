"""The dashboard server refuses what an outsider can send it (issue #11, items 1, 2, 4, 5).

Each test talks HTTP (or the websocket) to a real `python -m spending_ui.serve` on a free
port; no API and no browser are needed (a dead BACKEND_URL is enough to serve the login).
The browser-side checks are in test_e2e_security.py.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from bokeh.util.token import generate_jwt_token, get_session_id, get_token_payload

from spending_api.processes import wait_until

PAYLOAD = '"><img src=x onerror=alert(1)>'


def page_token(html: str) -> str:
    match = re.search(r'"token":"([^"]+)"', html)
    assert match, "the page embeds no session token"
    return match.group(1)


async def websocket_messages(url: str, token: str, origin: str) -> list:
    """Opens Bokeh's websocket with `token`; the first frames it receives (None: closed)."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(url, headers={"Origin": origin})
    try:
        connection = await websocket_connect(request, subprotocols=["bokeh", token])
    except Exception as exc:  # a refused handshake
        return [f"refused: {exc}"]
    frames = []
    for _ in range(3):
        frame = await asyncio.wait_for(connection.read_message(), timeout=10)
        frames.append(frame)
        if frame is None:
            break
    connection.close()
    return frames


# -- item 1: client-chosen resource URLs and session arguments ------------------------------


@pytest.mark.parametrize(
    "argument", ["bokeh-absolute-url", "bokeh-app-path", "bokeh-session-id", "bokeh-token"]
)
@pytest.mark.parametrize("path", ["/app", "/", "/app/autoload.js"])
def test_session_arguments_are_refused_and_never_reflected(dashboard, path, argument):
    response = httpx.get(
        f"{dashboard.url}{path}",
        params={argument: PAYLOAD, "bokeh-autoload-element": "x"},
        follow_redirects=True,
    )
    assert response.status_code == 400
    assert "bokeh-*" in response.text
    assert "<img" not in response.text


def test_a_session_id_header_is_refused(dashboard):
    response = httpx.get(f"{dashboard.url}/app", headers={"Bokeh-Session-Id": "chosen-id"})
    assert response.status_code == 400


def test_the_page_scripts_run_by_nonce_not_unsafe_inline(dashboard):
    response = httpx.get(f"{dashboard.url}/app")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in script_src
    nonce = re.search(r"'nonce-([A-Za-z0-9_\-]+)'", script_src).group(1)
    tags = re.findall(r"<script\b[^>]*>", response.text)
    assert tags and all(f'nonce="{nonce}"' in tag for tag in tags)
    assert "base-uri 'none'" in csp
    assert "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # A fresh nonce on every page.
    again = httpx.get(f"{dashboard.url}/app").headers["content-security-policy"]
    assert f"'nonce-{nonce}'" not in again


# -- item 2: /components/ imports nothing a URL names ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/components/certifi.__main__/x/y/z",
        "/components/this_module_does_not_exist/x/y/z",
        "/components/panel.template.fast.list/FastListTemplate/_css/x.css",
    ],
)
def test_components_are_not_found_and_the_server_keeps_serving(dashboard, path):
    response = httpx.get(f"{dashboard.url}{path}")
    assert response.status_code == 404
    assert dashboard.process.running(), "the dashboard process ended"
    assert httpx.get(f"{dashboard.url}/app").status_code == 200


# -- item 4: signed session ids; a chosen id cannot join a session ---------------------------


def test_session_ids_are_signed(dashboard):
    session_id = get_session_id(page_token(httpx.get(f"{dashboard.url}/app").text))
    assert "." in session_id  # <random>.<signature> with Bokeh's signed ids


@pytest.mark.parametrize("victim", [False, True], ids=["chosen-id", "victims-id"])
def test_a_forged_session_token_cannot_open_a_session(dashboard, victim):
    """A client that picks the id (any id, or the victim's) gets no session on the websocket."""
    session_id = "attacker-chosen-session-id-0123456789abcdef"
    if victim:
        session_id = get_session_id(page_token(httpx.get(f"{dashboard.url}/app").text))
    forged = generate_jwt_token(session_id, signed=False, secret_key=None, expiration=300)
    frames = asyncio.run(
        websocket_messages(f"ws://127.0.0.1:{dashboard.port}/app/ws", forged, dashboard.url)
    )
    assert frames == [None] or str(frames[0]).startswith("refused"), frames


def test_the_real_page_token_opens_its_session(dashboard):
    """The check above is not a broken websocket: the page's own token is accepted."""
    token = page_token(httpx.get(f"{dashboard.url}/app").text)
    frames = asyncio.run(
        websocket_messages(f"ws://127.0.0.1:{dashboard.port}/app/ws", token, dashboard.url)
    )
    assert frames and frames[0] is not None and not str(frames[0]).startswith("refused")


def test_the_websocket_refuses_another_origin(dashboard):
    token = page_token(httpx.get(f"{dashboard.url}/app").text)
    frames = asyncio.run(
        websocket_messages(
            f"ws://127.0.0.1:{dashboard.port}/app/ws", token, "http://evil.example.org"
        )
    )
    assert str(frames[0]).startswith("refused")


# -- item 5: headers on every route, no wildcard CORS, Host checked, sessions bounded --------


@pytest.mark.parametrize(
    "path",
    [
        "/app",
        "/app/autoload.js?bokeh-autoload-element=x",
        "/liveness",
        "/static/js/bokeh.min.js",
        "/assets/theme.css",
        "/no-such-page",
    ],
)
def test_every_route_sends_the_security_headers_and_no_wildcard_cors(dashboard, path):
    response = httpx.get(
        f"{dashboard.url}{path}",
        headers={"Origin": "http://evil.example.org", "Cookie": "a=b"},
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("host", ["evil.example.org", "127.0.0.1:1", "localhost"])
def test_an_unknown_host_is_refused(dashboard, host):
    response = httpx.get(f"{dashboard.url}/app", headers={"Host": host})
    assert response.status_code == 400
    assert response.text.startswith("Unknown host")


@pytest.mark.slow  # a server of its own
def test_a_configured_host_is_served(start_dashboard):
    server = start_dashboard(env={"BOKEH_ALLOW_WS_ORIGIN": "dashboard.example.org"})
    response = httpx.get(f"{server.url}/app", headers={"Host": "dashboard.example.org"})
    assert response.status_code == 200
    assert "ws://dashboard.example.org " in response.headers["content-security-policy"]


@pytest.mark.slow  # a server of its own
def test_sessions_waiting_for_a_login_are_capped_and_expire(start_dashboard):
    server = start_dashboard(
        # Long enough for the five requests below on a busy machine, short for the test.
        "--unused-session-lifetime",
        "5000",
        "--check-unused-sessions",
        "500",
        env={"DASHBOARD_MAX_ANONYMOUS_SESSIONS": "3"},
    )
    statuses = [httpx.get(f"{server.url}/app").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 503, 503]
    refused = httpx.get(f"{server.url}/app")
    assert refused.headers["retry-after"] == "60"
    assert refused.text.startswith("Too many visitors")
    # Liveness and static files are not pages: still served while pages are refused.
    assert httpx.get(f"{server.url}/liveness").status_code == 200
    # The server drops sessions nobody connected to, and then serves pages again.
    wait_until(
        lambda: httpx.get(f"{server.url}/app").status_code == 200,
        timeout=30,
        what="unused sessions expiring",
    )


@pytest.mark.slow  # a server of its own
def test_a_session_that_never_logs_in_is_ended(start_dashboard):
    server = start_dashboard(env={"DASHBOARD_LOGIN_WAIT_SECONDS": "2"})
    token = page_token(httpx.get(f"{server.url}/app").text)

    async def closed_by_server() -> bool:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}/app/ws", headers={"Origin": server.url}
        )
        connection = await websocket_connect(request, subprotocols=["bokeh", token])
        # The session waits 2 s, checked every 1 s (twice per wait): closed within about 3 s.
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if await asyncio.wait_for(connection.read_message(), timeout=45) is None:
                return True
        return False

    assert asyncio.run(closed_by_server())


def stylesheet_link(html: str) -> str:
    """The address of theme.css the page links, as written in it."""
    match = re.search(r'href="([^"]*assets/theme\.css[^"]*)"', html)
    assert match, "the page links no theme.css"
    return match.group(1)


def test_the_stylesheet_is_served_once_by_url_with_the_security_headers(dashboard):
    html = httpx.get(f"{dashboard.url}/app").text
    link = stylesheet_link(html)
    assert not link.startswith("/"), "relative to the page, so it works under any prefix"
    assert ".kpi-delta" not in html, "the stylesheet's text is copied into the page"
    response = httpx.get(f"{dashboard.url}/{link}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".kpi-delta.up" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    # The ?v= is the content's hash: the browser may keep it for a year.
    assert "max-age=31536000" in response.headers["cache-control"]


@pytest.mark.slow  # a server of its own
def test_the_stylesheet_is_served_under_the_apps_prefix(start_dashboard):
    server = start_dashboard(prefix="/spending")
    page = httpx.get(f"{server.url}/spending/app")
    assert page.status_code == 200
    link = stylesheet_link(page.text)
    # The link is relative to the page, /spending/app: it resolves under the prefix.
    response = httpx.get(f"{server.url}/spending/{link}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-frame-options"] == "DENY"
    assert httpx.get(f"{server.url}/{link}").status_code == 404


def test_a_page_must_connect_within_a_minute(dashboard):
    payload = get_token_payload(page_token(httpx.get(f"{dashboard.url}/app").text))
    assert payload["session_expiry"] - time.time() <= 61


def test_the_page_links_no_mathjax_bundle(dashboard):
    """BokehJS's MathJax bundle (1.8 MB to compile and run at every load) is left out: no
    view typesets TeX (spending_ui.serve.without_mathjax)."""
    html = httpx.get(f"{dashboard.url}/app").text
    assert "static/js/bokeh.min.js" in html
    assert "bokeh-mathjax" not in html
