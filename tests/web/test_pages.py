"""Pages as a user meets them: sign-in, visit entry, errors, edits with reasons, history."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.scoring import compute_pppasi
from pustula.store import Store
from tests.store.helpers import pppasi
from tests.web.conftest import csrf_of


def test_sign_in_sets_a_safe_cookie_and_wrong_passwords_are_limited(app: FastAPI) -> None:
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        bad = client.post("/login", data={"username": "monitor", "password": "nope", "csrf": token})
        assert bad.status_code == 401
        assert "Unknown user name or wrong password." in bad.text
    blocked = client.post(
        "/login", data={"username": "monitor", "password": "pustula-demo", "csrf": token}
    )
    assert blocked.status_code == 429
    other = TestClient(app, client=("10.0.0.9", 5000))
    ok = other.post(
        "/login",
        data={
            "username": "investigator",
            "password": "pustula-demo",
            "csrf": csrf_of(other.get("/login").text),
        },
        follow_redirects=False,
    )
    cookie = ok.headers["set-cookie"].lower()
    assert ok.status_code == 303
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_login_without_the_form_token_is_refused(app: FastAPI) -> None:
    client = TestClient(app)
    client.get("/login")
    response = client.post(
        "/login", data={"username": "admin", "password": "pustula-demo", "csrf": "forged"}
    )
    assert response.status_code == 403


def _visit_form(items: dict[str, object], csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "visit_code": "W2", "visit_date": "2024-03-18", "pga": "2",
            **{k: str(v) for k, v in items.items()}, **extra}  # fmt: skip


def test_a_visit_entered_in_the_form_is_scored_on_the_server(
    login: Callable[[str], TestClient],
) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/S01").text)
    # S01 has W0, W2, W4, W12 in the demo; enrol a new subject first
    client.post("/subjects", data={
        "csrf": csrf, "code": "N01", "site": "SITE1", "screened_on": "2024-05-01", "age": "40", "sex": "female",
        "disease_duration_months": "12", "eraspen_ppp": "yes", "smoking": "never",
        "prior_0_drug": "clobetasol", "prior_0_category": "topical", "prior_0_response": "none",
        "prior_1_drug": "acitretin", "prior_1_category": "systemic", "prior_1_response": "none",
        "lab_lymphocytes": "2000", "lab_neutrophils": "4000", "lab_haemoglobin": "13", "tuberculosis": "negative",
        "hepatitis": "negative"})  # fmt: skip
    items = pppasi(e=2, p=3, d=1, area=25)
    saved = client.post("/subjects/N01/visits", data=_visit_form(items, csrf, visit_code="W0", visit_date="2024-05-02"),
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    page = client.get("/subjects/N01").text
    expected = compute_pppasi({r: {"erythema": 2, "pustules": 3, "desquamation": 1, "area_pct": 25}
                               for r in ("right_palm", "left_palm", "right_sole", "left_sole")})  # fmt: skip
    # (2+3+1) x area score 2 (25 %) x 1.0 = 12.0
    assert expected.display_total == "12.0"
    assert '<strong class="score">12.0</strong>' in page


def test_bad_values_are_shown_next_to_the_field_and_kept(
    login: Callable[[str], TestClient],
) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/").text)
    before = client.get("/subjects/S01").text
    items = pppasi() | {"left_sole_pustules": 7, "right_palm_area_pct": 140}
    response = client.post("/subjects/S01/visits", data=_visit_form(items, csrf, visit_code="W2"))
    assert response.status_code == 400
    assert (
        'data-field="left_sole_pustules">must be a whole number from 0 to 4; got 7<'
        in response.text
    )
    assert 'data-field="right_palm_area_pct">' in response.text
    assert (
        'name="right_palm_area_pct" id="right_palm_area_pct" type="number" min="0" max="100" step="1" value="140"'
        in response.text
    )
    assert client.get("/subjects/S01").text == before  # nothing saved


def test_an_edit_needs_a_reason_and_shows_in_the_history(
    login: Callable[[str], TestClient],
) -> None:
    client = login("investigator")
    form_page = client.get("/subjects/S01/assessments/1/edit").text
    csrf = csrf_of(form_page)
    fields = {f"{r}_{s}": "1" for r in ("right_palm", "left_palm", "right_sole", "left_sole")
              for s in ("erythema", "pustules", "desquamation")} | {
        f"{r}_area_pct": "5" for r in ("right_palm", "left_palm", "right_sole", "left_sole")}  # fmt: skip
    missing = client.post(
        "/subjects/S01/assessments/1/edit", data={"csrf": csrf, "version": "1", **fields}
    )
    assert missing.status_code == 400
    assert "say why the saved value is changed" in missing.text
    done = client.post("/subjects/S01/assessments/1/edit",
                       data={"csrf": csrf, "version": "1", "reason": "source document re-read", **fields},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    history = client.get("/history/assessment/1").text
    # every region (1+1+1) x area score 1 x weights summing to 1.0 = 3.0; it was 26.1
    assert "Total score: 26.1 → 3.0" in history  # field-level, labelled, never JSON
    assert "{" not in history.split("<main")[1]
    assert "source document re-read" in history and "investigator" in history
    stale = client.post("/subjects/S01/assessments/1/edit",
                        data={"csrf": csrf, "version": "1", "reason": "again", **fields})  # fmt: skip
    assert stale.status_code == 400
    assert "was changed by someone else" in stale.text


def test_the_demo_is_labelled_synthetic_and_the_pdf_downloads(
    login: Callable[[str], TestClient],
) -> None:
    client = login("statistician")
    assert "SYNTHETIC data" in client.get("/").text
    pdf = client.get("/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_an_ae_form_error_keeps_the_entries(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    csrf = csrf_of(client.get("/").text)
    response = client.post("/subjects/S01/ae/new", data={
        "csrf": csrf, "term": "Herpes zoster", "start_date": "2024-04-01", "grade": "2", "serious": "yes",
        "relatedness": "possible", "action_taken": "interrupted", "outcome": "recovering",
        "worsened_on_treatment": "no"})  # fmt: skip
    assert response.status_code == 400
    assert (
        'data-field="serious_criteria">a serious event needs at least one seriousness criterion<'
        in response.text
    )
    assert 'value="Herpes zoster"' in response.text


def test_cdisc_and_odm_download_as_checked_packages(
    login: Callable[[str], TestClient], tmp_path: Path
) -> None:
    import io
    import zipfile

    from pustula.interop.cdisc_check import check_folder
    from pustula.interop.odm import validate_odm
    from pustula.interop.xpt import read_xpt

    client = login("statistician")
    for standard in ("sdtm", "adam"):
        response = client.get(f"/downloads/{standard}.zip")
        assert response.status_code == 200
        zipfile.ZipFile(io.BytesIO(response.content)).extractall(tmp_path / standard)
        assert check_folder(tmp_path / standard) == []
    dm, _, _ = read_xpt(tmp_path / "sdtm" / "dm.xpt")
    assert list(dm["SUBJID"]) == ["S01", "S02", "S03", "S04", "S05", "S06"]
    odm = client.get("/downloads/odm.xml")
    (tmp_path / "odm.xml").write_bytes(odm.content)
    validate_odm(tmp_path / "odm.xml")
    assert b'SubjectKey="S06"' in odm.content


def test_the_evidence_page_calculates_and_explains_bad_input(
    login: Callable[[str], TestClient],
) -> None:
    client = login("monitor")
    simon = client.get("/evidence", params={"tool": "simon", "p0": "0.05", "p1": "0.25",
                                            "alpha": "0.05", "power": "0.8"})  # fmt: skip
    assert simon.status_code == 200
    assert "<td>0 of 9</td><td>2 of 17</td><td>11.96</td>" in simon.text  # Simon 1989
    bad = client.get("/evidence", params={"tool": "two-arm", "p1": "0.3", "p2": "",
                                          "alpha": "five", "power": "0.8"})  # fmt: skip
    assert bad.status_code == 400
    assert 'data-field="p2">is required<' in bad.text
    assert 'data-field="alpha">enter a number<' in bad.text
    assert 'value="five"' in bad.text  # the input is kept
    wrong = client.get("/evidence", params={"tool": "simon", "p0": "0.4", "p1": "0.2",
                                            "alpha": "0.05", "power": "0.8"})  # fmt: skip
    assert wrong.status_code == 400 and "0 &lt; p0 &lt; p1 &lt; 1" in wrong.text
    assert "Traceback" not in wrong.text


def test_the_evidence_page_pools_one_stratum_and_refuses_mixing(
    login: Callable[[str], TestClient],
) -> None:
    client = login("statistician")
    query = {"tool": "published", "index": "PPPASI", "cutoff": "50", "week_from": "12",
             "week_to": "24", "designs": ["rct", "single_arm"], "measure": "PLO"}  # fmt: skip
    refused = client.get("/evidence", params=query)
    assert refused.status_code == 400 and "not pooled" in refused.text
    pooled = client.get("/evidence", params=query | {"mixed": "yes"})
    assert pooled.status_code == 200
    assert "<svg" in pooled.text and "k = 4" in pooled.text
    assert "Left out: row 2a (no responder count (unverified))" in pooled.text
    assert "Leave one out" in pooled.text and "cannot tell asymmetry from chance" in pooled.text
    grouped = client.get("/evidence", params=query | {"mixed": "yes", "by": "drug_class"})
    assert "Test of subgroup difference" in grouped.text and "IL-23:" in grouped.text


def test_the_predictive_tool_gives_boundaries_and_operating_characteristics(
    login: Callable[[str], TestClient],
) -> None:
    client = login("statistician")
    page = client.get("/evidence", params={
        "tool": "predictive", "a": "0.6", "b": "0.4", "responses": "16", "n": "23",
        "nmax": "40", "p0": "0.6", "theta_t": "0.9", "theta_l": "0.05", "p1": "0.8"})  # fmt: skip
    assert page.status_code == 200
    assert "<strong>0.5656</strong>" in page.text  # Lee & Liu's worked example
    assert "<tr><td>10</td><td>4</td></tr>" in page.text
    assert "True response rate 0.8: declared a success in" in page.text


def test_the_zip_downloads_hold_their_files(login: Callable[[str], TestClient]) -> None:
    import io
    import zipfile

    client = login("statistician")
    redcap = zipfile.ZipFile(io.BytesIO(client.get("/downloads/redcap-dictionary.zip").content))
    assert sorted(redcap.namelist()) == [
        "data_dictionary.csv", "events.csv", "instrument_events.csv"]  # fmt: skip
    assert redcap.read("data_dictionary.csv").decode().startswith("Variable / Field Name,")
    tidy = client.get("/downloads/tidy-csv.zip")
    assert tidy.headers["content-disposition"] == 'attachment; filename="TOFA-PPP-tidy-csv.zip"'
    assert "codebook.csv" in zipfile.ZipFile(io.BytesIO(tidy.content)).namelist()


def test_an_imported_record_shows_its_imported_values_and_the_import_in_words(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    """One audit entry per imported casebook; each record's history still starts with
    the values it was created with, and the audit trail names what the import created."""
    from pustula.interop.redcap_records import export_records, parse_records
    from pustula.store.services.clinical import casebooks, import_subjects, study_protocol

    protocol = study_protocol(web_store)
    text = export_records([b for b in casebooks(web_store) if b.subject.code == "S01"], protocol)
    subjects = parse_records(text.replace("S01,", "S99,"), protocol)
    import_subjects(web_store, "data manager", subjects, reason="REDCap migration")
    visit = next(
        v for b in casebooks(web_store) if b.subject.code == "S99" for v in b.records.visit
    )
    client = login("investigator")
    history = client.get(f"/history/visit/{visit.id}").text.split("<main")[1]
    assert "Created" in history and "REDCap migration" in history and "data manager" in history
    assert visit.visit_date.isoformat() in history
    assert "{" not in history  # values in words, never the stored JSON
    label = protocol.visit(visit.visit_code).label  # the visit as the protocol names it
    assert f"<li>Visit: {label}</li>" in history and f"Visit: {visit.visit_code}<" not in history
    assert f"Visit {visit.id}<" not in history  # nor the database's number for it
    trail = login("monitor").get("/audit", params={"subject": "S99"}).text.split("<main")[1]
    assert "Imported with its casebook" in trail
    assert "Visit: 4 created" in trail and "Assessment: 8 created" in trail


def test_an_adverse_events_coding_is_completed_on_its_own_form_and_closes_its_query(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    from datetime import date

    from pustula.store.services.clinical import add_subject_record
    from pustula.store.services.monitoring import search_queries

    def coding_queries() -> list[tuple[int, str]]:
        rows = search_queries(web_store, sites=None, subject="S05", today=date(2024, 9, 1))
        return [(r.query.id, r.query.state) for r in rows if r.query.rule == "ae_coding"]

    soc = "Skin and subcutaneous tissue disorders"
    ae = add_subject_record(web_store, "coder", "ae", "S05", {
        "term": "Itchy rash", "meddra_soc": soc, "start_date": date(2024, 5, 2), "grade": 1,
        "relatedness": "unlikely", "action_taken": "none", "outcome": "not_recovered"})  # fmt: skip
    [(query, state)] = coding_queries()
    assert state == "open"
    client = login("site-b")  # data entry at S05's site answers it
    form_url = f"/subjects/S05/ae/{ae.id}/coding?query={query}"
    page = client.get(f"/queries/{query}").text
    assert form_url in page  # "Correct the value" leads here
    # the event as the casebook shows it, not the database's number for it
    named = 'Adverse event: Itchy rash, from <span class="date">2024-05-02</span>'  # one line
    assert named in page and f"Adverse event {ae.id}" not in page
    assert named in client.get("/queries", params={"subject": "S05"}).text
    csv_text = client.get("/queries.csv", params={"subject": "S05"}).text
    assert "Adverse event: Itchy rash, from 2024-05-02" in csv_text
    assert f"/subjects/S05/ae/{ae.id}/coding" in client.get("/subjects/S05").text
    form = client.get(form_url).text
    assert f'value="{soc}"' in form  # the coding so far, to complete
    coded = {"csrf": csrf_of(form), "meddra_soc": soc, "meddra_soc_code": "10040785"}
    no_reason = client.post(form_url, data=coded)
    assert no_reason.status_code == 400 and 'value="10040785"' in no_reason.text
    assert 'data-field="reason">is required<' in no_reason.text
    done = client.post(form_url, data=coded | {"reason": "coded, MedDRA 27.1"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    assert coding_queries() == [(query, "closed")]
    history = client.get(f"/history/adverse_event/{ae.id}").text
    assert "MedDRA SOC code" in history and "10040785" in history
    assert f"<h1>History <small>{named}</small></h1>" in history
    monitor = login("monitor")
    trail = monitor.get("/audit", params={"subject": "S05"}).text
    assert named in trail and '<td data-label="Subject"><a href="/subjects/S05">S05</a>' in trail
    exported = list(csv.DictReader(io.StringIO(monitor.get("/audit.csv").text)))
    coded = [r for r in exported if r["table"] == "adverse_event" and r["record"] == str(ae.id)]
    assert {(r["subject"], r["record_name"]) for r in coded} == {
        ("S05", "Adverse event: Itchy rash, from 2024-05-02")}  # fmt: skip
    assert any("MedDRA SOC code: 10040785" in r["change"] for r in coded)
    assert "Itchy rash" in client.get("/subjects/S05").text  # the reported term unchanged


def test_safety_is_followed_after_withdrawal_and_the_query_page_agrees_with_the_forms(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    """ICH E2A: an adverse event is followed to its resolution after the subject stops
    study drug or withdraws; late events, safety labs and medications are still recorded,
    marked as after the last dose or the end of study. Visits and study drug are closed."""
    from datetime import date

    from pustula.store.services.changes import end_participation
    from pustula.store.services.clinical import add_subject_record
    from pustula.store.services.monitoring import raise_query

    ae = add_subject_record(web_store, "coder", "ae", "S05", {
        "term": "Itchy rash", "meddra_soc": "Skin and subcutaneous tissue disorders",
        "start_date": date(2024, 5, 2), "grade": 1, "relatedness": "unlikely",
        "action_taken": "none", "outcome": "not_recovered"})  # fmt: skip
    grade = raise_query(web_store, "monitor", "S05", table="adverse_event", record_id=ae.id,
                        field="grade", text="The source says grade 2")  # fmt: skip
    end_participation(web_store, "investigator", "S05", outcome="withdrawn",
                      ended_on=date(2024, 9, 1), reason="moved away")  # fmt: skip
    # the demo's S05 took its last dose on 2024-08-12
    client = login("site-b")
    timeline = client.get("/subjects/S05").text
    assert f"/subjects/S05/ae/{ae.id}/follow-up" in timeline
    assert "/subjects/S05/ae/new" in timeline and "/subjects/S05/labs/new" in timeline
    assert "/subjects/S05/visits/new" not in timeline  # efficacy is closed
    assert "no more visits or study drug" in timeline
    # the query's correction opens the same follow-up the subject's page offers
    page = client.get(f"/queries/{grade.id}").text
    assert f"/subjects/S05/ae/{ae.id}/follow-up?query={grade.id}" in page
    form = client.get(f"/subjects/S05/ae/{ae.id}/follow-up?query={grade.id}")
    assert form.status_code == 200
    saved = client.post(f"/subjects/S05/ae/{ae.id}/follow-up?query={grade.id}", data={
        "csrf": csrf_of(form.text), "end_date": "2024-09-20", "outcome": "recovered",
        "grade": "2", "serious": "no", "action_taken": "none",
        "reason": "followed to resolution after withdrawal"}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    # a late event and a safety lab: between the last dose and the end, and after the end
    new = client.get("/subjects/S05/ae/new")
    assert client.post("/subjects/S05/ae/new", data={
        "csrf": csrf_of(new.text), "term": "Herpes zoster", "start_date": "2024-08-20",
        "grade": "2", "serious": "no", "relatedness": "possible", "action_taken": "not_applicable",
        "outcome": "recovering", "worsened_on_treatment": "no"},
        follow_redirects=False).status_code == 303  # fmt: skip
    lab = client.get("/subjects/S05/labs/new")
    assert client.post("/subjects/S05/labs/new", data={
        "csrf": csrf_of(lab.text), "test": "alt", "value": "30", "unit": "U/L",
        "sample_date": "2024-09-05"}, follow_redirects=False).status_code == 303  # fmt: skip
    timeline = client.get("/subjects/S05").text
    assert "Recovered" in timeline
    assert 'Herpes zoster <small class="after-end">after the last dose</small>' in timeline
    assert (
        '<td>2024-09-05</td><th scope="row">ALT <small class="after-end">after the end of '
        "study</small>"
    ) in timeline
    assert 'Itchy rash <small class="after-end">' not in timeline  # before the last dose
    # study drug stays closed, and the query page says so instead of linking to a refusal
    exposure = next(e.id for e in _timeline_of(web_store, "S05").exposure)
    stop = raise_query(web_store, "monitor", "S05", table="exposure", record_id=exposure,
                       field="end_date", text="Last dose 2024-07-19 in the diary?")  # fmt: skip
    page = client.get(f"/queries/{stop.id}").text
    assert "Correct the value" not in page
    assert "Stop study drug is not possible: the subject is withdrawn or discontinued." in page
    assert client.get(f"/subjects/S05/exposure/{exposure}/stop").status_code == 409


def _timeline_of(store: Store, code: str) -> Any:
    from pustula.store import get_study, get_subject
    from pustula.store.monitoring.queries import subject_timeline

    with store.reader() as session:
        subject = get_subject(session, get_study(session), code)
    with store.read_connection() as connection:
        return subject_timeline(connection, subject)


def test_the_screening_result_reads_as_a_clinician_reads_it(
    login: Callable[[str], TestClient],
) -> None:
    """An exclusion that does not apply is not "Met" (to a clinician that means excluded),
    and a screen marked not done says so instead of "not recorded yet"."""
    client = login("investigator")
    csrf = csrf_of(client.get("/subjects/new").text)
    page = client.post("/subjects", data={
        "csrf": csrf, "code": "N02", "site": "SITE1", "screened_on": "2024-05-01", "age": "40",
        "sex": "female", "disease_duration_months": "12", "eraspen_ppp": "yes",
        "smoking": "never", "prior_0_drug": "clobetasol", "prior_0_category": "topical",
        "prior_0_response": "none", "prior_1_drug": "acitretin", "prior_1_category": "systemic",
        "prior_1_response": "none", "lab_lymphocytes": "2000", "lab_neutrophils": "4000",
        "lab_haemoglobin": "13", "tuberculosis": "not_done", "hepatitis": "negative"}).text  # fmt: skip
    rows = dict(re.findall(r'<th scope="row">(\w+) \(\w+\)[^<]*</th><td>([^<]*)</td>', page))
    assert rows["I1"] == "Met"
    assert rows["E1"] == "Does not apply"  # lymphocytes 2000: the exclusion does not apply
    assert rows["E4"] == "Not evaluable yet"
    assert "Tuberculosis screen was not done" in page
    assert "not recorded yet" not in page
