"""Throughput: how requests are scheduled so that saves stay fast under load. One module,
one switch (``PUSTULA_WEB_THROUGHPUT``, on by default).

What it does, each measured in ``benchmarks/README.md``:

- **saves go first** (:class:`SavesFirst`): a page view waits (at most 0.1 s) while a save
  runs in its worker, because a save spends most of its time waiting for the interpreter
  lock that page views hold;
- **read slots**: page views and API reads share ``PUSTULA_WEB_THREADS`` threads; saves
  get ``PUSTULA_WEB_SAVE_THREADS`` of their own; reports, exports and the audit check
  (marked :func:`long_read`) run on one long-read slot, so a PDF being built never holds
  up page views;
- **one visit to the database per subject page** (:func:`reads_whole_record`): the access
  check reads the subject's whole record in the same statement batch as the user.

With the switch off none of this is installed: every request runs on the ordinary thread
pool and each route reads what it needs itself. Every functional test passes either way
(``scripts/test`` runs the web tests with the switch off too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from pustula.errors import ConfigurationError
from pustula.settings import Settings

__all__ = [
    "LONG_READ_SLOTS",
    "SavesFirst",
    "install",
    "long_read",
    "prefetches_record",
    "reads_whole_record",
]

E = TypeVar("E", bound=Callable[..., Any])
SAVES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Threads per worker for long reads (reports, exports), besides the read and save threads.
LONG_READ_SLOTS = 1


#: Routes marked by the decorators below (kept here, not as attributes on the functions).
_LONG_READS: set[Callable[..., Any]] = set()
_WHOLE_RECORD: set[Callable[..., Any]] = set()


def long_read(endpoint: E) -> E:
    """Mark a read that takes seconds (reports, exports, the audit check).

    It runs on the worker's long-read slot, so page views do not queue behind it. Only for
    paths without parameters.
    """
    _LONG_READS.add(endpoint)
    return endpoint


def reads_whole_record(endpoint: E) -> E:
    """Mark a route that shows the whole record of the subject in its path; with the switch
    on, the access check reads it in the same visit to the database as the user."""
    _WHOLE_RECORD.add(endpoint)
    return endpoint


def prefetches_record(app: Any, endpoint: object) -> bool:
    """Whether the access check should read this route's subject record itself."""
    return bool(getattr(app.state, "throughput", False)) and endpoint in _WHOLE_RECORD


def install(app: FastAPI, settings: Settings, routers: tuple[APIRouter, ...]) -> None:
    """Install the scheduling on ``app``, unless ``settings.web_throughput`` is off."""
    app.state.throughput = settings.web_throughput
    if not settings.web_throughput:
        return
    threads = settings.web_threads + settings.web_save_threads + LONG_READ_SLOTS
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(running) as state:
            yield state

    app.router.lifespan_context = lifespan
    app.add_middleware(
        SavesFirst, read_slots=settings.web_threads, long_paths=_long_read_paths(*routers)
    )


def _long_read_paths(*routers: APIRouter) -> frozenset[str]:
    paths = set()
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.endpoint in _LONG_READS:
                if "{" in route.path:
                    raise ConfigurationError(
                        f"long reads are matched by path; {route.path} has parameters"
                    )
                paths.add(route.path)
    return frozenset(paths)


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
