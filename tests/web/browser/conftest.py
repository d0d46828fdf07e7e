"""Browser fixtures: the demo app on a real port, Debian's Chromium, a page per test."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pustula.demo import create_demo_study, create_demo_users
from pustula.settings import Settings
from pustula.store import Store
from pustula.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]  # fmt: skip

collect_ignore_glob: list[str] = []
if not Path(CHROMIUM).exists():
    if os.environ.get("PUSTULA_TEST_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing; install Debian's chromium package")
    collect_ignore_glob = ["test_*.py"]  # Debian's chromium is not installed: nothing to drive


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the database the module's server runs on (a demo study, SQLite)."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.sqlite3'}"


@pytest.fixture(scope="module")
def server(server_db: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The app on a real port, with the demo study, or with the study the test module's
    ``CREATE_STUDY`` makes and the accounts its ``MORE_USERS`` adds."""
    import uvicorn

    SHOTS.mkdir(parents=True, exist_ok=True)
    store = Store.open(server_db)
    store.create_schema()
    getattr(request.module, "CREATE_STUDY", create_demo_study)(store)
    create_demo_users(store, also=getattr(request.module, "MORE_USERS", ()))
    app = create_app(Settings(secret_key="browser-secret-0123456789-0123456789"), store=store)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(200):
        if instance.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()
