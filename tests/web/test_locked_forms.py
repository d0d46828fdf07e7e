"""A form refused by a lock says so on the form itself (423), with every entry kept: the
screening, query, deviation, signature and randomization forms, like the casebook's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from pustula.demo import DEMO_PASSWORD
from pustula.store import Store
from pustula.store.services import monitoring as monitor
from pustula.store.services.clinical import enrol
from tests.store.helpers import BASELINE, LABS, PRIOR
from tests.web.conftest import csrf_of
from tests.web.test_study_drug import ENROL

Login = Callable[[str], TestClient]
LOCKED = "The study is locked for analysis"


def _refused_on_the_form(answer: object, *kept: str) -> None:
    text = answer.text  # type: ignore[attr-defined]
    assert answer.status_code == 423, text[:300]  # type: ignore[attr-defined]
    summary = text[text.index('id="error-summary"') :][:600]
    assert LOCKED in summary and "Your entries are kept below" in summary
    for value in kept:
        assert value in text, value
    assert "Traceback" not in text


def _lock(store: Store) -> None:
    monitor.lock(store, "admin", reason="database lock for the final analysis")


def test_screening_a_subject_in_a_locked_study_keeps_the_entries(
    login: Login, web_store: Store
) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/new").text)
    _lock(web_store)
    answer = client.post("/subjects", data={**ENROL, "csrf": csrf, "code": "K01"})
    _refused_on_the_form(answer, 'value="K01"', 'value="clobetasol"')


def test_a_query_and_a_deviation_on_a_locked_study_keep_their_text(
    login: Login, web_store: Store
) -> None:
    monitor_client = login("monitor")
    csrf = csrf_of(monitor_client.get("/subjects/S01/queries/new?table=lab&record=1").text)
    _lock(web_store)
    answer = monitor_client.post("/subjects/S01/queries", data={"table": "lab", "record": "1",
        "csrf": csrf, "text": "Please check the source for this ALT."})  # fmt: skip
    _refused_on_the_form(answer, "Please check the source for this ALT.")
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/S01/deviations").text)
    answer = client.post("/subjects/S01/deviations", data={
        "csrf": csrf, "category": "visit out of window", "occurred_on": "2024-05-01",
        "description": "Week 4 visit five days late"})  # fmt: skip
    _refused_on_the_form(answer, "Week 4 visit five days late", 'value="2024-05-01"')


def test_signing_a_locked_casebook_is_refused_on_the_form(login: Login, web_store: Store) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/S01/sign").text)
    _lock(web_store)
    answer = client.post("/subjects/S01/sign", data={
        "csrf": csrf, "meaning": "I approve the data in this casebook",
        "username": "investigator", "password": DEMO_PASSWORD})  # fmt: skip
    _refused_on_the_form(answer, 'value="investigator"')


def test_randomizing_in_a_locked_trial_keeps_the_confirmed_strata(
    trial_login: Login, trial_store: Store
) -> None:
    enrol(trial_store, "site-b", {"code": "N001", "site": "SITE2", "screened_on": date(2025, 9, 1),
                                  "baseline": {**BASELINE, "smoking": "former"},
                                  "prior_therapies": PRIOR, "screening_labs": LABS})  # fmt: skip
    client = trial_login("site-b")
    csrf = csrf_of(client.get("/subjects/N001/randomize").text)
    _lock(trial_store)
    answer = client.post("/subjects/N001/randomize", data={
        "csrf": csrf, "site": "SITE2", "smoking": "ever", "randomized_on": "2025-09-08"})  # fmt: skip
    _refused_on_the_form(answer, 'value="2025-09-08"', 'value="ever" checked')
