"""Plain ASGI middleware: security headers on every answer; saves go before page views.

Starlette's ``@app.middleware("http")`` wraps each request in a task group and memory
streams, which cost more than many of our routes; these wrap the ASGI call directly.
"""

from __future__ import annotations

import anyio
from anyio.lowlevel import RunVar
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "LONG_READ_SLOTS", "SECURITY_HEADERS", "SavesFirst", "SecurityHeaders"]

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

SAVES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Threads per worker for long reads (reports, exports), besides the read and save threads.
LONG_READ_SLOTS = 1


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
_TOO_LARGE = b'{"error": "request_too_large", "detail": "The request is larger than 1 MB."}'


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, before a route reads it.

    A declared Content-Length is checked first; a body sent in chunks is counted as it
    arrives, so an undeclared 10 MB body is stopped too.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
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


class _Lanes:
    """One event loop's read slots and the saves running on it."""

    def __init__(self, read_slots: int) -> None:
        self.reads = anyio.CapacityLimiter(read_slots)
        self.long_reads = anyio.CapacityLimiter(LONG_READ_SLOTS)
        self.saves = 0
        self.no_saves = anyio.Event()
        self.no_saves.set()

    def save_started(self) -> None:
        if self.saves == 0:
            self.no_saves = anyio.Event()
        self.saves += 1

    def save_ended(self) -> None:
        self.saves -= 1
        if self.saves == 0:
            self.no_saves.set()


_LANES: RunVar[_Lanes] = RunVar("pustula_lanes")


class SavesFirst:
    """Reads hold one of the worker's read slots, and give way to saves.

    - A read (any request but a POST, PUT, PATCH or DELETE) holds one of ``read_slots``
      until it has answered. Reads then use at most that many of the worker's threads,
      and the others stay free for saves: a save never waits for a thread behind a queue
      of page views.
    - Once it holds its slot, a read waits while a save runs in this worker, for at most
      ``give_way`` seconds. Python runs one thread at a time per process; without this a
      save shares its worker with every page view in flight, and the person who pressed
      Save waits several times as long. Reads in flight finish as before.
    - Reads of ``long_paths`` (reports, exports, the audit check: seconds, not
      milliseconds) take the worker's one long-read slot instead, so that a report
      being built never holds up page views.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        read_slots: int,
        long_paths: frozenset[str] = frozenset(),
        give_way: float = 0.1,
    ) -> None:
        self.app = app
        self.read_slots = read_slots
        self.long_paths = long_paths
        self.give_way = give_way

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lanes = self._lanes()
        if scope["method"] in SAVES:
            lanes.save_started()
            try:
                await self.app(scope, receive, send)
            finally:
                lanes.save_ended()
            return
        if scope["path"].removeprefix(scope.get("root_path", "")) in self.long_paths:
            async with lanes.long_reads:
                await self.app(scope, receive, send)
            return
        async with lanes.reads:
            # checked once the slot is held: reads queued for a slot when a save came
            # in wait for it too
            if lanes.saves:
                with anyio.move_on_after(self.give_way):
                    await lanes.no_saves.wait()
            await self.app(scope, receive, send)

    def _lanes(self) -> _Lanes:
        # one state per event loop, as anyio keeps its default thread limiter
        try:
            return _LANES.get()
        except LookupError:
            lanes = _Lanes(self.read_slots)
            _LANES.set(lanes)
            return lanes
