"""Plain ASGI middleware: security headers on every answer, and a limit on request bodies.

The scheduling of requests (saves first, read slots) is :mod:`pustula.web.throughput`.

Starlette's ``@app.middleware("http")`` wraps each request in a task group and memory
streams, which cost more than many of our routes; these wrap the ASGI call directly.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SECURITY_HEADERS", "BodyLimit", "SecurityHeaders"]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)


class SecurityHeaders:
    """Adds the security headers to every response a route has not set them on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The largest request body accepted: a visit with every instrument is a few kilobytes.
MAX_BODY_BYTES = 1_000_000
#: Where photographs are uploaded (the web form and the API).
UPLOAD_PATH = re.compile(r"^(/api/v1(/studies/[^/]+)?)?/subjects/[^/]+/visits/\d+/photos$")
_TOO_LARGE = b'{"error": "request_too_large", "detail": "The request is larger than 1 MB."}'


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, before a route reads it.

    A declared Content-Length is checked first; a body sent in chunks is counted as it
    arrives, so an undeclared 10 MB body is stopped too.
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, *, uploads: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.limit = limit
        self.uploads = uploads

    def _limit(self, scope: Scope) -> int:
        # a photograph's upload: twice the photograph limit, so that a file just over it
        # reaches the form and is refused there, in words, next to its field
        return self.uploads if UPLOAD_PATH.match(scope.get("path", "")) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLargeError:
            await _refuse(send)


class _BodyTooLargeError(Exception):
    pass


async def _refuse(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": _TOO_LARGE})
