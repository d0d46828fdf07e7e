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


SECRET = "test-secret-key-0123456789-0123456789"


def _built(
    tmp_path_factory: pytest.TempPathFactory, name: str, create: Callable[[Store], object]
) -> Path:
    """A database made once per run by ``create``, with every demo account; tests copy it."""
    path = tmp_path_factory.mktemp(name) / f"{name}.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create(store)
    create_demo_users(store, also=TRIAL_USERS)
    store.dispose()
    return path


def _copied(source_path: Path, target: Path) -> Iterator[Store]:
    """A test's own copy of a built database."""
    from pustula.store import backup

    source = Store.open(f"sqlite:///{source_path}")
    copy = backup(source, target)
    source.dispose()
    store = Store.open(f"sqlite:///{copy}")
    yield store
    store.dispose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _signing_in(app: FastAPI) -> Callable[[str], TestClient]:
    def sign_in(username: str) -> TestClient:
        client = TestClient(app)
        page = client.get("/login")
        response = client.post("/login", data={
            "username": username, "password": DEMO_PASSWORD, "csrf": csrf_of(page.text),
            "next": "/"}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        return client

    return sign_in


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo case series with every demo account, built once."""
    return _built(tmp_path_factory, "demo", create_demo_study)


@pytest.fixture
def web_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    yield from _copied(demo_db, tmp_path / "web.sqlite3")


@pytest.fixture
def app(web_store: Store) -> FastAPI:
    return create_app(Settings(secret_key=SECRET), store=web_store)


@pytest.fixture
def login(app: FastAPI) -> Callable[[str], TestClient]:
    return _signing_in(app)


@pytest.fixture(scope="session")
def trial_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SYNTHETIC demo trial (90 randomized subjects) with every demo account, built once."""
    from pustula.demo_trial import create_trial_study

    return _built(tmp_path_factory, "trial", create_trial_study)


@pytest.fixture
def trial_store(trial_db: Path, tmp_path: Path) -> Iterator[Store]:
    yield from _copied(trial_db, tmp_path / "trial.sqlite3")


@pytest.fixture
def trial_login(trial_store: Store) -> Callable[[str], TestClient]:
    """Sign in to the demo trial's app as a demo account."""
    return _signing_in(create_app(Settings(secret_key=SECRET), store=trial_store))
