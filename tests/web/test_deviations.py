"""Protocol deviations in the web app and the API: every missing answer at once with the
input kept, then the deviation listed; the per-protocol set reads them (SYNTHETIC trial)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from pustula.analysis import build_analysis
from pustula.store import Store
from pustula.store.transfer.extract import read_study
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


def test_a_deviation_form_shows_every_error_at_once_and_keeps_what_was_typed(
    trial_login: Login,
) -> None:
    client = trial_login("investigator")
    page = client.get("/subjects/T002")
    assert "/subjects/T002/deviations" in page.text
    form = client.get("/subjects/T002/deviations")
    assert "selected" not in form.text  # no kind chosen for the user
    sent = client.post("/subjects/T002/deviations", data={
        "csrf": csrf_of(form.text), "category": "", "occurred_on": "",
        "description": "took ibuprofen gel"})  # fmt: skip
    assert sent.status_code == 400
    assert "Correct these 2 values" in sent.text and "took ibuprofen gel" in sent.text


def test_a_recorded_deviation_is_listed_and_leaves_the_per_protocol_set(
    trial_login: Login, trial_store: Store
) -> None:
    client = trial_login("investigator")
    form = client.get("/subjects/T002/deviations")
    done = client.post("/subjects/T002/deviations", data={
        "csrf": csrf_of(form.text), "category": "prohibited medication",
        "occurred_on": "2025-03-01", "description": "oral prednisolone for 5 days"},
        follow_redirects=True)  # fmt: skip
    assert "The deviation was recorded." in done.text
    assert "Took a medication the protocol prohibits" in done.text
    adsl = build_analysis(read_study(trial_store, arms=True)).adsl.set_index("SUBJID")
    assert adsl.loc["T002", "PPROTFL"] == "N"
    assert adsl.loc["T002", "PPROTRSN"] == "deviation: took a medication the protocol prohibits"


def test_the_api_records_and_lists_deviations_with_a_clear_refusal(trial_login: Login) -> None:
    client = trial_login("investigator")
    csrf = {"X-CSRF-Token": csrf_of(client.get("/").text)}
    wrong = client.post("/api/v1/subjects/T002/deviations", headers=csrf, json={
        "category": "lateness", "occurred_on": "2025-03-01", "description": " "})  # fmt: skip
    assert wrong.status_code == 422
    assert "choose the kind of deviation" in wrong.text and "describe what happened" in wrong.text
    made = client.post("/api/v1/subjects/T002/deviations", headers=csrf, json={
        "category": "treatment compliance", "occurred_on": "2025-03-02",
        "description": "took half the doses in week 3"})  # fmt: skip
    assert made.status_code == 201
    listed = client.get("/api/v1/subjects/T002/deviations").json()
    assert [(r["category"], r["occurred_on"]) for r in listed] == [
        ("treatment compliance", "2025-03-02")]  # fmt: skip
