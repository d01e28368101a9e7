"""uvicorn's HTTP protocol with the two limits it lacks: a deadline for the request head and
a bound on its size (slow or endless headers hold no connection and no memory).

uvicorn has no header timeout, and its default httptools parser keeps every header line it
is sent. Selected with `uvicorn --http spending_api.server:GuardedHttpToolsProtocol`
(spending_api.processes.api_command and backend/scripts/start.sh do); the limits come from
the settings (HEADER_TIMEOUT_SECONDS, MAX_HEADER_BYTES).
The application's own RequestLimits still answers 431 with the exact byte count.
"""

import asyncio
import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from spending_api.limits import headers_too_large
from spending_api.settings import get_settings

logger = logging.getLogger(__name__)

# The request line and the header names and separators, beyond MAX_HEADER_BYTES of headers.
HEAD_OVERHEAD_BYTES = 8 * 1024
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def head_too_slow(seconds: float) -> str:
    return f"Request headers not received in time; send them within {seconds:g} s"


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._head_timeout = settings.header_timeout_seconds
        self._max_header_bytes = settings.max_header_bytes
        self._head_limit = settings.max_header_bytes + HEAD_OVERHEAD_BYTES
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def _start_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head and self._head_timer is None:
            self._start_head_timer()  # the first bytes of the next request on this connection
        super().data_received(data)
        if self._awaiting_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self._head_limit:
                self._refuse(431, headers_too_large(self._max_header_bytes))

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._awaiting_head = True
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self.transport.is_closing():
            if self._head_bytes or self.headers:
                self._refuse(408, head_too_slow(self._head_timeout))
            else:
                self.transport.close()  # nothing was asked: nothing to answer

    def _refuse(self, status: int, detail: str) -> None:
        logger.warning("%s from %s: %s", status, self.client, detail)
        body = json.dumps({"detail": detail}).encode()
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status]),
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
