"""The app factory: settings that shape how requests are served."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from pustula.settings import Settings
from pustula.store import Store
from pustula.store.accounts.users import issue_api_token
from pustula.web.app import create_app


class _Held:
    """Wraps ``real`` so that its first call waits until ``release`` is set."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, *args: object) -> object:
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(10)
        return self.real(*args)


def _token_headers(store: Store, username: str) -> dict[str, str]:
    with store.transaction(user="admin", reason="token for the test") as tx:
        return {"Authorization": f"Bearer {issue_api_token(tx, username)}"}


def _threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_request_threads_follow_the_settings(web_store: Store) -> None:
    for reads, saves in ((1, 1), (3, 2)):
        settings = Settings(
            secret_key="test-secret-key-0123456789-0123456789",
            web_threads=reads,
            web_save_threads=saves,
            web_throughput=True,
        )
        with TestClient(create_app(settings, store=web_store)) as client:
            assert client.portal is not None
            assert client.portal.call(_threads) == reads + saves + 1  # and one for reports


def test_every_answer_carries_the_security_headers(web_store: Store) -> None:
    app = create_app(Settings(secret_key="test-secret-key-0123456789-0123456789"), store=web_store)
    client = TestClient(app)
    for path in ("/login", "/api/v1/me", "/static/pustula.css", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["cache-control"] == "no-store", path


def test_page_views_wait_for_a_read_slot_but_saves_do_not(
    web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one read slot taken by a slow page, a second page waits and a save goes ahead."""
    from pustula.web import deps

    slow_first_read = _Held(deps._scope)
    monkeypatch.setattr(deps, "_scope", slow_first_read)
    settings = Settings(
        secret_key="test-secret-key-0123456789-0123456789",
        web_threads=1,
        web_save_threads=1,
        web_throughput=True,
    )
    headers = _token_headers(web_store, "monitor")
    with TestClient(create_app(settings, store=web_store), headers=headers) as client:
        with ThreadPoolExecutor(3) as pool:
            slow = pool.submit(client.get, "/api/v1/me")
            assert slow_first_read.entered.wait(10)
            second = pool.submit(client.get, "/api/v1/me")
            save = pool.submit(client.post, "/api/v1/score/pga", json={"pga": 2})
            assert save.result(timeout=10).status_code == 200  # while the slow read holds its slot
            time.sleep(0.3)
            assert not second.done()  # queued for the only read slot
            slow_first_read.release.set()
            assert slow.result(timeout=10).status_code == 200
            assert second.result(timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/subjects/S05", "/api/v1/subjects/S05",
                                  "/api/v1/subjects/S05/labs", "/api/v1/subjects/S05/adverse-events"])  # fmt: skip
def test_the_record_prefetch_answers_exactly_as_the_route_alone(
    web_store: Store, path: str
) -> None:
    """With the throughput switch on, the access check reads the subject's record for the
    route; off, the route reads it. Either way a person gets the same answer, and another
    site's subject stays invisible."""
    headers = _token_headers(web_store, "site-b")  # data entry at SITE2 only
    answers = []
    for on in (True, False):
        settings = Settings(secret_key="test-secret-key-0123456789-0123456789", web_throughput=on)
        client = TestClient(create_app(settings, store=web_store), headers=headers)
        answer = client.get(path)
        assert answer.status_code == 200
        answers.append(answer.text.replace(answer.headers.get("x-request-id", ""), ""))
        assert client.get(path.replace("S05", "S01")).status_code == 404  # SITE1: never shown
    assert answers[0] == answers[1]


def test_a_report_being_built_does_not_hold_up_page_views(
    web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports take the worker's long-read slot, not the one read slot of the pages."""
    from collections import OrderedDict

    from pustula.web import views

    slow_report = _Held(views.report_for)
    monkeypatch.setattr(views, "report_for", slow_report)
    monkeypatch.setattr(views, "_REPORTS", OrderedDict())  # built here, not found kept
    settings = Settings(
        secret_key="test-secret-key-0123456789-0123456789", web_threads=1, web_throughput=True
    )
    headers = _token_headers(web_store, "statistician")
    with TestClient(create_app(settings, store=web_store), headers=headers) as client:
        with ThreadPoolExecutor(2) as pool:
            report = pool.submit(client.get, "/report")
            assert slow_report.entered.wait(10)
            page = pool.submit(client.get, "/subjects/S01")
            assert page.result(timeout=10).status_code == 200  # while the report is built
            assert not report.done()
            slow_report.release.set()
            assert report.result(timeout=20).status_code == 200


def test_the_throughput_switch_off_installs_none_of_it(web_store: Store) -> None:
    from pustula.web.throughput import SavesFirst

    settings = Settings(secret_key="test-secret-key-0123456789-0123456789", web_throughput=False)
    app = create_app(settings, store=web_store)
    assert all(m.cls is not SavesFirst for m in app.user_middleware)
    headers = _token_headers(web_store, "site-b")
    with TestClient(app, headers=headers) as client:
        page = client.get("/subjects/S05")  # the route reads the record itself
        assert page.status_code == 200 and "Subject S05" in page.text
        assert client.get("/api/v1/subjects/S05/labs").status_code == 200


def test_a_demo_server_shows_its_accounts_on_the_sign_in_page_and_no_other_does(
    web_store: Store,
) -> None:
    from pustula.demo import DEMO_PASSWORD, DEMO_USERS

    demo = TestClient(create_app(Settings(), store=web_store, demo=True)).get("/login").text
    assert 'id="demo-accounts"' in demo and DEMO_PASSWORD in demo
    for username, _role, _sites in DEMO_USERS:
        assert f'<th scope="row">{username}</th>' in demo
    assert "<td>Monitor</td>" in demo  # the role in words
    secret = "k" * 40
    real = TestClient(create_app(Settings(secret_key=secret), store=web_store)).get("/login").text
    assert "demo-accounts" not in real and DEMO_PASSWORD not in real
