"""Study drug is chosen from the protocol's regimens, not typed; another dose needs its
reason and opens a query; an adverse event that interrupted study drug must match the
dosing record (a query opens, and closes itself once the interruption is recorded)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from pustula.store import Store
from pustula.store.services.monitoring import search_queries
from tests.web.conftest import csrf_of

ENROL = {
    "code": "D01", "site": "SITE1", "screened_on": "2024-05-01", "age": "40", "sex": "female",
    "disease_duration_months": "12", "eraspen_ppp": "yes", "smoking": "never",
    "prior_0_drug": "clobetasol", "prior_0_category": "topical", "prior_0_response": "none",
    "prior_1_drug": "acitretin", "prior_1_category": "systemic", "prior_1_response": "none",
    "lab_lymphocytes": "2000", "lab_neutrophils": "4000", "lab_haemoglobin": "13",
    "tuberculosis": "negative", "hepatitis": "negative",
}  # fmt: skip


def _open_rules(store: Store) -> list[str]:
    return sorted(r.query.rule or "" for r in search_queries(store, sites=None, subject="D01", today=date(2024, 9, 1))
                  if r.query.state != "closed")  # fmt: skip


def _enrolled(client: TestClient) -> str:
    csrf = csrf_of(client.get("/subjects/new").text)
    client.post("/subjects", data={**ENROL, "csrf": csrf})
    return csrf


def test_a_tenfold_dose_is_refused_without_a_reason_and_queried_with_one(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    client = login("investigator")
    _enrolled(client)
    form = client.get("/subjects/D01/exposure/new").text
    choices = dict(re.findall(r'name="regimen" value="(\w+)"[^>]*> ([^<]+)</label>', form))
    assert list(choices.values()) == [
        "tofacitinib 5 mg twice daily (oral)", "tofacitinib 5 mg once daily (oral)",
        "Another dose (outside the protocol)"]  # fmt: skip
    assert 'name="regimen" value="0" checked' not in form  # nothing clinical pre-filled
    assert 'id="drug"' not in form  # the drug is the protocol's, never typed
    data = {"csrf": csrf_of(form), "regimen": "other", "dose": "50", "unit": "mg",
            "frequency": "twice daily", "start_date": "2024-05-02"}  # fmt: skip
    refused = client.post("/subjects/D01/exposure/new", data=data)
    assert refused.status_code == 400
    assert "say why this dose is outside the protocol" in refused.text
    assert 'value="50"' in refused.text  # kept
    assert "First dose: not recorded yet" in client.get("/subjects/D01").text
    saved = client.post("/subjects/D01/exposure/new", follow_redirects=False,
                        data=data | {"dose_reason": "weight-based dosing by the investigator"})  # fmt: skip
    assert saved.status_code == 303
    assert _open_rules(web_store) == ["dose_outside_protocol"]
    history = login("monitor").get("/audit", params={"subject": "D01"}).text
    assert "weight-based dosing by the investigator" in history


def test_a_protocol_dose_opens_no_query_and_an_interruption_must_match_its_event(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    client = login("investigator")
    csrf = _enrolled(client)
    assert client.post("/subjects/D01/exposure/new", follow_redirects=False, data={
        "csrf": csrf, "regimen": "0", "start_date": "2024-05-02"}).status_code == 303  # fmt: skip
    assert _open_rules(web_store) == []
    assert client.post("/subjects/D01/ae/new", follow_redirects=False, data={
        "csrf": csrf, "term": "Neutropenia", "start_date": "2024-06-01", "grade": "3",
        "serious": "no", "relatedness": "probable", "action_taken": "interrupted",
        "outcome": "recovering", "worsened_on_treatment": "no"}).status_code == 303  # fmt: skip
    assert _open_rules(web_store) == ["ae_action_exposure"]
    page = client.get("/subjects/D01").text
    course = re.search(r"/subjects/D01/exposure/(\d+)/interrupt", page)
    assert course
    assert client.post(f"/subjects/D01/exposure/{course.group(1)}/interrupt",
                       follow_redirects=False, data={
        "csrf": csrf, "start_date": "2024-06-02", "cause": "grade 3 neutropenia"}).status_code == 303  # fmt: skip
    assert _open_rules(web_store) == []  # the query closed itself
