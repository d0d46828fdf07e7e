"""A randomized, blinded trial in the web app: randomizing on a form, the kit on the
subject's page, emergency unblinding, the unblinded statistician's list, and the monitor's
list of unblindings (the SYNTHETIC demo trial)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from pustula.demo import trial_protocol
from pustula.store import Store
from pustula.store.services.clinical import enrol
from pustula.store.services.trial import randomization_of, subject_arm
from tests.store.helpers import BASELINE, LABS, PRIOR
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]
LABELS = {a.code: a.label for a in trial_protocol().arms}


@pytest.fixture
def new_subject(trial_store: Store) -> str:
    """An enrolled subject at SITE2 (which site-b sees), not randomized yet; a former smoker."""
    enrol(trial_store, "site-b", {"code": "N001", "site": "SITE2", "screened_on": date(2025, 9, 1),
                                  "baseline": {**BASELINE, "smoking": "former"},
                                  "prior_therapies": PRIOR, "screening_labs": LABS})  # fmt: skip
    return "N001"


def test_a_coordinator_randomizes_with_the_strata_confirmed_and_sees_the_kit_not_the_arm(
    trial_login: Login, trial_store: Store, new_subject: str
) -> None:
    client = trial_login("site-b")
    page = client.get(f"/subjects/{new_subject}")
    assert "Not randomized yet." in page.text and f"/subjects/{new_subject}/randomize" in page.text
    form = client.get(f"/subjects/{new_subject}/randomize")
    assert (
        "The casebook records: SITE2." in form.text and "The casebook records: ever." in form.text
    )
    assert " checked" not in form.text  # nothing chosen for the coordinator
    response = client.post(f"/subjects/{new_subject}/randomize", data={
        "csrf": csrf_of(form.text), "site": "SITE2", "smoking": "ever",
        "randomized_on": "2025-09-08"}, follow_redirects=True)  # fmt: skip
    assert response.status_code == 200
    done = randomization_of(trial_store, new_subject)
    assert done is not None and done.stratum == "SITE2 · ever"
    assert f'kit number <strong class="kit">{done.kit}</strong>' in response.text
    assert "Treatment: blinded." in response.text
    assert "Demo trial: SYNTHETIC, invented subjects. Not patient data" in response.text
    assert all(label not in response.text for label in LABELS.values())


def test_every_missing_answer_is_shown_at_once_and_what_was_typed_is_kept(
    trial_login: Login, new_subject: str
) -> None:
    client = trial_login("site-b")
    form = client.get(f"/subjects/{new_subject}/randomize")
    response = client.post(f"/subjects/{new_subject}/randomize", data={
        "csrf": csrf_of(form.text), "site": "SITE2", "randomized_on": "8/9/2025"})  # fmt: skip
    assert response.status_code == 400
    assert 'data-field="smoking"' in response.text
    assert 'data-field="randomized_on"' in response.text
    assert 'value="SITE2" checked' in response.text and 'value="8/9/2025"' in response.text


def test_randomizing_again_is_refused_in_words(trial_login: Login) -> None:
    client = trial_login("investigator")
    form = client.get("/subjects/T001/randomize")
    assert "was randomized on" in form.text and "An allocation is final." in form.text
    api = client.post("/api/v1/subjects/T001/randomization",
                      json={"strata": {"site": "SITE1", "smoking": "ever"}},
                      headers={"X-CSRF-Token": csrf_of(client.get("/").text)})  # fmt: skip
    assert api.status_code == 409
    assert api.json()["error"] == "randomization_refused"
    assert "an allocation is final" in api.json()["detail"]


def test_the_api_gives_blinded_roles_the_kit_and_unblinded_roles_the_arm(
    trial_login: Login, trial_store: Store
) -> None:
    blinded = trial_login("statistician").get("/api/v1/subjects/T002/randomization").json()
    assert blinded["randomized"] and blinded["kit"] and "arm" not in blinded
    unblinded = trial_login("dmc").get("/api/v1/subjects/T002/randomization")
    assert unblinded.json()["arm"] == subject_arm(trial_store, "T002")
    assert unblinded.headers["cache-control"] == "no-store"


def test_emergency_unblinding_asks_again_for_the_password_and_is_listed_without_the_arm(
    trial_login: Login, trial_store: Store
) -> None:
    client = trial_login("investigator")
    form = client.get("/subjects/T003/unblind")
    wrong = client.post("/subjects/T003/unblind", data={
        "csrf": csrf_of(form.text), "reason": "suspected anaphylaxis", "password": "nope"})  # fmt: skip
    assert wrong.status_code == 400 and 'data-field="password"' in wrong.text
    assert "suspected anaphylaxis" in wrong.text  # the reason is kept
    shown = client.post("/subjects/T003/unblind", data={
        "csrf": csrf_of(form.text), "reason": "suspected anaphylaxis",
        "password": "pustula-demo"})  # fmt: skip
    arm = subject_arm(trial_store, "T003")
    assert shown.status_code == 200 and LABELS[arm or ""] in shown.text
    assert shown.headers["cache-control"] == "no-store"
    page = client.get("/subjects/T003")
    assert "Unblinded in an emergency on" in page.text
    assert LABELS[arm or ""] not in page.text  # shown once, not on the casebook
    log = trial_login("monitor").get("/unblindings")
    assert "T003" in log.text and "suspected anaphylaxis" in log.text and "investigator" in log.text
    assert all(label not in log.text for label in LABELS.values())


def test_data_entered_after_an_unblinding_are_marked(
    trial_login: Login, trial_store: Store
) -> None:
    from pustula.store.services.clinical import add_subject_record
    from pustula.store.services.trial import emergency_unblind

    emergency_unblind(trial_store, "investigator", password="pustula-demo", code="T004",
                      reason="overdose")  # fmt: skip
    add_subject_record(trial_store, "investigator", "lab", "T004", {
        "test": "neutrophils", "value": 3000, "unit": "/mm3",
        "sample_date": date(2025, 6, 1)})  # fmt: skip
    page = trial_login("investigator").get("/subjects/T004")
    assert page.text.count("collected after unblinding") == 1


def test_the_unblinded_statistician_sees_the_list_reproduced_from_its_seed(
    trial_login: Login, trial_store: Store
) -> None:
    client = trial_login("unblinded-stat")
    page = client.get("/randomization")
    assert "Yes: every slot as generated" in page.text
    assert page.text.count(LABELS["TOFA5"]) > page.text.count(LABELS["PLCB"]) > 0
    assert "T001" in page.text and page.headers["cache-control"] == "no-store"
    csv_text = client.get("/randomization/list.csv").text
    assert (
        csv_text.splitlines()[0]
        == "stratum,position,block,block_size,arm,kit,subject,randomized_on"
    )
    assert len(csv_text.splitlines()) == 1 + 240
    again = client.post("/randomization", data={"csrf": csrf_of(page.text), "seed": ""})
    assert again.status_code == 400 and "a list is final" in again.text


def test_the_trial_report_says_its_subjects_are_invented(trial_login: Login) -> None:
    report = trial_login("statistician").get("/report").text
    assert "SYNTHETIC: invented subjects of a demo trial" in report
    assert "chosen to reproduce the published aggregates" not in report
