"""The REST API with per-user tokens."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.store import Store, add_exposure, enrol_subject, get_study
from pustula.store.accounts.users import issue_api_token
from tests.store.helpers import BASELINE, LABS, PRIOR, audit_count, pppasi


def _client(app: FastAPI, store: Store, username: str) -> TestClient:
    with store.transaction(user="admin", reason="token for the test") as tx:
        token = issue_api_token(tx, username)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_a_token_reads_and_writes_within_its_sites(app: FastAPI, web_store: Store) -> None:
    client = _client(app, web_store, "site-b")
    assert client.get("/api/v1/me").json()["sites"] == ["SITE2"]
    assert client.get("/api/v1/subjects/S01").status_code == 404
    body = {
        "visit_code": "W2",
        "visit_date": "2024-06-17",
        "assessments": {"pppasi": pppasi(), "pga": {"pga": 3}},
    }
    # S06's W2 already exists in the demo
    assert client.post("/api/v1/subjects/S06/visits", json=body).status_code == 422


def test_a_visit_saved_over_the_api_is_scored_and_audited(app: FastAPI, web_store: Store) -> None:
    with web_store.transaction(user="admin") as tx:
        study = get_study(tx.session)
        subject = enrol_subject(tx, study, code="N01", site="SITE1", screened_on=date(2024, 5, 1),
                                baseline=BASELINE, prior_therapies=PRIOR,
                                screening_labs=LABS).subject  # fmt: skip
        add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                   "frequency": "twice daily", "start_date": date(2024, 5, 2)})  # fmt: skip
    client = _client(app, web_store, "investigator")
    audit_before = audit_count(web_store)
    body = {"visit_code": "W2", "visit_date": "2024-05-16",
            "assessments": {"pppasi": pppasi(e=2, p=3, d=1, area=25), "pga": {"pga": 3}}}  # fmt: skip
    saved = client.post("/api/v1/subjects/N01/visits", json=body)
    assert saved.status_code == 201, saved.text
    visit = saved.json()
    # day 14 after the first dose, inside W2's window; (2+3+1) x area score 2 x 4 regions,
    # weighted 0.2 + 0.2 + 0.3 + 0.3 = 1.0: 12.0
    assert (visit["visit_code"], visit["study_day"], visit["window_status"]) == (
        "W2",
        14,
        "in_window",
    )
    totals = {a["instrument"]: a["total"] for a in visit["assessments"]}
    assert totals == {"pppasi": pytest.approx(12.0), "pga": 3}
    # a visit and two assessments: one insert row each, in the same transaction
    assert audit_count(web_store) - audit_before == 3
    assert client.get("/api/v1/subjects/N01").json()["visits"][0]["id"] == visit["id"]


def test_an_edit_over_the_api_checks_the_version(app: FastAPI, web_store: Store) -> None:
    client = _client(app, web_store, "investigator")
    first = client.get("/api/v1/subjects/S01").json()["visits"][0]["assessments"][0]
    update = {"items": pppasi(e=1), "expected_version": first["version"], "reason": "correction"}
    changed = client.put(f"/api/v1/subjects/S01/assessments/{first['id']}", json=update)
    assert changed.status_code == 200
    assert changed.json()["total"] == pytest.approx(15.0)  # (1+2+2) x 3 x 1.0
    again = client.put(f"/api/v1/subjects/S01/assessments/{first['id']}", json=update)
    assert again.status_code == 409
    assert again.json()["error"] == "edit_conflict"


def test_an_assessment_cannot_be_edited_through_another_subject(
    app: FastAPI, web_store: Store
) -> None:
    """site-b may edit S06 (its site) but not S01's assessment by putting it under S06."""
    investigator = _client(app, web_store, "investigator")
    theirs = investigator.get("/api/v1/subjects/S01").json()["visits"][0]["assessments"][0]
    site_b = _client(app, web_store, "site-b")
    update = {"items": pppasi(e=0), "expected_version": theirs["version"], "reason": "probe"}
    response = site_b.put(f"/api/v1/subjects/S06/assessments/{theirs['id']}", json=update)
    assert response.status_code == 404
    after = investigator.get("/api/v1/subjects/S01").json()["visits"][0]["assessments"][0]
    assert after == theirs


def test_the_stateless_score_endpoint(app: FastAPI, web_store: Store) -> None:
    client = _client(app, web_store, "monitor")
    response = client.post("/api/v1/score/pppasi", json=pppasi(e=2, p=3, d=1, area=25))
    assert response.json()["display_total"] == "12.0"
    bad = client.post("/api/v1/score/pga", json={"pga": 9})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "PGA grade must be a whole number from 0 to 4; got 9"


def test_endpoints_and_export(app: FastAPI, web_store: Store) -> None:
    client = _client(app, web_store, "statistician")
    endpoints = {e["endpoint"]: e for e in client.get("/api/v1/endpoints").json()}
    assert (endpoints["PPPASI80_W12"]["responders"], endpoints["PPPASI80_W12"]["n"]) == (5, 6)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/v1/export.zip").content))
    assert "manifest.json" in archive.namelist()
    assert "app_user.csv" not in archive.namelist()  # accounts never leave in a bundle


def test_a_bad_token_is_401(app: FastAPI) -> None:
    client = TestClient(app, headers={"Authorization": "Bearer pst_not-a-token"})
    assert client.get("/api/v1/subjects").status_code == 401
