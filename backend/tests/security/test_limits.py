"""Bounded requests: body limits enforced while reading (413), header size (431), a stalled
body (408), the upload's token checked before its body is read, and a worker whose memory
stays flat while a 200 MB body is streamed at /login. PostgreSQL only (issue #12)."""

import json
import select
import socket
import time
from urllib.parse import urlsplit

import psutil
import pytest

# The documented limits, spelled out here rather than read from the code under test.
LOGIN_BODY_BYTES = 8 * 1024
JSON_BODY_BYTES = 64 * 1024
HEADER_BYTES = 8 * 1024
MB = 1024 * 1024
STREAMED_BYTES = 200 * MB
# What a worker may grow by while refusing the body (allocator noise, one chunk in flight).
FLAT_RSS_BYTES = 25 * MB
SOCKET_TIMEOUT = 15  # a bound for a hang, not a speed assertion
# The HTTP protocol of the start scripts (header deadline and size bound).
GUARDED = {"UVICORN_HTTP": "spending_api.server:GuardedHttpToolsProtocol"}


def _detail(response) -> str:
    return response.json()["detail"]


def test_json_bodies_over_their_limit_are_413(client, make_user, auth_headers):
    user = make_user("owner")
    padding = "x" * LOGIN_BODY_BYTES
    big_login = json.dumps({"username": "owner", "password": "p", "pad": padding}).encode()
    refused = client.post("/login", content=big_login, headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert _detail(refused) == f"Request body too large; send at most {LOGIN_BODY_BYTES} bytes"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"  # still a normal answer

    # Without Content-Length (chunked), counted while reading.
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    chunked = client.post("/login", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    # Other JSON routes allow 64 KiB; just under the login limit is an ordinary answer.
    change = {"current_password": "p" * 10, "new_password": "n" * 10, "pad": "x" * JSON_BODY_BYTES}
    big_change = client.post("/me/password", json=change, headers=auth_headers(user))
    assert big_change.status_code == 413
    assert _detail(big_change) == f"Request body too large; send at most {JSON_BODY_BYTES} bytes"
    small = {"username": "owner", "password": "wrong", "pad": "x" * (LOGIN_BODY_BYTES - 100)}
    assert client.post("/login", json=small).status_code == 401


def test_oversized_headers_are_431(client, make_user, auth_headers):
    headers = {**auth_headers(make_user("owner")), "X-Padding": "x" * HEADER_BYTES}
    for response in (client.get("/me", headers=headers), client.get("/health", headers=headers)):
        assert response.status_code == 431
        assert _detail(response) == (
            f"Request headers too large; send at most {HEADER_BYTES} bytes of headers"
        )
    headers["X-Padding"] = "x" * (HEADER_BYTES // 2)
    assert client.get("/me", headers=headers).status_code == 200


def test_new_statuses_are_documented(app):
    paths = app.openapi()["paths"]
    for operation in (paths["/login"]["post"], paths["/me/password"]["post"]):
        assert {"408", "413", "431"} <= set(operation["responses"])
    assert "408" in paths["/transactions/import"]["post"]["responses"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert "431" in operation["responses"], (method, path)


# -- against a real uvicorn process -----------------------------------------------------


# Two servers for the module's process tests (each start takes seconds): the start scripts'
# protocol with a 1 s header deadline, and uvicorn's own with a 1 s body pause limit.
@pytest.fixture(scope="module")
def guarded_server(module_api_server, database_url):
    return module_api_server(
        database_url=database_url, extra_env={**GUARDED, "HEADER_TIMEOUT_SECONDS": "1"}
    )


@pytest.fixture(scope="module")
def plain_server(module_api_server, database_url):
    return module_api_server(
        database_url=database_url, extra_env={"BODY_IDLE_TIMEOUT_SECONDS": "1"}
    )


def _connect(server) -> socket.socket:
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=SOCKET_TIMEOUT)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return status, headers, body


def _request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _rss(server) -> int:
    return psutil.Process(server.process.pid).memory_info().rss


def test_worker_memory_stays_flat_while_200_mb_stream_at_login(guarded_server):
    """The attack of the issue (the worker grew by 580 MB): a JSON password of 200 MB, sent
    chunked, so no Content-Length gives it away. The worker answers 413 early and its RSS,
    sampled after every MiB sent, stays flat. Served as the start scripts serve it."""
    server = guarded_server
    with _connect(server) as warm_up:  # lazy imports and first-request allocations
        warm_up.sendall(
            _request_head("/login", {"Content-Type": "application/json", "Content-Length": "2"})
            + b"{}"
        )
        assert _read_response(warm_up)[0] == 422
    baseline = peak = _rss(server)

    sock = _connect(server)
    sock.sendall(
        _request_head(
            "/login", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
    )
    chunk = b"a" * MB
    first = b'{"username": "owner", "password": "'
    pending = f"{len(first):x}\r\n".encode() + first + b"\r\n"
    sent = 0
    answer = None
    while answer is None and sent < STREAMED_BYTES:
        readable, writable, _ = select.select([sock], [sock], [], SOCKET_TIMEOUT)
        if readable:
            answer = _read_response(sock)
            break
        if not writable:
            pytest.fail("the server neither read the body nor answered")
        if not pending:
            pending = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            sent += len(chunk)
            peak = max(peak, _rss(server))
        try:
            pending = pending[sock.send(pending) :]
        except (BrokenPipeError, ConnectionResetError):
            # The server answered and closed while this chunk was on its way: its answer
            # is already in the receive buffer.
            answer = _read_response(sock)
            break
    if answer is None:  # the whole body went in: end it, and wait for the verdict
        sock.settimeout(SOCKET_TIMEOUT * 4)
        sock.sendall(b'2\r\n"}\r\n0\r\n\r\n')
        answer = _read_response(sock)
    sock.close()
    peak = max(peak, _rss(server))

    status, _, body = answer
    assert peak - baseline < FLAT_RSS_BYTES, f"RSS grew by {(peak - baseline) / MB:.0f} MiB"
    assert status == 413, body
    assert json.loads(body) == {
        "detail": f"Request body too large; send at most {LOGIN_BODY_BYTES} bytes"
    }
    assert sent < 64 * MB, f"{sent / MB:.0f} MiB were accepted before the answer"


def test_declared_oversized_body_is_refused_before_it_is_sent(plain_server):
    server = plain_server
    with _connect(server) as sock:
        sock.sendall(
            _request_head(
                "/login",
                {"Content-Type": "application/json", "Content-Length": str(STREAMED_BYTES)},
            )
        )
        status, headers, body = _read_response(sock)
    assert status == 413 and json.loads(body)["detail"].startswith("Request body too large")


def test_upload_without_a_valid_token_is_401_before_its_body_is_read(guarded_server):
    """The body is announced as 50 MB and never sent: the answer can only come before it."""
    server = guarded_server
    for auth in ({}, {"Authorization": "Bearer not-a-token"}):
        with _connect(server) as sock:
            head = {
                "Content-Type": "multipart/form-data; boundary=cut",
                "Content-Length": str(50 * MB),
                **auth,
            }
            sock.sendall(_request_head("/transactions/import", head) + b"--cut\r\n")
            status, headers, body = _read_response(sock)
        assert status == 401, body
        assert headers["www-authenticate"] == "Bearer"


def test_a_stalled_body_gets_408(plain_server):
    server = plain_server
    with _connect(server) as sock:
        head = {"Content-Type": "application/json", "Content-Length": "100"}
        sock.sendall(_request_head("/login", head) + b'{"username": ')
        started = time.monotonic()
        status, headers, body = _read_response(sock)
    assert status == 408, body
    assert json.loads(body) == {
        "detail": "Request body not received in time; send it without pauses of 1 s or more"
    }
    assert time.monotonic() - started < SOCKET_TIMEOUT


def test_slow_request_headers_get_408(guarded_server):
    """Slowloris: a request head that never ends holds no connection beyond the deadline."""
    server = guarded_server
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        status, headers, body = _read_response(sock)
        assert sock.recv(1) == b""  # and the connection is closed
    assert status == 408, body
    assert json.loads(body) == {
        "detail": "Request headers not received in time; send them within 1 s"
    }
    # Ordinary requests on the same server are unaffected.
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_response(sock)[0] == 200


def test_endless_request_headers_get_431_without_growing_the_worker(guarded_server):
    server = guarded_server
    baseline = _rss(server)
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = None
        for n in range(100_000):  # up to 100 MB of headers, if nobody stops them
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answer = _read_response(sock)
                break
            try:
                sock.sendall(b"X-Filler-%d: %s\r\n" % (n, b"y" * 1000))
            except (BrokenPipeError, ConnectionResetError):
                break
        if answer is None:
            answer = _read_response(sock)
    status, _, body = answer
    assert status == 431, body
    assert json.loads(body)["detail"].startswith("Request headers too large")
    assert _rss(server) - baseline < FLAT_RSS_BYTES
