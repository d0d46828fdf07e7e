"""Two studies on one server: the demo case series (A, TOFA-PPP) and the demo trial
(B, TOFA-PPP-RCT, with subjects T001…). Signed in as each role of A, a crawler visits every
page and API read (the routes without a study, and the same under /api/v1/studies/TOFA-PPP)
and finds nothing of B: not its code, its title, or a subject, and B's own paths answer
404. Given a role in B, the same crawler finds B, so it can fail."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from pustula.demo import create_demo_study, create_demo_users
from pustula.demo_trial import create_trial_study, trial_protocol
from pustula.settings import Settings
from pustula.store import Store
from pustula.store.db.models import AdverseEvent, Lab, Subject, Visit
from pustula.web.app import create_app
from tests.web.conftest import SECRET, _copied, _signing_in, csrf_of
from tests.web.crawl import crawl

A, B = "TOFA-PPP", trial_protocol().id
ROLES_OF_A = ("investigator", "monitor", "statistician", "site-b", "admin-a")
#: what of study B must not show in A: its id, its title, its subjects' codes
B_MARKS = re.compile(rf"{re.escape(B)}|{re.escape(trial_protocol().title)}|\bT0\d\d\b")
#: random tokens (CSRF, nonces) can hold any few letters; they are not data
TOKENS = re.compile(r'(name="csrf" value|content)="[^"]*"')
Login = Callable[[str], TestClient]


@pytest.fixture(scope="module")
def two_studies_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Study A with the demo's accounts (their roles are in A only), then study B."""
    path = tmp_path_factory.mktemp("two") / "two.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_demo_study(store)
    # an administrator of study A only (the demo's "admin" administers the server)
    create_demo_users(store, also=(("admin-a", "admin", ("SITE1", "SITE2")),))
    create_trial_study(store, subjects=12)
    store.dispose()
    return path


@pytest.fixture
def two_studies(two_studies_db: Path, tmp_path: Path) -> Iterator[Store]:
    yield from _copied(two_studies_db, tmp_path / "two.sqlite3")


@pytest.fixture
def login(two_studies: Store) -> Login:
    return _signing_in(create_app(Settings(secret_key=SECRET), store=two_studies))


def _ids(store: Store) -> dict[str, Any]:
    """Study A's subject S05 (at SITE2, which every account of A sees) and its records."""
    with store.reader() as session:
        subject = session.scalars(select(Subject).where(Subject.code == "S05")).one()

        def first(model: Any) -> int | None:
            return session.scalar(select(model.id).where(model.subject_id == subject.id))

        return {"code": "S05", "visit": first(Visit), "ae": first(AdverseEvent),
                "lab": first(Lab)}  # fmt: skip


def _paths(route: APIRoute, ids: dict[str, Any], study: str) -> list[str]:
    path = route.path.replace("{code}", ids["code"])
    for part, kind in (("/visits/", "visit"), ("/ae/", "ae"), ("/labs/", "lab")):
        if part in path and ids[kind] is not None:
            path = re.sub(r"\{(record_id|visit_id)\}", str(ids[kind]), path)
    if "{table}" in path:
        path = path.replace("{table}", "visit").replace("{record_id}", str(ids["visit"]))
    if re.search(r"\{\w+\}", path):
        return []
    if path.startswith("/api/v1/"):
        return [path, f"/api/v1/studies/{study}/{path.removeprefix('/api/v1/')}"]
    return [path]


def _crawl(client: TestClient, ids: dict[str, Any], study: str) -> dict[str, list[str]]:
    """Every reachable GET answer's marks of study B, by path."""
    return crawl(client, lambda route: _paths(route, ids, study),
                 lambda text: sorted(set(B_MARKS.findall(TOKENS.sub("", text)))))  # fmt: skip


@pytest.mark.parametrize("account", ROLES_OF_A)
def test_no_role_of_study_a_finds_anything_of_study_b(
    login: Login, two_studies: Store, account: str
) -> None:
    client = login(account)
    assert _crawl(client, _ids(two_studies), A) == {}
    # and B's own paths are closed to them, as if B did not exist
    assert client.get(f"/api/v1/studies/{B}/subjects").status_code == 404
    assert client.get(f"/api/v1/studies/{B}/subjects/T001").status_code == 404
    csrf = csrf_of(client.get("/studies").text)
    assert client.post(f"/studies/{B}/open", data={"csrf": csrf}).status_code == 404
    assert client.get("/subjects/T001").status_code == 404


def test_with_a_role_in_study_b_the_crawler_finds_it(login: Login, two_studies: Store) -> None:
    admin = login("admin")  # the server's administrator administers both
    admin.post(f"/studies/{B}/open", data={"csrf": csrf_of(admin.get("/studies").text)})
    page = admin.get("/study/people")
    answer = admin.post("/study/people", data={
        "csrf": csrf_of(page.text), "username": "monitor", "role": "monitor", "sites": "*",
        "reason": "monitors the trial too"})  # fmt: skip
    assert answer.status_code in (200, 303), answer.text
    monitor = login("monitor")
    studies = monitor.get("/studies").text
    assert A in studies and B in studies
    opened = monitor.post(f"/studies/{B}/open", data={"csrf": csrf_of(studies)},
                          follow_redirects=False)  # fmt: skip
    assert opened.status_code == 303
    subjects = monitor.get("/subjects").text
    assert "T001" in subjects and "S05" not in subjects
    found = _crawl(monitor, {"code": "T001", "visit": None, "ae": None, "lab": None}, B)
    assert "/subjects" in found and f"/api/v1/studies/{B}/subjects" in found
    # the same account in A again: nothing of B but the switcher that offers it
    monitor.post(f"/studies/{A}/open", data={"csrf": csrf_of(monitor.get("/studies").text)})
    assert set(_crawl(monitor, _ids(two_studies), A)) == {"/studies"}


def test_a_form_opened_in_one_study_is_not_saved_into_another(
    login: Login, two_studies: Store
) -> None:
    """Two tabs: a form of A is sent after the user opened B in the other tab."""
    admin = login("admin")
    form = admin.get("/subjects/S05/visits/new").text
    admin.post(f"/studies/{B}/open", data={"csrf": csrf_of(admin.get("/studies").text)})
    answer = admin.post("/subjects/S05/ae/new", data={"csrf": csrf_of(form), "term": "x"})
    assert answer.status_code == 403
    assert "another study" in answer.text


def test_the_api_without_a_study_is_deprecated_and_names_its_successor(
    login: Login, two_studies: Store
) -> None:
    client = login("investigator")
    old = client.get("/api/v1/subjects")
    new = client.get(f"/api/v1/studies/{A}/subjects")
    assert old.status_code == new.status_code == 200 and old.json() == new.json()
    assert old.headers["Deprecation"] == "true" and "Sunset" in old.headers
    assert old.headers["Link"] == f'</api/v1/studies/{A}/subjects>; rel="successor-version"'
    assert "Deprecation" not in new.headers
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["paths"]["/api/v1/subjects"]["get"]["deprecated"] is True
    scoped = schema["paths"]["/api/v1/studies/{study}/subjects"]["get"]
    assert scoped["parameters"][0]["name"] == "study" and not scoped.get("deprecated")
