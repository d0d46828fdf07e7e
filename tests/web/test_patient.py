"""Patient entry in the web app: the study team invites, the patient answers on their own
page (no account, no name, no subject code), the answers are the patient's own and no staff
write path changes them; links die after use, expiry or a lock; guesses are rate-limited;
the page speaks the invitation's language."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pustula.store import Store
from pustula.store.db.models import Assessment, Subject, Visit
from pustula.store.services import monitoring as monitor
from pustula.web.patient import HidePatientLinks
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]
ANSWERS = {"itch_nrs": "7", "pain_nrs": "4", "dlqi_q1": "3", "dlqi_q2": "2", "dlqi_q3": "1",
           "dlqi_q4": "0", "dlqi_q5": "not_relevant", "dlqi_q6": "1", "dlqi_q7": "yes",
           "dlqi_q8": "0", "dlqi_q9": "0", "dlqi_q10": "1"}  # fmt: skip
#: the DLQI of ANSWERS by hand: 3 + 2 + 1 + 0 + 0 + 1 + 3 + 0 + 0 + 1
DLQI_TOTAL = 11


def _visit(store: Store, code: str = "S05", visit: str = "W4") -> int:
    with store.reader() as session:
        return session.scalars(select(Visit.id).join(Subject, Subject.id == Visit.subject_id)
                               .where(Subject.code == code, Visit.visit_code == visit)).one()  # fmt: skip


def _invite(client: TestClient, visit_id: int, code: str = "S05", **choices: str) -> str:
    form = client.get(f"/subjects/{code}/visits/{visit_id}/invite").text
    page = client.post(f"/subjects/{code}/visits/{visit_id}/invite", data={
        "csrf": csrf_of(form), "kind": "link", "language": "en", "hours": "24", **choices})  # fmt: skip
    assert page.status_code == 200, page.text[:400]
    link = re.search(r'id="patient-link"[^>]*>([^<]+)</a>', page.text)
    assert link and "<svg" in page.text  # the QR code beside the link
    return link.group(1).split("/p/")[1]


def test_the_invitation_form_presets_nothing_and_the_link_comes_with_its_qr_code(
    login: Login, web_store: Store
) -> None:
    import segno

    client = login("site-b")
    form = client.get(f"/subjects/S05/visits/{_visit(web_store)}/invite").text
    assert " checked" not in form
    token = _invite(client, _visit(web_store))
    page = client.get(f"/subjects/S05/visits/{_visit(web_store)}/invite")  # a new one each time
    assert page.status_code == 200 and len(token) >= 43
    # the QR code is segno's own encoding of exactly this link
    invitation = client.post(f"/subjects/S05/visits/{_visit(web_store)}/invite", data={
        "csrf": csrf_of(page.text), "kind": "link", "language": "en", "hours": "1"}).text  # fmt: skip
    link = re.search(r'id="patient-link"[^>]*>([^<]+)</a>', invitation)
    assert link
    expected = segno.make(link.group(1), error="m", micro=False)
    assert expected.svg_inline(scale=5, border=4, dark="#000", light="#fff",
                               omitsize=True) in invitation  # fmt: skip


def test_the_patient_answers_and_the_team_sees_the_scored_answers_as_the_patients(
    login: Login, web_store: Store
) -> None:
    visit_id = _visit(web_store)
    token = _invite(login("site-b"), visit_id)
    patient = TestClient(login("site-b").app)  # no session: a patient's phone
    page = patient.get(f"/p/{token}")
    assert page.status_code == 200 and "Week 4" in page.text
    assert "S05" not in page.text and "SITE2" not in page.text  # no code, no site, no name
    assert 'name="dlqi_q10"' in page.text and 'name="itch_nrs"' in page.text
    done = patient.post(f"/p/{token}", data=ANSWERS, headers={"user-agent": "Phone/1.0"})
    assert done.status_code == 200 and "Your answers have been sent" in done.text
    with web_store.reader() as session:
        saved = {a.instrument: a for a in session.scalars(
            select(Assessment).where(Assessment.visit_id == visit_id, Assessment.source == "patient"))}  # fmt: skip
    assert (saved["dlqi"].total, saved["itch_nrs"].total, saved["pain_nrs"].total) == (
        DLQI_TOTAL, 7, 4)  # fmt: skip
    assert saved["dlqi"].device == "Phone/1.0"
    subject = login("investigator").get("/subjects/S05").text
    row = re.search(r'<span class="assessment" data-instrument="dlqi" data-visit="W4">.*?</span><br>',
                    subject, re.S)  # fmt: skip
    assert row and "answered by the patient" in row.group() and 'class="edit"' not in row.group()
    assert patient.get(f"/p/{token}").status_code == 410  # a link works once


def test_missing_answers_are_all_named_at_once_and_the_given_ones_kept(
    login: Login, web_store: Store
) -> None:
    token = _invite(login("site-b"), _visit(web_store))
    patient = TestClient(login("site-b").app)
    partial = {k: v for k, v in ANSWERS.items() if k not in ("pain_nrs", "dlqi_q4", "dlqi_q9")}
    page = patient.post(f"/p/{token}", data=partial)
    assert page.status_code == 400
    summary = page.text[page.text.index('id="error-summary"') :]
    for name in ("Pain", "Question 4", "Question 9"):
        assert name in summary[:1500], name
    assert 'name="itch_nrs" value="7" checked' in page.text
    assert 'name="dlqi_q7" value="yes" checked' in page.text
    assert patient.post(f"/p/{token}", data=ANSWERS).status_code == 200  # not spent before


def test_the_page_speaks_the_invitations_language(login: Login, web_store: Store) -> None:
    token = _invite(login("site-b"), _visit(web_store), language="de")
    page = TestClient(login("site-b").app).get(f"/p/{token}").text
    assert '<html lang="de">' in page
    assert "Meine Antworten senden" in page and "Send my answers" not in page
    assert "Juckende, wunde, schmerzende oder brennende Haut" in page
    assert "SYNTHETISCH" in page  # the demo's notice too


def test_kiosk_mode_signs_the_coordinator_out_before_the_tablet_is_handed_over(
    login: Login, web_store: Store
) -> None:
    client = login("site-b")
    visit_id = _visit(web_store)
    form = client.get(f"/subjects/S05/visits/{visit_id}/invite").text
    answer = client.post(f"/subjects/S05/visits/{visit_id}/invite", follow_redirects=False,
                         data={"csrf": csrf_of(form), "kind": "kiosk", "language": "en"})  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith("/p/")
    assert client.get("/subjects/S05", follow_redirects=False).status_code in (303, 401)
    done = client.post(answer.headers["location"], data=ANSWERS)
    assert "Please give the device back to the study team." in done.text


def test_guessed_replayed_and_locked_links_all_read_the_same_and_guessing_is_limited(
    login: Login, web_store: Store
) -> None:
    patient = TestClient(login("site-b").app)
    gone = patient.get(f"/p/{secrets.token_urlsafe(32)}")
    assert gone.status_code == 410 and "This link cannot be used" in gone.text
    token = _invite(login("site-b"), _visit(web_store))
    monitor.lock(web_store, "admin", reason="database lock")
    locked = patient.get(f"/p/{token}")
    assert locked.status_code == 410 and locked.text == gone.text  # a guess learns nothing
    assert patient.post(f"/p/{token}", data=ANSWERS).status_code == 410
    statuses = [patient.get(f"/p/{secrets.token_urlsafe(32)}").status_code for _ in range(10)]
    assert statuses[-1] == 429 and 410 in statuses  # ten misses in ten minutes, then a pause
    assert "too many attempts" in patient.get("/p/x").text


def test_a_token_writes_only_its_own_visit_whatever_the_form_says(
    login: Login, web_store: Store
) -> None:
    visit_id = _visit(web_store)
    other = _visit(web_store, "S06", "W4")
    token = _invite(login("site-b"), visit_id)
    patient = TestClient(login("site-b").app)
    patient.post(f"/p/{token}", data={**ANSWERS, "visit_id": str(other), "subject": "S06",
                                       "source": "site", "dlqi_q11": "3"})  # fmt: skip
    with web_store.reader() as session:
        written = set(
            session.scalars(select(Assessment.visit_id).where(Assessment.source == "patient"))
        )
        sources = set(
            session.scalars(select(Assessment.source).where(Assessment.visit_id == other))
        )
    assert written == {visit_id} and sources == {"site"}


def test_no_staff_write_path_changes_the_patients_answers(login: Login, web_store: Store) -> None:
    visit_id = _visit(web_store)
    token = _invite(login("site-b"), visit_id)
    TestClient(login("site-b").app).post(f"/p/{token}", data=ANSWERS)
    with web_store.reader() as session:
        itch = session.scalars(select(Assessment).where(
            Assessment.visit_id == visit_id, Assessment.instrument == "itch_nrs")).one()  # fmt: skip
    staff = login("investigator")
    form = staff.get(f"/subjects/S05/assessments/{itch.id}/edit")
    assert form.status_code == 409 and "Answered by the patient" in form.text
    assert 'id="edit-form"' not in form.text
    posted = staff.post(f"/subjects/S05/assessments/{itch.id}/edit", data={
        "csrf": csrf_of(form.text), "itch_nrs": "2", "reason": "patient said 2",
        "version": str(itch.version)})  # fmt: skip
    assert "given by the patient and cannot be changed" in posted.text
    api = staff.put(f"/api/v1/subjects/S05/assessments/{itch.id}", headers={
        "X-CSRF-Token": csrf_of(form.text)}, json={"items": {"itch_nrs": 2},
        "expected_version": itch.version, "reason": "patient said 2"})  # fmt: skip
    assert api.status_code == 409 and "given by the patient" in api.text
    with web_store.reader() as session:
        assert session.get_one(Assessment, itch.id).total == 7
    # what the team can do: mark them not used, with a reason
    page = staff.get(f"/subjects/S05/assessments/{itch.id}/not-used")
    assert staff.post(f"/subjects/S05/assessments/{itch.id}/not-used", data={
        "csrf": csrf_of(page.text), "reason": ""}).status_code == 400  # fmt: skip
    staff.post(f"/subjects/S05/assessments/{itch.id}/not-used", data={
        "csrf": csrf_of(page.text), "reason": "answered by a relative"})  # fmt: skip
    assert "not used in the analysis: answered by a relative" in staff.get("/subjects/S05").text


def test_the_access_log_never_holds_a_patients_token() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/p/SECRET-TOKEN", "1.1", 200), None)  # fmt: skip
    assert HidePatientLinks().filter(record)
    assert "SECRET-TOKEN" not in record.getMessage() and "/p/[patient link]" in record.getMessage()


@pytest.mark.parametrize("body", [b"\xff\xfe", b"itch_nrs=99&pain_nrs=-1", b"dlqi_q7=no"])
def test_hostile_answers_are_refused_without_a_trace(login: Login, web_store: Store,
                                                     body: bytes) -> None:  # fmt: skip
    token = _invite(login("site-b"), _visit(web_store))
    answer = TestClient(login("site-b").app).post(
        f"/p/{token}", content=body,
        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 400 and "Traceback" not in answer.text


def test_the_api_invites_and_marks_not_used(login: Login, web_store: Store) -> None:
    staff = login("investigator")
    csrf = csrf_of(staff.get("/subjects/S05").text)
    visit_id = _visit(web_store)
    made = staff.post(f"/api/v1/subjects/S05/visits/{visit_id}/invitations",
                      headers={"X-CSRF-Token": csrf}, json={"kind": "link", "language": "en",
                                                            "hours": 2})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["instruments"] == ["itch_nrs", "pain_nrs", "dlqi"]
    token = body["link"].split("/p/")[1]
    TestClient(staff.app).post(f"/p/{token}", data=ANSWERS)
    detail = staff.get("/api/v1/subjects/S05").json()
    pain = next(a for v in detail["visits"] for a in v["assessments"]
                if a["instrument"] == "pain_nrs")  # fmt: skip
    assert pain["source"] == "patient" and pain["answered_at"]
    marked = staff.post(f"/api/v1/subjects/S05/assessments/{pain['id']}/not-used",
                        headers={"X-CSRF-Token": csrf},
                        json={"reason": "device shared", "expected_version": pain["version"]})  # fmt: skip
    assert marked.status_code == 204
    detail = staff.get("/api/v1/subjects/S05").json()
    pain = next(a for v in detail["visits"] for a in v["assessments"]
                if a["instrument"] == "pain_nrs")  # fmt: skip
    assert pain["not_used_reason"] == "device shared"


def test_a_visit_whose_questionnaires_are_all_recorded_offers_no_invitation(
    login: Login, web_store: Store
) -> None:
    visit_id = _visit(web_store)
    link = f"/subjects/S05/visits/{visit_id}/invite"
    assert link in login("site-b").get("/subjects/S05").text
    TestClient(login("site-b").app).post(f"/p/{_invite(login('site-b'), visit_id)}", data=ANSWERS)
    assert link not in login("site-b").get("/subjects/S05").text


def test_a_diary_link_asks_todays_itch_and_pain_once_a_day(login: Login, web_store: Store) -> None:
    staff = login("site-b")
    form = staff.get("/subjects/S05/diary/invite")
    assert form.status_code == 200 and " checked" not in form.text
    refused = staff.post("/subjects/S05/diary/invite", data={
        "csrf": csrf_of(form.text), "language": "en", "days": "28", "reminders": "yes"})  # fmt: skip
    assert refused.status_code == 400 and 'id="email-error"' in refused.text
    made = staff.post("/subjects/S05/diary/invite", data={
        "csrf": csrf_of(form.text), "language": "de", "days": "28", "reminders": "no"})  # fmt: skip
    assert made.status_code == 200 and "Your skin diary" in made.text
    link = re.search(r'id="patient-link"[^>]*>([^<]+)</a>', made.text)
    assert link
    token = link.group(1).split("/p/")[1]
    patient = TestClient(staff.app)
    page = patient.get(f"/p/{token}")
    assert "Ihr Hauttagebuch" in page.text and 'name="dlqi_q1"' not in page.text
    missing = patient.post(f"/p/{token}", data={"itch_nrs": "5"})
    assert missing.status_code == 400 and 'id="pain_nrs-error"' in missing.text
    sent = patient.post(f"/p/{token}", data={"itch_nrs": "5", "pain_nrs": "2"})
    assert sent.status_code == 200 and "morgen wieder" in sent.text
    again = patient.get(f"/p/{token}")
    assert again.status_code == 200 and "bereits eingetragen" in again.text
    timeline = staff.get("/subjects/S05").text
    diary = timeline.split('id="diary"')[1].split("</table>")[0]
    assert "<td>5</td><td>2</td>" in diary and "by the patient" in diary


def test_the_api_gives_a_diary_link_and_reads_the_diary(login: Login, web_store: Store) -> None:
    staff = login("investigator")
    csrf = csrf_of(staff.get("/subjects/S05").text)
    refused = staff.post("/api/v1/subjects/S05/diary", headers={"X-CSRF-Token": csrf},
                         json={"language": "en", "days": 14, "reminders": True,
                               "email": "not an address"})  # fmt: skip
    assert refused.status_code == 422 and "e-mail address" in refused.text
    made = staff.post("/api/v1/subjects/S05/diary", headers={"X-CSRF-Token": csrf},
                      json={"language": "en", "days": 14})  # fmt: skip
    assert made.status_code == 201 and made.json()["kind"] == "diary"
    token = made.json()["link"].split("/p/")[1]
    TestClient(staff.app).post(f"/p/{token}", data={"itch_nrs": "8", "pain_nrs": "1"})
    [day] = staff.get("/api/v1/subjects/S05/diary").json()
    assert (day["itch_nrs"], day["pain_nrs"]) == (8, 1)
    marked = staff.post(f"/api/v1/subjects/S05/diary/{day['id']}/not-used",
                        headers={"X-CSRF-Token": csrf},
                        json={"reason": "answered for yesterday", "expected_version": 1})  # fmt: skip
    assert marked.status_code == 204
    [day] = staff.get("/api/v1/subjects/S05/diary").json()
    assert day["not_used_reason"] == "answered for yesterday" and day["itch_nrs"] == 8
    form = staff.get(f"/subjects/S05/diary/{day['id']}/not-used")
    assert form.status_code == 200 and "itch 8, pain 1" in form.text
