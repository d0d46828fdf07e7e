"""The REST API for each step of a record's life, as a script would call it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.store import Store
from pustula.store.accounts.users import issue_api_token

BASELINE = {"age": 52, "sex": "male", "disease_duration_months": 20, "eraspen_ppp": True,
            "smoking": "current", "pack_years": 8,
            "screening": {"hepatitis": "negative"}}  # fmt: skip
PRIOR = [{"category": "topical", "drug": "clobetasol", "response": "none"},
         {"category": "biologic", "drug": "secukinumab", "response": "none"}]  # fmt: skip
LABS = {"lymphocytes": 1700, "neutrophils": 3900, "haemoglobin": 14.1}


def _client(app: FastAPI, store: Store) -> TestClient:
    with store.transaction(user="admin", reason="token for the test") as tx:
        token = issue_api_token(tx, "investigator")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _pending_subject(store: Store) -> None:
    from datetime import date

    from pustula.store.services.clinical import enrol

    enrol(store, "t", {"code": "A01", "site": "SITE1", "screened_on": date(2024, 9, 2),
                       "baseline": BASELINE, "prior_therapies": PRIOR,
                       "screening_labs": LABS})  # fmt: skip


def test_a_subjects_life_through_the_api(app: FastAPI, web_store: Store) -> None:
    _pending_subject(web_store)
    api = _client(app, web_store)
    base = "/api/v1/subjects/A01"
    assert api.get(base).json()["status"] == "screening_pending"
    screened = api.post(f"{base}/rescreen", json={
        "screened_on": "2024-09-09", "screening_labs": LABS, "prior_therapies": PRIOR,
        "baseline": BASELINE | {"screening": {"hepatitis": "negative",
                                              "tuberculosis": "negative"}},
        "reason": "tuberculosis result received"})  # fmt: skip
    assert screened.json() == {"code": "A01", "status": "enrolled", "reasons": []}
    dose = api.post(f"{base}/exposures", json={"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                               "frequency": "twice daily",
                                               "start_date": "2024-09-10"})  # fmt: skip
    assert dose.status_code == 201
    higher = api.post(f"{base}/exposures/{dose.json()['id']}/dose-change", json={
        "dose": 10, "unit": "mg", "frequency": "twice daily", "from_date": "2024-10-08",
        "reason": "partial response at week 4"}).json()  # fmt: skip
    assert (higher["dose"], higher["start_date"]) == (10.0, "2024-10-08")
    pause = api.post(f"{base}/exposures/{higher['id']}/interruptions",
                     json={"start_date": "2024-10-20", "cause": "herpes zoster"}).json()  # fmt: skip
    resumed = api.patch(f"{base}/interruptions/{pause['id']}", json={
        "end_date": "2024-10-27", "expected_version": pause["version"], "reason": "healed"})  # fmt: skip
    assert resumed.json()["end_date"] == "2024-10-27"
    missed = api.post(f"{base}/visits/missed", json={"visit_code": "W2", "reason": "ill"})
    assert missed.json()["status"] == "missed"
    visit = api.post(f"{base}/visits", json={
        "visit_code": "W4", "visit_date": "2024-10-18", "assessments": {"pga": {"pga": 2}},
        "not_done": {"pppasi": "photographs only; graded later"}}).json()  # fmt: skip
    assert {a["instrument"]: a["not_done_reason"] for a in visit["assessments"]} == {
        "pga": None, "pppasi": "photographs only; graded later"}  # fmt: skip
    moved = api.patch(f"{base}/visits/{visit['id']}", json={
        "visit_date": "2024-10-08", "expected_version": 1, "reason": "date typo"}).json()  # fmt: skip
    assert moved["window_status"] == "in_window"
    ae = api.post(f"{base}/adverse-events", json={
        "term": "Herpes zoster", "start_date": "2024-10-19", "grade": 2, "relatedness": "possible",
        "action_taken": "interrupted", "outcome": "not_recovered"}).json()  # fmt: skip
    followed = api.patch(f"{base}/adverse-events/{ae['id']}", json={
        "changes": {"end_date": "2024-10-30", "outcome": "recovered"},
        "expected_version": ae["version"], "reason": "resolved"}).json()  # fmt: skip
    assert (followed["outcome"], followed["version"]) == ("recovered", 2)
    lab = api.post(f"{base}/labs", json={"test": "lymphocytes", "value": 450, "unit": "/mm3",
                                         "sample_date": "2024-10-18"}).json()  # fmt: skip
    fixed = api.patch(f"{base}/labs/{lab['id']}", json={
        "changes": {"value": 1450}, "expected_version": 1, "reason": "typo"}).json()  # fmt: skip
    assert fixed["alerts"] == []
    gone = api.request("DELETE", f"{base}/labs/{lab['id']}",
                       json={"expected_version": fixed["version"], "reason": "duplicate"})  # fmt: skip
    assert gone.status_code == 204
    assert lab["id"] not in [x["id"] for x in api.get(f"{base}/labs").json()]
    med = api.post(f"{base}/conmeds", json={"drug": "valaciclovir", "indication": "zoster"})
    changed = api.patch(f"{base}/conmeds/{med.json()['id']}", json={
        "changes": {"dose": "1 g three times daily"}, "expected_version": 1,
        "reason": "dose added"}).json()  # fmt: skip
    assert changed["dose"] == "1 g three times daily"
    ended = api.post(f"{base}/withdrawal", json={
        "outcome": "withdrawn", "ended_on": "2024-11-01", "reason": "withdrew consent",
        "last_dose": "2024-10-31"})  # fmt: skip
    assert ended.status_code == 200 and ended.json()["status"] == "withdrawn"
    assert api.get(base).json()["end_reason"] == "withdrew consent"


def test_a_change_without_a_reason_or_with_a_stale_version_is_refused(
    app: FastAPI, web_store: Store
) -> None:
    api = _client(app, web_store)
    ae = api.get("/api/v1/subjects/S01/adverse-events").json()[0]
    no_reason = api.patch(f"/api/v1/subjects/S01/adverse-events/{ae['id']}",
                          json={"changes": {"grade": 2}, "expected_version": ae["version"],
                                "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    stale = api.patch(f"/api/v1/subjects/S01/adverse-events/{ae['id']}",
                      json={"changes": {"grade": 2}, "expected_version": ae["version"] + 5,
                            "reason": "re-graded"})  # fmt: skip
    assert stale.status_code == 409
    other = api.patch(f"/api/v1/subjects/S02/adverse-events/{ae['id']}",
                      json={"changes": {"grade": 2}, "expected_version": ae["version"],
                            "reason": "re-graded"})  # fmt: skip
    assert other.status_code == 404  # another subject's record is not found
