"""Bounded requests: header size, body size and a body that stalls, checked while reading.

A pure ASGI middleware, so nothing is buffered before the check: a body over its limit is
refused from its Content-Length, or at the chunk that crosses the limit, never after being
read whole. The CSV upload has its own, larger limit (transactions.router.UploadLimitRoute).
"""

import asyncio

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Both passwords of the longest allowed credentials fit, JSON-escaped, with room to spare.
LOGIN_BODY_BYTES = 8 * 1024
JSON_BODY_BYTES = 64 * 1024
SMALL_BODY_PATHS = ("/login",)
# Checked by its route against MAX_UPLOAD_BYTES, after the token (UploadLimitRoute).
UPLOAD_PATHS = ("/transactions/import",)


def body_too_large(limit: int) -> str:
    return f"Request body too large; send at most {limit} bytes"


def headers_too_large(limit: int) -> str:
    return f"Request headers too large; send at most {limit} bytes of headers"


def body_too_slow(seconds: float) -> str:
    return f"Request body not received in time; send it without pauses of {seconds:g} s or more"


def body_limit(path: str) -> int | None:
    if path in UPLOAD_PATHS:
        return None
    return LOGIN_BODY_BYTES if path in SMALL_BODY_PATHS else JSON_BODY_BYTES


class RequestLimits:
    """413 for a body over its limit, 431 for oversized headers, 408 when a body stalls."""

    def __init__(self, app: ASGIApp, *, max_header_bytes: int, body_idle_seconds: float):
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.body_idle_seconds = body_idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # As on the wire: "name: value\r\n" for each header.
        header_bytes = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if header_bytes > self.max_header_bytes:
            await self._refuse(
                scope,
                receive,
                send,
                status.HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE,
                headers_too_large(self.max_header_bytes),
            )
            return
        limit = body_limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(
                scope, receive, send, status.HTTP_413_CONTENT_TOO_LARGE, body_too_large(limit)
            )
            return
        await self.app(scope, self._bounded(receive, limit), send)

    def _bounded(self, receive: Receive, limit: int | None) -> Receive:
        received = 0
        body_done = False
        idle = self.body_idle_seconds

        async def bounded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                # Past the body, receive() only waits for the disconnect: no deadline.
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=idle)
            except TimeoutError:
                raise HTTPException(
                    status.HTTP_408_REQUEST_TIMEOUT,
                    detail=body_too_slow(idle),
                    headers={"Connection": "close"},
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            received += len(message.get("body", b""))
            if limit is not None and received > limit:
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    detail=body_too_large(limit),
                    headers={"Connection": "close"},
                )
            return message

        return bounded_receive

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, code: int, detail: str):
        response = JSONResponse(
            {"detail": detail}, status_code=code, headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def body_responses(limit: int | None) -> dict[int, dict[str, str]]:
    """The OpenAPI `responses` of a route that reads a request body."""
    documented = {408: {"description": "The request body stalled (BODY_IDLE_TIMEOUT_SECONDS)"}}
    if limit is not None:
        documented[413] = {"description": f"Request body over {limit} bytes"}
    return documented
