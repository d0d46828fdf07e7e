"""Sessions live on the server: sign-out, deactivation, a new password and the timeouts end
them; API tokens expire and can be revoked; sign-in throttling is shared and fair."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from pustula.errors import ConfigurationError
from pustula.settings import Settings
from pustula.store import Store
from pustula.store.accounts.users import (
    deactivate_user,
    issue_api_token,
    revoke_api_token,
    set_password,
)
from pustula.store.db.models import LoginFailure, WebSession
from pustula.web.app import create_app
from tests.web.conftest import csrf_of


def _signed_in_cookie(login: Callable[[str], TestClient], username: str) -> tuple[TestClient, str]:
    client = login(username)
    return client, client.cookies["pustula_session"]


def _with_cookie(app: FastAPI, cookie: str) -> TestClient:
    other = TestClient(app)
    other.cookies.set("pustula_session", cookie)
    return other


def test_a_cookie_copied_before_sign_out_is_worthless_after_it(
    app: FastAPI, login: Callable[[str], TestClient]
) -> None:
    client, cookie = _signed_in_cookie(login, "investigator")
    assert _with_cookie(app, cookie).get("/api/v1/me").status_code == 200
    page = client.get("/subjects")
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert _with_cookie(app, cookie).get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "password"])
def test_deactivation_and_a_new_password_end_every_session(
    app: FastAPI, web_store: Store, login: Callable[[str], TestClient], change: str
) -> None:
    _, cookie = _signed_in_cookie(login, "monitor")
    with web_store.transaction(user="admin", reason="test") as tx:
        if change == "deactivate":
            deactivate_user(tx, "monitor")
        else:
            set_password(tx, "monitor", "a-brand-new-password")
    assert _with_cookie(app, cookie).get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("idle", "absolute", "ok"), [(10, 60, True), (40, 60, False), (10, 500, False)]
)
def test_sessions_time_out_when_idle_and_after_their_lifetime(
    app: FastAPI,
    web_store: Store,
    login: Callable[[str], TestClient],
    idle: int,
    absolute: int,
    ok: bool,
) -> None:
    """Idle minutes since the last request, and minutes since sign-in (30 and 480 allowed)."""
    _, cookie = _signed_in_cookie(login, "statistician")
    now = time.time()
    with web_store.engine.begin() as connection:
        connection.execute(
            update(WebSession).values(last_seen=now - idle * 60, created=now - absolute * 60)
        )
    assert (_with_cookie(app, cookie).get("/api/v1/me").status_code == 200) is ok


def test_api_tokens_expire_and_can_be_revoked(app: FastAPI, web_store: Store) -> None:
    client = TestClient(app)
    with web_store.transaction(user="admin", reason="test") as tx:
        token = issue_api_token(tx, "statistician", expires_days=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with mock.patch(
        "pustula.store.monitoring.queries.time.time", return_value=time.time() + 2 * 86400
    ):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    with web_store.transaction(user="admin", reason="test") as tx:
        revoke_api_token(tx, "statistician")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def _attempt(app: FastAPI, username: str, password: str, client: tuple[str, int]) -> int:
    browser = TestClient(app, client=client)
    token = csrf_of(browser.get("/login").text)
    response = browser.post(
        "/login", data={"username": username, "password": password, "csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    return response.status_code


def test_forty_concurrent_attempts_check_at_most_five_passwords(
    app: FastAPI, web_store: Store
) -> None:
    from pustula.store.accounts import users

    checked = []
    real = users.authenticate

    def counting(*args: object) -> object:
        checked.append(1)
        return real(*args)  # type: ignore[arg-type]

    with (
        mock.patch("pustula.store.services.clinical.authenticate", counting),
        ThreadPoolExecutor(8) as pool,
    ):
        codes = list(
            pool.map(lambda _: _attempt(app, "monitor", "wrong", ("10.1.1.1", 1)), range(40))
        )
    assert len(checked) <= 5
    assert codes.count(401) == len(checked) and codes.count(429) == 40 - len(checked)


def test_a_stranger_cannot_lock_a_user_out(app: FastAPI) -> None:
    for _ in range(6):
        _attempt(app, "investigator", "wrong", ("203.0.113.7", 1))
    assert _attempt(app, "investigator", "wrong", ("203.0.113.7", 1)) == 429
    assert _attempt(app, "investigator", "pustula-demo", ("10.0.0.5", 1)) == 303  # the real user


def test_many_addresses_are_slowed_per_account_without_locking_the_user_out(
    app: FastAPI, web_store: Store
) -> None:
    """Before, 10 addresses gave an attacker 50 guesses at one account in 5 minutes. Now
    the 11th failure on the account, from any address, waits 1 s after the 10th, the
    12th 2 s, and so on (at most 5 minutes); the real user, after the delay, signs in."""
    clients = [(f"198.51.100.{i}", 1) for i in range(1, 12)]
    for client in clients[:10]:
        assert _attempt(app, "statistician", "wrong", client) == 401
    assert _attempt(app, "statistician", "wrong", clients[10]) == 429  # an 11th address
    assert _attempt(app, "statistician", "pustula-demo", ("10.9.9.9", 1)) == 429  # held too

    def later(seconds: float) -> None:  # the clock moves on: the failures grow older
        with web_store.engine.begin() as connection:
            connection.execute(update(LoginFailure).values(at=LoginFailure.at - seconds))

    later(1.5)
    assert _attempt(app, "statistician", "wrong", clients[10]) == 401  # the 11th, after 1 s
    assert _attempt(app, "statistician", "wrong", clients[0]) == 429  # the 12th needs 2 s
    later(2.5)
    assert _attempt(app, "statistician", "pustula-demo", ("10.9.9.9", 1)) == 303  # never locked


def test_the_account_delay_doubles_up_to_its_cap() -> None:
    from pustula.store.accounts.sessions import Throttle

    throttle = Throttle()
    # failures counted with this attempt: up to 10 free, then 1, 2, 4 … s after the last
    assert [throttle.account_wait(n, 0.0) for n in (10, 11, 12, 13, 19, 40)] == [
        0.0, 1.0, 2.0, 4.0, 256.0, 300.0]  # fmt: skip
    assert throttle.account_wait(13, 3.0) == 1.0  # 4 s after the last, 3 already gone


def test_the_throttle_is_shared_by_every_worker(web_store: Store) -> None:
    """Two app instances (as two worker processes) count the same attempts."""
    settings = Settings(secret_key="s" * 40)
    first, second = create_app(settings, store=web_store), create_app(settings, store=web_store)
    for app in (first, second, first, second, first):
        assert _attempt(app, "monitor", "wrong", ("10.2.2.2", 1)) == 401
    assert _attempt(second, "monitor", "pustula-demo", ("10.2.2.2", 1)) == 429
    with web_store.engine.connect() as connection:
        # 5 attempts x 3 keys: (user, client), client, account
        assert connection.scalar(select(func.count()).select_from(LoginFailure)) == 15


def test_a_short_secret_key_is_refused(web_store: Store) -> None:
    with pytest.raises(
        ConfigurationError, match="PUSTULA_SECRET_KEY is 1 bytes; it needs at least 32"
    ):
        create_app(Settings(secret_key="a"), store=web_store)


def test_an_unsafe_request_from_another_site_is_refused(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    page = client.get("/subjects")
    response = client.post(
        "/logout", data={"csrf": csrf_of(page.text)}, headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert client.get("/api/v1/me").status_code == 200  # still signed in: the form was ignored
    saved = client.post(
        "/api/v1/subjects/S01/labs",
        json={"test": "alt", "value": 30, "unit": "U/L", "sample_date": "2024-04-01"},
        headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf_of(page.text)},
    )
    assert saved.status_code == 403
