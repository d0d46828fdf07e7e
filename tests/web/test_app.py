"""The app factory: settings that shape how requests are served."""

from __future__ import annotations

import anyio.to_thread
from fastapi.testclient import TestClient

from pustula.settings import Settings
from pustula.store import Store
from pustula.web.app import create_app


def _threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_request_threads_follow_the_setting(web_store: Store) -> None:
    for threads in (1, 3):
        settings = Settings(secret_key="test-secret-key-0123456789", web_threads=threads)
        with TestClient(create_app(settings, store=web_store)) as client:
            assert client.portal is not None
            assert client.portal.call(_threads) == threads


def test_every_answer_carries_the_security_headers(web_store: Store) -> None:
    app = create_app(Settings(secret_key="test-secret-key-0123456789"), store=web_store)
    client = TestClient(app)
    for path in ("/login", "/api/v1/me", "/static/pustula.css", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["cache-control"] == "no-store", path
