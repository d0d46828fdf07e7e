"""Every form x bad values: the error is next to its own field, in words, and what was typed
stays in the form; nothing is saved.

Each case starts from a valid form, breaks one field, and checks the answer page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pustula.store import Store
from pustula.store.db.models import AdverseEvent, Exposure, Lab, Subject, Visit
from pustula.store.services.clinical import add_subject_record
from tests.web.conftest import csrf_of

ENROL = {
    "code": "E01", "site": "SITE1", "screened_on": "2024-09-02", "age": "47", "sex": "female",
    "disease_duration_months": "30", "eraspen_ppp": "yes", "smoking": "former",
    "pack_years": "5", "prior_0_drug": "clobetasol", "prior_0_category": "topical",
    "prior_0_response": "none", "lab_lymphocytes": "1900", "tuberculosis": "negative",
}  # fmt: skip
AE = {"term": "Herpes zoster", "start_date": "2024-04-10", "grade": "2", "serious": "no",
      "relatedness": "possible", "action_taken": "none", "outcome": "recovering",
      "worsened_on_treatment": "no"}  # fmt: skip
FOLLOW_UP = {k: AE[k] for k in ("grade", "serious", "action_taken", "outcome")}
LAB = {"test": "alt", "value": "30", "unit": "U/L", "sample_date": "2024-04-10"}
MED = {"drug": "cetirizine", "indication": "itch", "start_date": "2024-04-01"}
REASON = {"reason": "source document re-read"}
VISIT = {"visit_code": "W0", "visit_date": "2024-09-03", "pga": "3", **{
    f"{r}_{s}": "2" for r in ("right_palm", "left_palm", "right_sole", "left_sole")
    for s in ("erythema", "pustules", "desquamation", "area_pct")}}  # fmt: skip
DOSE = {
    "regimen": "other",
    "dose": "10",
    "unit": "mg",
    "frequency": "twice daily",
    "dose_reason": "investigator decision",
    "from_date": "2024-04-15",
}

# (form path, valid values, field, bad value, the words expected next to the field)
CASES: list[tuple[str, dict[str, str], str, str, str]] = [
    ("/subjects", ENROL, "age", "forty", "enter a number"),
    ("/subjects", ENROL, "age", "", "is required"),
    ("/subjects", ENROL, "age", "130", "must be at most 120"),
    ("/subjects", ENROL, "screened_on", "2024-13-40", "enter a date as YYYY-MM-DD"),
    ("/subjects", ENROL, "code", "Jane Doe", "a subject code is 1 to 40 letters"),
    ("/subjects", ENROL, "disease_duration_months", "-3", "must be at least 0"),
    ("/subjects", ENROL, "lab_lymphocytes", "many", "enter a number"),
    ("/subjects", ENROL, "prior_0_response", "", "is required for each prior therapy"),
    ("/subjects", ENROL | {"smoking": "never"}, "pack_years", "12",
     "pack-years are given for a subject who never smoked"),
    ("/subjects/N01/visits", VISIT, "right_palm_area_pct", "150", "from 0 to 100"),
    ("/subjects/N01/visits", VISIT, "left_sole_pustules", "", "is required"),
    ("/subjects/N01/visits", VISIT, "visit_date", "tomorrow", "enter the visit date"),
    ("/subjects/N01/visits", VISIT | {"dlqi_not_done": "on"}, "dlqi_not_done_reason", "",
     "say why it was not done"),
    ("/subjects/S01/ae/new", AE, "start_date", "yesterday", "enter a date as YYYY-MM-DD"),
    ("/subjects/S01/ae/new", AE, "term", "", "is required"),
    ("/subjects/S01/ae/new", AE, "end_date", "2024-04-01", "before it starts"),
    ("/subjects/S01/ae/new", AE | {"outcome": "recovered"}, "end_date", "",
     "needs its end date"),
    ("/subjects/S01/ae/{ae}/follow-up", {**FOLLOW_UP, **REASON, "outcome": "recovered"},
     "end_date", "", "needs its end date"),
    ("/subjects/S01/ae/{ae}/follow-up", {**FOLLOW_UP, "end_date": "2024-04-20"}, "reason", "",
     "is required"),
    ("/subjects/S01/labs/new", LAB, "value", "thirty", "enter a number"),
    ("/subjects/S01/labs/new", LAB, "value", "-5", "must be from 0"),
    ("/subjects/S01/labs/new", LAB, "sample_date", "", "is required"),
    ("/subjects/S01/labs/{lab}/edit", {**LAB, **REASON}, "upper_limit", "1x", "enter a number"),
    ("/subjects/S01/labs/{lab}/remove", {}, "reason", "", "is required"),
    ("/subjects/S01/conmeds/new", MED, "end_date", "2024-03-01", "before it starts"),
    ("/subjects/S01/conmeds/new", MED, "drug", "", "is required"),
    ("/subjects/S01/conmeds/{med}/edit", {**MED, **REASON}, "indication", "", "is required"),
    ("/subjects/S01/exposure/{exp}/change", {**DOSE, **REASON}, "dose", "ten",
     "enter a number"),
    ("/subjects/S01/exposure/{exp}/change", {**DOSE, **REASON}, "from_date", "2020-01-01",
     "a new dose starts after the current one began"),
    ("/subjects/S01/exposure/{exp}/interrupt", {"start_date": "2024-04-20", "cause": "AE"},
     "end_date", "2024-04-01", "before it starts"),
    ("/subjects/S01/exposure/{exp}/stop", REASON, "end_date", "", "is required"),
    ("/subjects/S01/visits/{visit}/date", REASON, "visit_date", "soon",
     "enter a date as YYYY-MM-DD"),
    ("/subjects/N01/visits/missed", {"visit_code": "W2"}, "notes", "", "is required"),
    ("/subjects/S02/end", {"outcome_kind": "completed", "end_reason": "protocol completed",
                           "last_dose": "2024-06-01"}, "ended_on", "31/12/2024",
     "enter a date as YYYY-MM-DD"),
    ("/subjects/S02/end", {"outcome_kind": "withdrawn", "ended_on": "2024-06-01",
                           "last_dose": "2024-06-01"}, "end_reason", "", "is required"),
]  # fmt: skip


@pytest.fixture
def record_ids(web_store: Store) -> dict[str, int]:
    from pustula.store.services.clinical import enrol

    med = add_subject_record(web_store, "t", "conmed", "S01", MED)
    enrol(web_store, "t", {  # a subject with no visit yet
        "code": "N01", "site": "SITE1", "screened_on": date(2024, 9, 2),
        "baseline": {"age": 40, "sex": "male", "disease_duration_months": 12,
                     "eraspen_ppp": True, "smoking": "never",
                     "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
        "prior_therapies": [{"category": "topical", "drug": "clobetasol", "response": "none"},
                            {"category": "systemic", "drug": "acitretin", "response": "none"}],
        "screening_labs": {"lymphocytes": 1900, "neutrophils": 4000, "haemoglobin": 13.0},
    })  # fmt: skip
    with web_store.reader() as session:
        s01 = session.scalars(select(Subject.id).where(Subject.code == "S01")).one()
        first = {m.__tablename__: session.scalars(
            select(m.id).where(m.subject_id == s01).order_by(m.id)).first()  # type: ignore[attr-defined]
            for m in (AdverseEvent, Lab, Exposure, Visit)}  # fmt: skip
    # the demo's S01 course has ended; a dose change needs an open one
    with web_store.transaction(user="t", reason="test") as tx:
        tx.session.get_one(Exposure, first["exposure"]).end_date = None
    return {"ae": first["adverse_event"] or 0, "lab": first["lab"] or 0, "med": med.id,
            "exp": first["exposure"] or 0, "visit": first["visit"] or 0}  # fmt: skip


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'data-field="{field}">([^<]*)<', html)
    assert match, f"no error next to {field}"
    return match.group(1)


@pytest.mark.parametrize(("path", "valid", "field", "bad", "words"), CASES)
def test_a_bad_value_is_shown_next_to_its_field_and_kept(
    login: Callable[[str], TestClient], record_ids: dict[str, int],
    path: str, valid: dict[str, str], field: str, bad: str, words: str,
) -> None:  # fmt: skip
    client = login("investigator")
    url = path.format(**record_ids)
    form_url = {"/subjects": "/subjects/new", "/subjects/N01/visits": "/subjects/N01/visits/new"
                }.get(url, url)  # fmt: skip
    csrf = csrf_of(client.get(form_url).text)
    before = client.get("/subjects/S01").text
    response = client.post(url, data={**valid, field: bad, "csrf": csrf})
    assert response.status_code == 400, response.text[:500]
    message = _field_error(response.text, field)
    assert words in message
    assert "Input should" not in message  # words, never the validation library's text
    if "_" in field:
        assert field not in message  # the field is named by its label, never its code
    if bad:  # what was typed is in the form again
        assert f'value="{bad}"' in response.text or f">{bad}</textarea>" in response.text
    for name, value in valid.items():
        if name != field and value and "_" not in value:
            assert value in response.text, f"{name} was not kept"
    assert client.get("/subjects/S01").text == before  # nothing saved


def test_every_error_of_a_form_is_shown_at_once(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/new").text)
    response = client.post("/subjects", data={"csrf": csrf, "code": "E02", "age": "x",
                                              "disease_duration_months": "-"})  # fmt: skip
    assert response.status_code == 400
    for field in ("site", "screened_on", "age", "sex", "disease_duration_months",
                  "eraspen_ppp", "smoking"):  # fmt: skip
        assert _field_error(response.text, field)
    assert "Correct these 7 values" in response.text


@pytest.mark.parametrize("missing", [None, "grade"])
def test_an_adverse_events_cross_field_errors_come_with_the_others_at_once(
    login: Callable[[str], TestClient], missing: str | None
) -> None:
    """It ends before it starts, and it is serious without a criterion: both in one answer,
    also while a required field is still empty."""
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/S01/ae/new").text)
    data = {**AE, "start_date": "2024-04-10", "end_date": "2024-04-01", "serious": "yes",
            "outcome": "recovered", "csrf": csrf}  # fmt: skip
    if missing:
        data.pop(missing)
    before = client.get("/subjects/S01").text
    response = client.post("/subjects/S01/ae/new", data=data)
    assert response.status_code == 400
    assert "before it starts" in _field_error(response.text, "end_date")
    assert "at least one seriousness criterion" in _field_error(response.text, "serious_criteria")
    if missing:
        assert _field_error(response.text, missing) == "choose one"
    assert f"Correct these {3 if missing else 2} values" in response.text
    assert client.get("/subjects/S01").text == before  # nothing saved


def test_a_comorbidity_typed_in_words_cannot_happen_and_a_forged_one_is_named(
    login: Callable[[str], TestClient],
) -> None:
    # comorbidities are checkboxes with labels; a value outside the list is refused by name
    client = login("investigator")
    page = client.get("/subjects/new").text
    assert 'value="thyroid_disease"> Thyroid disease' in page
    response = client.post("/subjects", data={**ENROL, "csrf": csrf_of(page),
                                              "comorbidities": "thyroid disease"})  # fmt: skip
    assert _field_error(response.text, "comorbidities") == "choose from the listed options"


def test_no_clinical_choice_starts_filled_in(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    for url in ("/subjects/new", "/subjects/S01/ae/new", "/subjects/S01/visits/new",
                "/subjects/S02/end"):  # fmt: skip
        html = client.get(url).text
        form = html.split("<form", 2)[2]  # the page's form, after the sign-out form
        assert not re.search(r"<input[^>]* checked", form), url
        assert not re.search(r"<option[^>]* selected", form), url
