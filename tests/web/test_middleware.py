"""Saves go first: a page view waits while a save runs in its worker, up to a limit."""

from __future__ import annotations

import anyio
import pytest
from starlette.types import Receive, Scope, Send

from pustula.web.throughput import SavesFirst


def _request(method: str, path: str) -> Scope:
    return {"type": "http", "method": method, "path": path, "headers": []}


async def _call(app: SavesFirst, method: str, path: str) -> None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        return None

    await app(_request(method, path), receive, send)  # type: ignore[arg-type]


class _Recorder:
    """An app whose saves wait for ``release``; it records when each request ran."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.save_running = anyio.Event()
        self.log: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            self.log.append("save started")
            self.save_running.set()
            await self.release.wait()
            self.log.append("save done")
        else:
            self.log.append(f"read {scope['path']}")


@pytest.mark.anyio
async def test_a_read_waits_for_the_save_running_in_its_worker() -> None:
    inner = _Recorder()
    app = SavesFirst(inner, read_slots=2, give_way=10)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_call, app, "POST", "/save")
        await inner.save_running.wait()
        tg.start_soon(_call, app, "GET", "/page")
        await anyio.sleep(0.2)
        assert inner.log == ["save started"]  # the page view is held back
        inner.release.set()
    assert inner.log == ["save started", "save done", "read /page"]


@pytest.mark.anyio
async def test_a_read_waits_no_longer_than_the_limit() -> None:
    inner = _Recorder()
    app = SavesFirst(inner, read_slots=2, give_way=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_call, app, "POST", "/save")
        await inner.save_running.wait()
        with anyio.fail_after(5):
            await _call(app, "GET", "/page")
        assert inner.log == ["save started", "read /page"]  # the save is still running
        inner.release.set()


@pytest.mark.anyio
async def test_reads_run_at_once_when_no_save_is_running() -> None:
    inner = _Recorder()
    app = SavesFirst(inner, read_slots=1, give_way=10)
    with anyio.fail_after(1):
        await _call(app, "GET", "/a")
        await _call(app, "GET", "/b")
    assert inner.log == ["read /a", "read /b"]


@pytest.mark.anyio
async def test_a_read_queued_for_a_slot_when_a_save_comes_in_waits_for_the_save() -> None:
    inner = _Recorder()
    slow_read = anyio.Event()

    async def app_with_a_slow_read(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            inner.log.append("read /slow started")
            await slow_read.wait()
            return
        await inner(scope, receive, send)

    app = SavesFirst(app_with_a_slow_read, read_slots=1, give_way=10)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_call, app, "GET", "/slow")  # holds the only read slot
        await anyio.sleep(0.05)
        tg.start_soon(_call, app, "GET", "/queued")  # waits for the slot
        await anyio.sleep(0.05)
        tg.start_soon(_call, app, "POST", "/save")
        await inner.save_running.wait()
        slow_read.set()  # the slot is free, but a save is running
        await anyio.sleep(0.2)
        assert inner.log == ["read /slow started", "save started"]
        inner.release.set()
    assert inner.log == ["read /slow started", "save started", "save done", "read /queued"]
