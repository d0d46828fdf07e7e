"""Every page and API route x every role: the expected status, written out by hand.

The expected table below is independent of pustula.web.access: if either changes alone,
this test fails. A route the table does not list fails the coverage test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of

ALL = frozenset({"investigator", "monitor", "statistician", "site-b", "admin"})
ENTER = frozenset({"investigator", "site-b", "admin"})
AUDIT = frozenset({"monitor", "admin"})
REPORT = frozenset({"investigator", "statistician", "admin"})
EXPORT = frozenset({"statistician", "admin"})

# route name -> (method, path, roles allowed). S05 is at SITE2, which every demo account sees.
ROUTES: dict[str, tuple[str, str, frozenset[str]]] = {
    "dashboard": ("GET", "/", ALL),
    "subject_list": ("GET", "/subjects", ALL),
    "subject_timeline": ("GET", "/subjects/S05", ALL),
    "enrol_form": ("GET", "/subjects/new", ENTER),
    "enrol_save": ("POST", "/subjects", ENTER),
    "visit_form": ("GET", "/subjects/S05/visits/new", ENTER),
    "visit_save": ("POST", "/subjects/S05/visits", ENTER),
    "assessment_edit_form": ("GET", "/subjects/S05/assessments/{a}/edit", ENTER),
    "assessment_edit_save": ("POST", "/subjects/S05/assessments/{a}/edit", ENTER),
    "ae_form": ("GET", "/subjects/S05/ae/new", ENTER),
    "ae_save": ("POST", "/subjects/S05/ae", ENTER),
    "lab_form": ("GET", "/subjects/S05/labs/new", ENTER),
    "lab_save": ("POST", "/subjects/S05/labs", ENTER),
    "conmed_form": ("GET", "/subjects/S05/conmeds/new", ENTER),
    "conmed_save": ("POST", "/subjects/S05/conmeds", ENTER),
    "record_history": ("GET", "/history/assessment/{a}", ALL),
    "audit_trail": ("GET", "/audit", AUDIT),
    "report_page": ("GET", "/report", REPORT),
    "report_pdf": ("GET", "/report.pdf", REPORT),
    "api_me": ("GET", "/api/v1/me", ALL),
    "api_subjects": ("GET", "/api/v1/subjects", ALL),
    "api_subject": ("GET", "/api/v1/subjects/S05", ALL),
    "api_visit_create": ("POST", "/api/v1/subjects/S05/visits", ENTER),
    "api_assessment_update": ("PUT", "/api/v1/subjects/S05/assessments/{a}", ENTER),
    "api_adverse_events": ("GET", "/api/v1/subjects/S05/adverse-events", ALL),
    "api_adverse_event_create": ("POST", "/api/v1/subjects/S05/adverse-events", ENTER),
    "api_labs": ("GET", "/api/v1/subjects/S05/labs", ALL),
    "api_lab_create": ("POST", "/api/v1/subjects/S05/labs", ENTER),
    "api_history": ("GET", "/api/v1/history/assessment/{a}", ALL),
    "api_endpoints": ("GET", "/api/v1/endpoints", REPORT),
    "api_export": ("GET", "/api/v1/export.zip", EXPORT),
    "api_score": ("POST", "/api/v1/score/pga", ALL),
}
PUBLIC = {"login_form", "login", "logout", "static", "openapi"}
# The first assessment of S05 (the demo creates S01..S06 with two assessments per visit).
S05_ASSESSMENT = 4 * 2 * 4 + 1


def _route_names(routes: list[object]) -> set[str]:
    names: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            names |= _route_names(inner.routes)
        elif getattr(route, "name", None):
            names.add(route.name)  # type: ignore[attr-defined]
    return names


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    names = _route_names(list(app.routes)) - PUBLIC
    assert names == set(ROUTES)


def _call(client: TestClient, method: str, path: str, csrf: str) -> int:
    url = path.format(a=S05_ASSESSMENT)
    if url.startswith("/api/"):
        body = {"pga": 2} if url.endswith("/score/pga") else {}
        return client.request(method, url, json=body, headers={"X-CSRF-Token": csrf}).status_code
    data = {"csrf": csrf} if method == "POST" else None
    return client.request(method, url, data=data, follow_redirects=False).status_code


@pytest.mark.parametrize("account", sorted(ALL))
def test_each_role_gets_exactly_its_routes(
    login: Callable[[str], TestClient], account: str
) -> None:
    client = login(account)
    csrf = csrf_of(client.get("/").text)
    outcomes = {}
    for name, (method, path, _allowed) in ROUTES.items():
        status = _call(client, method, path, csrf)
        assert status < 500, f"{name}: {status}"
        outcomes[name] = "allowed" if status not in (401, 403, 404) else "denied"
    expected = {
        name: "allowed" if account in allowed else "denied"
        for name, (_, _, allowed) in ROUTES.items()
    }
    assert outcomes == expected


def test_signed_out_pages_redirect_and_api_answers_401(app: FastAPI) -> None:
    client = TestClient(app)
    for name, (method, path, _) in ROUTES.items():
        response = client.request(method, path.format(a=S05_ASSESSMENT), follow_redirects=False)
        expected = 401 if path.startswith("/api/") else 303
        assert response.status_code == expected, name
        if expected == 303:
            assert response.headers["location"].startswith("/login?next=")


def test_one_site_cannot_see_another_sites_subjects(login: Callable[[str], TestClient]) -> None:
    client = login("site-b")  # SITE2 only: S05 and S06
    assert [s["code"] for s in client.get("/api/v1/subjects").json()] == ["S05", "S06"]
    for path in (
        "/subjects/S01",
        "/api/v1/subjects/S01",
        "/subjects/S01/visits/new",
        "/history/assessment/1",
        "/api/v1/history/assessment/1",
    ):
        assert client.get(path).status_code == 404, path
    assert "S01" not in client.get("/subjects").text
    assert "S01" not in client.get("/").text


def test_unsafe_requests_need_the_csrf_token(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    assert client.post("/subjects/S05/ae", data={"term": "x"}).status_code == 403
    assert client.post("/api/v1/subjects/S05/labs", json={}).status_code == 403
