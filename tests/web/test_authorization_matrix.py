"""Every page and API route x every role: the expected status, written out by hand.

The expected table below is independent of pustula.web.access: if either changes alone,
this test fails. A route the table does not list fails the coverage test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.store import Store
from tests.web.conftest import csrf_of

ALL = frozenset({"investigator", "monitor", "statistician", "site-b", "admin", "unblinded-stat",
                 "dmc"})  # fmt: skip
ENTER = frozenset({"investigator", "site-b", "admin"})
AUDIT = frozenset({"monitor", "admin"})
REPORT = frozenset({"investigator", "statistician", "admin", "unblinded-stat", "dmc"})
EXPORT = frozenset({"statistician", "admin", "unblinded-stat"})
RANDOMIZE = frozenset({"investigator", "site-b", "admin"})  # site staff randomize
UNBLIND = frozenset({"investigator"})  # one subject, in an emergency
ALLOCATION = frozenset({"unblinded-stat"})  # the allocation list and its seed
QUERY = VERIFY = frozenset({"monitor", "admin"})  # the monitor raises, closes and verifies
ANSWER = frozenset({"investigator", "site-b", "admin"})  # site staff answer
SIGN = frozenset({"investigator"})  # the investigator signs
LOCK = frozenset({"admin"})  # the administrator locks
#: photographs: those who care for the subject and the monitor; not statisticians or DMC
PHOTOS = frozenset({"investigator", "site-b", "admin", "monitor"})

# route name -> (method, path, roles allowed). S05 is at SITE2, which every demo account sees.
ROUTES: dict[str, tuple[str, str, frozenset[str]]] = {
    # studies: every account chooses among its own; the server administrator creates them;
    # the study's administrator gives roles in it
    "study_list": ("GET", "/studies", ALL),
    "study_open": ("POST", "/studies/TOFA-PPP/open", ALL),
    "study_new_form": ("GET", "/studies/new", LOCK),
    "study_new_save": ("POST", "/studies/new", LOCK),
    "study_people": ("GET", "/study/people", LOCK),
    "study_grant": ("POST", "/study/people", LOCK),
    "study_revoke": ("POST", "/study/people/site-b/remove", LOCK),
    # the protocol and its versions: all read; the study administrator amends; site staff
    # record a new consent
    "protocol_page": ("GET", "/study/protocol", ALL),
    "protocol_upload": ("POST", "/study/protocol", LOCK),
    "protocol_version": ("GET", "/study/protocol/1.0", ALL),
    "amendment_approve": ("POST", "/study/protocol/1.0/approve", LOCK),
    "amendment_withdraw": ("POST", "/study/protocol/1.0/withdraw", LOCK),
    "consent_list": ("GET", "/study/consent", ALL),
    "consent_save": ("POST", "/study/consent/S05", ENTER),
    "dashboard": ("GET", "/", ALL),
    "subject_list": ("GET", "/subjects", ALL),
    "subject_timeline": ("GET", "/subjects/S05", ALL),
    "enrol_form": ("GET", "/subjects/new", ENTER),
    "enrol_save": ("POST", "/subjects", ENTER),
    "visit_form": ("GET", "/subjects/S05/visits/new", ENTER),
    "visit_save": ("POST", "/subjects/S05/visits", ENTER),
    "assessment_edit_form": ("GET", "/subjects/S05/assessments/{a}/edit", ENTER),
    "assessment_edit_save": ("POST", "/subjects/S05/assessments/{a}/edit", ENTER),
    # each step of a record's life: a form (GET) and its save (POST) on the same path
    **{
        f"{name}_{part}": ("GET" if part == "form" else "POST", f"/subjects/S05/{path}", ENTER)
        for name, path in (
            ("ae_new", "ae/new"),
            ("ae_follow_up", "ae/{ae}/follow-up"),
            ("ae_coding", "ae/{ae}/coding"),
            ("lab_new", "labs/new"),
            ("lab_edit", "labs/{lab}/edit"),
            ("lab_remove", "labs/{lab}/remove"),
            ("conmed_new", "conmeds/new"),
            ("conmed_edit", "conmeds/{med}/edit"),
            ("conmed_remove", "conmeds/{med}/remove"),
            ("dose_start", "exposure/new"),
            ("dose_change", "exposure/{exp}/change"),
            ("dose_interrupt", "exposure/{exp}/interrupt"),
            ("interruption_end", "interruptions/{pause}/end"),
            ("dose_stop", "exposure/{exp}/stop"),
            ("visit_missed", "visits/missed"),
            ("visit_date", "visits/{visit}/date"),
            ("subject_end", "end"),
            ("rescreen", "rescreen"),
        )
        for part in ("form", "save")
    },
    "eligibility_preview": ("POST", "/subjects/eligibility", ENTER),
    "record_history": ("GET", "/history/assessment/{a}", ALL),
    "audit_trail": ("GET", "/audit", AUDIT),
    "audit_csv": ("GET", "/audit.csv", AUDIT),
    "downloads": ("GET", "/downloads", ALL),
    "download_adsl": ("GET", "/downloads/adsl.csv", EXPORT),
    "download_adqs": ("GET", "/downloads/adqs.csv", EXPORT),
    "download_redcap_dictionary": ("GET", "/downloads/redcap-dictionary.zip", ALL),
    "evidence": ("GET", "/evidence?tool=simon&p0=0.05&p1=0.25&alpha=0.05&power=0.8", ALL),
    "download_sdtm": ("GET", "/downloads/sdtm.zip", EXPORT),
    "download_adam": ("GET", "/downloads/adam.zip", EXPORT),
    "download_odm": ("GET", "/downloads/odm.xml", EXPORT),
    **{
        f"download_tidy_{fmt}": ("GET", f"/downloads/tidy-{fmt}.zip", EXPORT)
        for fmt in ("csv", "xlsx", "parquet", "sav", "dta", "xpt")
    },
    "api_docs": ("GET", "/api/docs", ALL),
    "query_list": ("GET", "/queries", ALL),
    "query_csv": ("GET", "/queries.csv", ALL),
    "query_detail": ("GET", "/queries/{query}", ALL),
    "query_answer": ("POST", "/queries/{query}/answer", ANSWER),
    "query_close": ("POST", "/queries/{query}/close", QUERY),
    "query_reopen": ("POST", "/queries/{query}/reopen", QUERY),
    "query_form": ("GET", "/subjects/S05/queries/new?table=lab&record={lab}", QUERY),
    "query_save": ("POST", "/subjects/S05/queries", QUERY),
    "verify_save": ("POST", "/subjects/S05/verify", VERIFY),
    "sdv_page": ("GET", "/sdv", ALL),
    "status_grid": ("GET", "/status", ALL),
    "invite_form": ("GET", "/subjects/S05/visits/{visit}/invite", ENTER),
    "invite_save": ("POST", "/subjects/S05/visits/{visit}/invite", ENTER),
    "diary_form": ("GET", "/subjects/S05/diary/invite", ENTER),
    "diary_save": ("POST", "/subjects/S05/diary/invite", ENTER),
    "api_diary_invite": ("POST", "/api/v1/subjects/S05/diary", ENTER),
    "api_diary": ("GET", "/api/v1/subjects/S05/diary", ALL),
    "diary_not_used_form": ("GET", "/subjects/S05/diary/{day}/not-used", ENTER),
    "diary_not_used_save": ("POST", "/subjects/S05/diary/{day}/not-used", ENTER),
    "api_diary_not_used": ("POST", "/api/v1/subjects/S05/diary/{day}/not-used", ENTER),
    "not_used_form": ("GET", "/subjects/S05/assessments/{a}/not-used", ENTER),
    "not_used_save": ("POST", "/subjects/S05/assessments/{a}/not-used", ENTER),
    "api_invite": ("POST", "/api/v1/subjects/S05/visits/{visit}/invitations", ENTER),
    "api_not_used": ("POST", "/api/v1/subjects/S05/assessments/{a}/not-used", ENTER),
    "photo_visit": ("GET", "/subjects/S05/visits/{visit}/photos", PHOTOS),
    "photo_upload": ("POST", "/subjects/S05/visits/{visit}/photos", ENTER),
    "photo_compare": ("GET", "/subjects/S05/photos?region=right_palm", PHOTOS),
    "photo_image": ("GET", "/subjects/S05/photos/{photo}/image", PHOTOS),
    "photo_thumbnail": ("GET", "/subjects/S05/photos/{photo}/thumbnail", PHOTOS),
    "photo_remove_form": ("GET", "/subjects/S05/photos/{photo}/remove", ENTER),
    "photo_remove_save": ("POST", "/subjects/S05/photos/{photo}/remove", ENTER),
    "api_photos": ("GET", "/api/v1/subjects/S05/photos", PHOTOS),
    "api_photo_upload": ("POST", "/api/v1/subjects/S05/visits/{visit}/photos", ENTER),
    "api_photo_image": ("GET", "/api/v1/subjects/S05/photos/{photo}/image", PHOTOS),
    "api_photo_remove": ("POST", "/api/v1/subjects/S05/photos/{photo}/remove", ENTER),
    "quality_rules": ("GET", "/quality", ALL),
    "quality_define": ("POST", "/quality", QUERY),
    "quality_run": ("GET", "/quality/{rule}", ALL),
    "quality_queries": ("POST", "/quality/{rule}/queries", QUERY),
    "sign_form": ("GET", "/subjects/S05/sign", SIGN),
    "sign_save": ("POST", "/subjects/S05/sign", SIGN),
    "lock_page": ("GET", "/study/lock", ALL),
    "lock_save": ("POST", "/study/lock", LOCK),
    "unlock_save": ("POST", "/study/unlock", LOCK),
    "report_page": ("GET", "/report", REPORT),
    "report_pdf": ("GET", "/report.pdf", REPORT),
    "report_docx": ("GET", "/report.docx", REPORT),
    "randomize_form": ("GET", "/subjects/S05/randomize", RANDOMIZE),
    "randomize_save": ("POST", "/subjects/S05/randomize", RANDOMIZE),
    "unblind_form": ("GET", "/subjects/S05/unblind", UNBLIND),
    "unblind_save": ("POST", "/subjects/S05/unblind", UNBLIND),
    "allocation_page": ("GET", "/randomization", ALLOCATION),
    "allocation_generate": ("POST", "/randomization", ALLOCATION),
    "allocation_csv": ("GET", "/randomization/list.csv", ALLOCATION),
    "unblinding_log": ("GET", "/unblindings", AUDIT),
    "deviation_form": ("GET", "/subjects/S05/deviations", ENTER),
    "deviation_save": ("POST", "/subjects/S05/deviations", ENTER),
    "interim_page": ("GET", "/interim", REPORT),
    "interim_record": ("POST", "/interim", REPORT),
    "dmc_open": ("GET", "/dmc-report", REPORT),
    "dmc_closed": ("GET", "/dmc-report/closed", frozenset({"unblinded-stat", "dmc"})),
    "api_me": ("GET", "/api/v1/me", ALL),
    "api_subjects": ("GET", "/api/v1/subjects", ALL),
    "api_subject": ("GET", "/api/v1/subjects/S05", ALL),
    "api_visit_create": ("POST", "/api/v1/subjects/S05/visits", ENTER),
    "api_assessment_update": ("PUT", "/api/v1/subjects/S05/assessments/{a}", ENTER),
    "api_adverse_events": ("GET", "/api/v1/subjects/S05/adverse-events", ALL),
    "api_adverse_event_create": ("POST", "/api/v1/subjects/S05/adverse-events", ENTER),
    "api_labs": ("GET", "/api/v1/subjects/S05/labs", ALL),
    "api_lab_create": ("POST", "/api/v1/subjects/S05/labs", ENTER),
    "api_history": ("GET", "/api/v1/history/assessment/{a}", ALL),
    "api_endpoints": ("GET", "/api/v1/endpoints", REPORT),
    "api_export": ("GET", "/api/v1/export.zip", EXPORT),
    "api_score": ("POST", "/api/v1/score/pga", ALL),
    "api_exposure_create": ("POST", "/api/v1/subjects/S05/exposures", ENTER),
    "api_dose_change": ("POST", "/api/v1/subjects/S05/exposures/{exp}/dose-change", ENTER),
    "api_interruption_create": (
        "POST",
        "/api/v1/subjects/S05/exposures/{exp}/interruptions",
        ENTER,
    ),
    "api_interruption_end": ("PATCH", "/api/v1/subjects/S05/interruptions/{pause}", ENTER),
    "api_exposure_stop": ("POST", "/api/v1/subjects/S05/exposures/{exp}/stop", ENTER),
    "api_visit_missed": ("POST", "/api/v1/subjects/S05/visits/missed", ENTER),
    "api_visit_date": ("PATCH", "/api/v1/subjects/S05/visits/{visit}", ENTER),
    "api_adverse_event_update": ("PATCH", "/api/v1/subjects/S05/adverse-events/{ae}", ENTER),
    "api_lab_update": ("PATCH", "/api/v1/subjects/S05/labs/{lab}", ENTER),
    "api_lab_remove": ("DELETE", "/api/v1/subjects/S05/labs/{lab}", ENTER),
    "api_conmeds": ("GET", "/api/v1/subjects/S05/conmeds", ALL),
    "api_conmed_create": ("POST", "/api/v1/subjects/S05/conmeds", ENTER),
    "api_conmed_update": ("PATCH", "/api/v1/subjects/S05/conmeds/{med}", ENTER),
    "api_conmed_remove": ("DELETE", "/api/v1/subjects/S05/conmeds/{med}", ENTER),
    "api_rescreen": ("POST", "/api/v1/subjects/S05/rescreen", ENTER),
    "api_withdrawal": ("POST", "/api/v1/subjects/S05/withdrawal", ENTER),
    "api_queries": ("GET", "/api/v1/queries", ALL),
    "api_query_raise": ("POST", "/api/v1/queries", QUERY),
    "api_query_answer": ("POST", "/api/v1/queries/{query}/answer", ANSWER),
    "api_query_close": ("POST", "/api/v1/queries/{query}/close", QUERY),
    "api_query_reopen": ("POST", "/api/v1/queries/{query}/reopen", QUERY),
    "api_signatures": ("GET", "/api/v1/subjects/S05/signatures", ALL),
    "api_sign": ("POST", "/api/v1/subjects/S05/signatures", SIGN),
    "api_lock_status": ("GET", "/api/v1/study/lock", ALL),
    "api_lock": ("POST", "/api/v1/study/lock", LOCK),
    "api_unlock": ("DELETE", "/api/v1/study/lock", LOCK),
    "api_randomization": ("GET", "/api/v1/subjects/S05/randomization", ALL),
    "api_randomize": ("POST", "/api/v1/subjects/S05/randomization", RANDOMIZE),
    "api_unblind": ("POST", "/api/v1/subjects/S05/unblinding", UNBLIND),
    "api_allocation": ("GET", "/api/v1/allocation", ALLOCATION),
    "api_deviations": ("GET", "/api/v1/subjects/S05/deviations", ALL),
    "api_deviation": ("POST", "/api/v1/subjects/S05/deviations", ENTER),
    "api_unblindings": ("GET", "/api/v1/unblindings", AUDIT),
}
# Open to anyone: signing in and out, static files, the API description, and the liveness
# check (which says only that the app is up and its version, and reads no data).
#: No account: the sign-in, health and the patient's pages (their token is the credential,
#: tests/web/test_patient.py)
PUBLIC = {"login_form", "login", "logout", "static", "openapi", "health", "ready", "metrics",
          "patient_form", "patient_save"}  # fmt: skip
# The first assessment of S05 (the demo creates S01..S06 with two assessments per visit).
S05_ASSESSMENT = 4 * 2 * 4 + 1


def _route_names(routes: list[object]) -> set[str]:
    names: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            names |= _route_names(inner.routes)
        elif getattr(route, "name", None):
            names.add(route.name)  # type: ignore[attr-defined]
    return names


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    names = _route_names(list(app.routes)) - PUBLIC
    assert names == set(ROUTES)


@pytest.fixture
def ids(web_store: Store) -> dict[str, int]:
    """Ids of S05's records in the routes' paths; a medication and an interruption added."""
    from sqlalchemy import select

    from pustula.store.db.models import AdverseEvent, Exposure, Lab, Subject, Visit
    from pustula.store.services.changes import interrupt_treatment
    from pustula.store.services.clinical import add_subject_record

    med = add_subject_record(web_store, "t", "conmed", "S05",
                             {"drug": "cetirizine", "indication": "itch"})  # fmt: skip
    with web_store.reader() as session:
        subject = session.scalars(select(Subject).where(Subject.code == "S05")).one()
        first = {m: session.scalars(select(m.id).where(m.subject_id == subject.id)).first()
                 for m in (AdverseEvent, Lab, Exposure, Visit)}  # fmt: skip
    exposure = first[Exposure]
    assert exposure is not None
    pause = interrupt_treatment(web_store, "t", "S05", exposure, start_date=date(2024, 5, 1),
                                end_date=None, cause="holiday")  # fmt: skip
    from pustula.store.services.monitoring import search_queries

    query = search_queries(web_store, sites=None, subject="S05", today=date(2024, 9, 1))[0]
    from pustula.store.services.quality import define_rule

    rule = define_rule(web_store, "t", name="Grade 3 or more", form="adverse_event",
                       condition="grade >= 3", message="Check the grade")  # fmt: skip
    from pustula.store.services.photos import upload_photograph
    from tests.photos import phone_jpeg

    photo = upload_photograph(web_store, "t", "S05", first[Visit] or 0, region="right_palm",
                              data=phone_jpeg())  # fmt: skip
    from pustula.store.services.patient import invite_diary, submit_answers

    diary = invite_diary(web_store, "t", "S05", language="en", days=7)
    [day] = submit_answers(web_store, diary.token, {"itch_nrs": {"itch_nrs": 3},
                                                    "pain_nrs": {"pain_nrs": 1}}, device="t")  # fmt: skip
    return {"day": day, "photo": photo.id, "rule": rule.id, "a": S05_ASSESSMENT, "query": query.query.id, "ae": first[AdverseEvent] or 0, "lab": first[Lab] or 0,
            "med": med.id, "exp": exposure, "pause": pause.id, "visit": first[Visit] or 0}  # fmt: skip


def _call(client: TestClient, method: str, path: str, csrf: str, ids: dict[str, int]) -> int:
    url = path.format(**ids)
    if url.startswith("/api/"):
        body = {"pga": 2} if url.endswith("/score/pga") else {}
        return client.request(method, url, json=body, headers={"X-CSRF-Token": csrf}).status_code
    data = {"csrf": csrf} if method == "POST" else None
    return client.request(method, url, data=data, follow_redirects=False).status_code


@pytest.mark.parametrize("account", sorted(ALL))
def test_each_role_gets_exactly_its_routes(
    login: Callable[[str], TestClient], account: str, ids: dict[str, int]
) -> None:
    client = login(account)
    csrf = csrf_of(client.get("/").text)
    outcomes = {}
    for name, (method, path, _allowed) in ROUTES.items():
        status = _call(client, method, path, csrf, ids)
        assert status < 500, f"{name}: {status}"
        outcomes[name] = "allowed" if status not in (401, 403, 404) else "denied"
    expected = {
        name: "allowed" if account in allowed else "denied"
        for name, (_, _, allowed) in ROUTES.items()
    }
    assert outcomes == expected


def test_signed_out_pages_redirect_and_api_answers_401(app: FastAPI, ids: dict[str, int]) -> None:
    client = TestClient(app)
    for name, (method, path, _) in ROUTES.items():
        response = client.request(method, path.format(**ids), follow_redirects=False)
        expected = 401 if path.startswith("/api/") else 303
        assert response.status_code == expected, name
        if expected == 303:
            assert response.headers["location"].startswith("/login?next=")


def _shown(html: str) -> str:
    """A page without its random CSRF tokens, which can hold "S01" by chance."""
    return re.sub(r'name="csrf" value="[^"]*"', "", html)


def test_one_site_cannot_see_another_sites_subjects(login: Callable[[str], TestClient]) -> None:
    client = login("site-b")  # SITE2 only: S05 and S06
    assert [s["code"] for s in client.get("/api/v1/subjects").json()] == ["S05", "S06"]
    for path in (
        "/subjects/S01",
        "/api/v1/subjects/S01",
        "/subjects/S01/visits/new",
        "/history/assessment/1",
        "/api/v1/history/assessment/1",
    ):
        assert client.get(path).status_code == 404, path
    for page in ("/subjects", "/"):
        assert "S01" not in _shown(client.get(page).text), page


def test_unsafe_requests_need_the_csrf_token(login: Callable[[str], TestClient]) -> None:
    client = login("investigator")
    assert client.post("/subjects/S05/ae/new", data={"term": "x"}).status_code == 403
    assert client.post("/api/v1/subjects/S05/labs", json={}).status_code == 403


def test_another_sites_queries_answer_404(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    from pustula.store.services.monitoring import raise_query

    # S01 is at SITE1, which site-b does not see
    query = raise_query(web_store, "monitor", "S01", table="subject", record_id=1, field=None,
                        text="Check the screening date")  # fmt: skip
    client = login("site-b")
    csrf = csrf_of(client.get("/").text)
    assert client.get(f"/queries/{query.id}").status_code == 404
    answer = client.post(f"/api/v1/queries/{query.id}/answer", json={"text": "x"},
                         headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert answer.status_code == 404
    assert all(q["subject"] != "S01" for q in client.get("/api/v1/queries").json())
    assert "S01" not in _shown(client.get("/queries").text)
