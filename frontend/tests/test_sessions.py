"""The dashboard's side of sessions that end: logout on the server, the token renewed while
in use, the change-password form, and the browser's address forwarded at login."""

from __future__ import annotations

import asyncio
import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx

from spending_ui.api import ApiClient
from spending_ui.state import AuthState
from spending_ui.views.password import PasswordView


def run(coro):
    """Run a coroutine on its own thread: a browser test may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def token(issued: datetime, lifetime: timedelta, name: str = "t") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {
        "sub": "1",
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    return f"{part({'alg': 'HS256'})}.{part(claims)}.{name}"


class FakeApi:
    """Answers like the API; records each request as (method, path, bearer token)."""

    def __init__(self, current: str, renewed: str):
        self.current, self.renewed = current, renewed
        self.requests: list[tuple[str, str, str | None]] = []
        self.password = "old password"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        self.requests.append((request.method, request.url.path, bearer))
        if request.url.path == "/login":
            self.forwarded_for = request.headers.get("X-Forwarded-For")
            return httpx.Response(200, json={"access_token": self.current, "expires_in": 900})
        if bearer != self.current:
            return httpx.Response(401, json={"detail": "Could not validate credentials"})
        if request.url.path == "/refresh":
            self.current = self.renewed
            return httpx.Response(200, json={"access_token": self.renewed, "expires_in": 900})
        if request.url.path == "/logout":
            self.current = None
            return httpx.Response(204)
        if request.url.path == "/me/password":
            body = json.loads(request.content)
            if body["current_password"] != self.password:
                return httpx.Response(403, json={"detail": "The current password is incorrect"})
            self.password, self.current = body["new_password"], self.renewed
            return httpx.Response(200, json={"access_token": self.renewed, "expires_in": 900})
        return httpx.Response(200, json={"id": 1, "username": "ana"})


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def logged_in(api: FakeApi, clock: Clock | None = None) -> AuthState:
    client = ApiClient("http://api.test", transport=httpx.MockTransport(api), clock=clock)
    auth = AuthState(client)
    auth.client_address = "198.51.100.7"
    assert run(auth.login("ana", "old password"))
    return auth


LIFETIME = timedelta(minutes=15)


def test_a_token_past_half_its_life_is_renewed_before_the_next_request():
    clock = Clock()
    now = clock.now + timedelta(minutes=10)
    old, new = token(clock.now, LIFETIME, "old"), token(now, LIFETIME, "new")
    api = FakeApi(current=old, renewed=new)
    auth = logged_in(api, clock)
    assert api.forwarded_for == "198.51.100.7"  # counted per browser by the login limits
    api.requests.clear()
    run(auth.api.me())  # 5 of 15 minutes used: as it is
    assert api.requests == [("GET", "/me", old)]
    api.requests.clear()
    clock.now = now  # 10 of 15 minutes used: renewed first
    run(auth.api.me())
    assert api.requests == [("POST", "/refresh", old), ("GET", "/me", new)]
    # The session keeps the renewed token (mirrored to the tab) and its new expiry.
    assert auth.token == new and auth.api.token == new
    assert auth.expires_at == datetime.fromtimestamp(
        int((now + LIFETIME).timestamp()), timezone.utc
    )


def test_an_idle_session_is_not_renewed():
    clock = Clock()
    current = token(clock.now, LIFETIME)
    api = FakeApi(current=current, renewed="unused")
    auth = logged_in(api, clock)
    clock.now += LIFETIME + timedelta(seconds=1)  # nothing asked for 15 minutes
    api.requests.clear()
    assert auth.expire_if_due(clock.now)
    assert api.requests == [] and auth.status == "logged_out"


def test_log_out_ends_the_session_on_the_server():
    now = datetime.now(timezone.utc)
    current = token(now, LIFETIME)
    api = FakeApi(current=current, renewed="unused")
    auth = logged_in(api)
    run(auth.sign_out())
    assert ("POST", "/logout", current) in api.requests
    assert api.current is None  # the server has no valid token of this session any more
    assert (auth.status, auth.token, auth.api.token) == ("logged_out", "", None)


def test_change_password_form():
    now = datetime.now(timezone.utc)
    current, renewed = token(now, LIFETIME, "a"), token(now, LIFETIME, "b")
    api = FakeApi(current=current, renewed=renewed)
    auth = logged_in(api)
    view = PasswordView(auth=auth)

    def submit(current_password: str, new: str, repeat: str) -> str:
        view._current.value, view._new.value, view._repeat.value = current_password, new, repeat
        run(view._change())
        return view._message.object

    assert "do not match" in submit("old password", "new password 1", "new password 2")
    assert "at least 8 characters" in submit("old password", "short", "short")
    assert "not correct" in submit("<b>wrong</b>", "new password 1", "new password 1")
    assert [r for r in api.requests if r[1] == "/me/password"] == [
        ("POST", "/me/password", current)
    ]
    assert "Password changed" in submit("old password", "new password 1", "new password 1")
    assert api.password == "new password 1"
    assert auth.token == renewed and auth.status == "logged_in"
    assert view._current.value == "" and view._new.value == ""
