"""Plain ASGI middleware: security headers on every answer, and read slots for reads.

Starlette's ``@app.middleware("http")`` wraps each request in a task group and memory
streams, which cost more than many of our routes; these wrap the ASGI call directly.
"""

from __future__ import annotations

import anyio
from anyio.lowlevel import RunVar
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SECURITY_HEADERS", "ReadSlots", "SecurityHeaders"]

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

READS = frozenset({"GET", "HEAD"})


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


_SLOTS: RunVar[anyio.CapacityLimiter] = RunVar("pustula_read_slots")


class ReadSlots:
    """A read (GET or HEAD) holds one of the worker's ``slots`` until it has answered.

    Reads then use at most ``slots`` of the worker's threads, and the others stay free
    for saves: a save never waits for a thread behind a queue of page views.
    """

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in READS:
            await self.app(scope, receive, send)
            return
        async with self._limiter():
            await self.app(scope, receive, send)

    def _limiter(self) -> anyio.CapacityLimiter:
        # one limiter per event loop, as anyio keeps its default thread limiter
        try:
            return _SLOTS.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.slots)
            _SLOTS.set(limiter)
            return limiter
