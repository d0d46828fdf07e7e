"""Monitoring through the API: a query's life, a signature, and the lock (423)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.demo import DEMO_PASSWORD
from pustula.store import Store
from pustula.store.accounts.users import issue_api_token


def _client(app: FastAPI, store: Store, username: str) -> TestClient:
    with store.transaction(user="admin", reason="token for the test") as tx:
        token = issue_api_token(tx, username)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_query_signature_and_lock_through_the_api(app: FastAPI, web_store: Store) -> None:
    monitor, site = _client(app, web_store, "monitor"), _client(app, web_store, "investigator")
    admin = _client(app, web_store, "admin")
    visit = next(v for v in site.get("/api/v1/subjects/S01").json()["visits"]
                 if v["visit_code"] == "W4")  # fmt: skip
    pppasi = next(a for a in visit["assessments"] if a["instrument"] == "pppasi")
    raised = monitor.post("/api/v1/queries", json={
        "subject": "S01", "table": "assessment", "record": pppasi["id"],
        "field": "right_sole_pustules", "text": "Source says 0"})  # fmt: skip
    assert raised.status_code == 201 and raised.json()["state"] == "open"
    assert raised.json()["record_name"] == "Assessment: PPPASI at Week 4"  # not its number
    query = raised.json()["id"]
    assert site.post(f"/api/v1/queries/{query}/close", json={"text": "x"}).status_code == 403
    items = pppasi["items"] | {"right_sole_pustules": 0}
    corrected = site.put(f"/api/v1/subjects/S01/assessments/{pppasi['id']}", json={
        "items": items, "expected_version": pppasi["version"], "reason": "source re-read",
        "answers_query": query})  # fmt: skip
    assert corrected.status_code == 200, corrected.text
    [listed] = monitor.get("/api/v1/queries", params={"subject": "S01"}).json()
    assert (listed["state"], listed["record_name"]) == ("answered", "Assessment: PPPASI at Week 4")
    closed = monitor.post(f"/api/v1/queries/{query}/close", json={"text": "Confirmed"})
    assert closed.json()["state"] == "closed"
    # the investigator signs, with user name and password
    refused = site.post("/api/v1/subjects/S01/signatures", json={
        "username": "investigator", "password": "nope",
        "meaning": "I approve the data in this casebook"})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["error"] == "signature_refused"
    signed = site.post("/api/v1/subjects/S01/signatures", json={
        "username": "investigator", "password": DEMO_PASSWORD,
        "meaning": "I approve the data in this casebook"})  # fmt: skip
    assert signed.status_code == 201 and signed.json()["invalidated_at"] is None
    ae = site.get("/api/v1/subjects/S01/adverse-events").json()[0]
    site.patch(f"/api/v1/subjects/S01/adverse-events/{ae['id']}", json={
        "changes": {"grade": 2}, "expected_version": ae["version"], "reason": "re-graded"})  # fmt: skip
    assert site.get("/api/v1/subjects/S01/signatures").json()[0]["invalidated_at"] is not None
    # the lock: every write answers 423 until unlocked
    locked = admin.post("/api/v1/study/lock", json={"reason": "final analysis"})
    assert locked.status_code == 201 and len(locked.json()["snapshot_sha256"]) == 64
    refused_write = site.patch(f"/api/v1/subjects/S01/adverse-events/{ae['id']}", json={
        "changes": {"grade": 1}, "expected_version": ae["version"] + 1, "reason": "again"})  # fmt: skip
    assert refused_write.status_code == 423 and refused_write.json()["error"] == "locked"
    assert site.get("/api/v1/study/lock").json()[0]["scope"] == "study"
    assert site.request("DELETE", "/api/v1/study/lock", json={"reason": "x"}).status_code == 403
    unlocked = admin.request("DELETE", "/api/v1/study/lock", json={"reason": "late lab"})
    assert unlocked.status_code == 200
    assert admin.get("/api/v1/study/lock").json() == []


def test_a_locked_study_report_is_the_same_byte_for_byte(app: FastAPI, web_store: Store) -> None:
    admin = _client(app, web_store, "admin")
    admin.post("/api/v1/study/lock", json={"reason": "final analysis"})
    first, second = admin.get("/report"), admin.get("/report")
    assert first.status_code == 200 and first.content == second.content
    sha = admin.get("/api/v1/study/lock").json()[0]["snapshot_sha256"]
    assert sha in first.text and "(database lock)" in first.text


def test_a_lock_answers_before_the_input_is_judged(app: FastAPI, web_store: Store) -> None:
    """On a locked study every API write of clinical data answers 423 even when its body
    is invalid (before, 422 came first: the lock was checked only at the save)."""
    from fastapi.routing import APIRoute

    from pustula.web import api, api_casebook
    from pustula.web.deps import LOCKED_WRITES
    from tests.store.helpers import audit_count

    admin = _client(app, web_store, "admin")
    assert admin.post("/api/v1/study/lock", json={"reason": "final analysis"}).status_code == 201
    site = _client(app, web_store, "investigator")
    before = audit_count(web_store)
    routes = [r for r in (*api.router.routes, *api_casebook.router.routes)
              if isinstance(r, APIRoute) and r.name in LOCKED_WRITES]  # fmt: skip
    assert {r.name for r in routes} == LOCKED_WRITES  # every name is a route
    for route in routes:
        params = {name: "S01" if name == "code" else "1" for name in route.param_convertors}
        path = route.url_path_for(route.name, **params)
        for method in route.methods:
            answer = site.request(method, path, json={"not": "a valid body"})
            assert answer.status_code == 423, (route.name, answer.status_code, answer.text)
    assert audit_count(web_store) == before
