"""A demo study served by the app, and clients signed in as each demo role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.demo import DEMO_PASSWORD, create_demo_study, create_demo_users
from pustula.demo_trial import TRIAL_USERS
from pustula.settings import Settings
from pustula.store import Store
from pustula.web import create_app

ROLES = {  # demo account -> role
    "investigator": "investigator",
    "monitor": "monitor",
    "statistician": "statistician",
    "site-b": "data_entry",
    "admin": "admin",
    "unblinded-stat": "unblinded_statistician",
    "dmc": "dmc",
}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database built once; each test copies it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_demo_study(store)
    create_demo_users(store, also=TRIAL_USERS)
    store.dispose()
    return path


@pytest.fixture
def web_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    from pustula.store import backup

    source = Store.open(f"sqlite:///{demo_db}")
    copy = backup(source, tmp_path / "web.sqlite3")
    source.dispose()
    store = Store.open(f"sqlite:///{copy}")
    yield store
    store.dispose()


@pytest.fixture
def app(web_store: Store) -> FastAPI:
    return create_app(Settings(secret_key="test-secret-key-0123456789-0123456789"), store=web_store)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def login(app: FastAPI) -> Callable[[str], TestClient]:
    def sign_in(username: str) -> TestClient:
        client = TestClient(app)
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "csrf": csrf_of(page.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    return sign_in


@pytest.fixture(scope="session")
def trial_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SYNTHETIC demo trial (90 randomized subjects) with every demo account, built once."""
    from pustula.demo_trial import create_trial_study

    path = tmp_path_factory.mktemp("trial") / "trial.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_trial_study(store)
    create_demo_users(store, also=TRIAL_USERS)
    store.dispose()
    return path


@pytest.fixture
def trial_store(trial_db: Path, tmp_path: Path) -> Iterator[Store]:
    from pustula.store import backup

    source = Store.open(f"sqlite:///{trial_db}")
    copy = backup(source, tmp_path / "trial.sqlite3")
    source.dispose()
    store = Store.open(f"sqlite:///{copy}")
    yield store
    store.dispose()


@pytest.fixture
def trial_login(trial_store: Store) -> Callable[[str], TestClient]:
    """Sign in to the demo trial's app as a demo account."""
    app = create_app(Settings(secret_key="test-secret-key-0123456789-0123456789"),
                     store=trial_store)  # fmt: skip

    def sign_in(username: str) -> TestClient:
        client = TestClient(app)
        page = client.get("/login")
        response = client.post("/login", data={
            "username": username, "password": DEMO_PASSWORD, "csrf": csrf_of(page.text),
            "next": "/"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        return client

    return sign_in
