"""One subject's whole life in the study, driven in Chromium as the investigator would;
accessibility (axe-core) and a phone's width on every page.

A screenshot per step goes to ``test-artifacts/screenshots/life-*.png``.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser.helpers import (
    SHOTS,
    axe_findings,
    enrol,
    no_sideways_scroll,
    phone_page,
    sign_in,
)

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"life-{step}.png"), full_page=True)


def _pppasi(page: Page, signs: dict[str, tuple[int, int, int, int]]) -> None:
    for region, (e, p, d, area) in signs.items():
        for sign, value in zip(("erythema", "pustules", "desquamation"), (e, p, d), strict=True):
            page.select_option(f"#{region}_{sign}", str(value))
        page.fill(f"#{region}_area_pct", str(area))


def _action(page: Page, server: str, path: str, fields: dict[str, str]) -> None:
    page.goto(f"{server}/subjects/L01/{path}")
    for name, value in fields.items():
        target = page.locator(f"[name={name}]").first
        kind = target.get_attribute("type")
        tag = target.evaluate("e => e.tagName")
        if kind in ("radio", "checkbox"):
            page.check(f"input[name={name}][value='{value}']")
        elif tag == "SELECT":
            page.select_option(f"select[name={name}]", value)
        else:
            page.fill(f"[name={name}]", value)


def test_one_subject_from_screening_to_withdrawal(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    # screening with the tuberculosis result missing: pending, not a failure
    enrol(page, server, "L01", tuberculosis="")
    expect(page.locator("h1")).to_have_text("Subject L01: screening pending")
    expect(page.locator("#eligibility")).to_contain_text("Tuberculosis screen is not recorded yet")
    shot(page, "01-screening-pending")
    # the result arrives: screening again (the first screening is kept)
    page.goto(f"{server}/subjects/L01")
    page.click("text=Screen again")
    page.fill("#reason", "tuberculosis IGRA result received")
    page.fill("#screened_on", "2024-09-09")
    page.check("input[name=tuberculosis][value=negative]")
    expect(page.locator('#checklist li[data-criterion="E4"]')).to_have_class("ok")  # live
    shot(page, "02-rescreen-form")
    page.click("text=Screen again >> nth=-1")
    expect(page.locator("h1")).to_have_text("Subject L01: enrolled")
    shot(page, "03-enrolled")
    # first dose
    page.click("a:has-text('Record the first dose')")
    # chosen from the protocol's regimens, not typed
    page.check("label:has-text('tofacitinib 5 mg twice daily (oral)') input[name=regimen]")
    page.fill("#start_date", "2024-09-10")
    shot(page, "04-first-dose")
    page.click("button[type=submit] >> text=Save")
    expect(page.locator(".card", has_text="Study drug")).to_contain_text("First dose: 2024-09-10")
    # week 0, with one region cleared in one click
    page.goto(f"{server}/subjects/L01/visits/new")
    page.select_option("#visit_code", "W0")
    page.fill("#visit_date", "2024-09-10")
    _pppasi(page, {"right_palm": (3, 3, 2, 40), "left_palm": (2, 3, 2, 30),
                   "right_sole": (2, 2, 1, 20)})  # fmt: skip
    page.click('button.region-clear[data-region="left_sole"]')
    expect(page.locator("#left_sole_pustules")).to_have_value("0")
    expect(page.locator("#pppasi-progress")).to_contain_text("all four regions")
    live = page.locator("#pppasi-total").inner_text()
    page.check("input[name=pga][value='3']")
    shot(page, "05-week-0")
    page.click("#save-visit")
    expect(
        page.locator('.assessment[data-instrument="pppasi"][data-visit="W0"] .score')
    ).to_have_text(live)
    # week 2 missed, with the reason
    _action(page, server, "visits/missed", {"visit_code": "W2", "notes": "subject ill, no travel"})
    shot(page, "06-week-2-missed")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#visits")).to_contain_text("Missed: subject ill, no travel")
    # week 4
    page.goto(f"{server}/subjects/L01/visits/new?visit=W4")
    page.fill("#visit_date", "2024-10-08")
    _pppasi(page, {"right_palm": (1, 1, 1, 10), "left_palm": (1, 0, 1, 5),
                   "right_sole": (0, 0, 0, 0), "left_sole": (0, 0, 0, 0)})  # fmt: skip
    page.check("input[name=pga][value='1']")
    page.click("#save-visit")
    expect(page.locator('.assessment[data-visit="W4"][data-instrument="pga"]')).to_be_visible()
    shot(page, "07-week-4")
    # an adverse event, followed up to resolution
    _action(page, server, "ae/new", {
        "term": "Herpes zoster", "start_date": "2024-09-25", "grade": "2", "serious": "no",
        "relatedness": "possible", "action_taken": "interrupted", "outcome": "not_recovered",
        "worsened_on_treatment": "no"})  # fmt: skip
    shot(page, "08-adverse-event")
    page.click("#action-form button[type=submit]")
    page.click("#adverse-events >> text=Follow up")
    page.fill("#end_date", "2024-10-06")
    page.select_option("#outcome", "recovered")
    page.fill("#reason", "lesions crusted, resolved at the week 4 visit")
    shot(page, "09-ae-follow-up")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#adverse-events")).to_contain_text("Recovered / resolved")
    expect(page.locator("#adverse-events")).to_contain_text("2024-10-06")
    # a lab value, corrected with a reason: its alert goes away
    _action(page, server, "labs/new", {"test": "lymphocytes", "value": "450", "unit": "/mm3",
                                       "sample_date": "2024-10-08"})  # fmt: skip
    page.click("#action-form button[type=submit]")
    expect(page.locator("#labs tr.warn")).to_have_count(1)
    page.click("#labs tr.warn >> text=Correct")
    page.fill("#value", "1450")
    page.fill("#reason", "transcription error: the report says 1,450")
    shot(page, "10-lab-correction")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#labs tr.warn")).to_have_count(0)
    expect(page.locator("#labs")).to_contain_text("1450 /mm³")
    page.click("#labs tr:has-text('1450') >> text=History")
    expect(page.locator("#history")).to_contain_text("Value: 450 → 1450")
    expect(page.locator("#history")).to_contain_text("transcription error")
    shot(page, "11-lab-history")
    # withdrawal: the schedule stops asking for visits
    _action(page, server, "end", {"outcome_kind": "withdrawn", "ended_on": "2024-10-15",
                                  "end_reason": "withdrew consent", "last_contact": "2024-10-15"})  # fmt: skip
    page.click("#action-form button[type=submit]")
    expect(page.locator('[data-field="last_dose"]')).to_contain_text("day of the last dose")
    expect(page.locator("#end_reason")).to_have_value("withdrew consent")  # input kept
    page.fill("#last_dose", "2024-10-14")
    shot(page, "12-withdrawal")
    page.click("#action-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Withdrawn or discontinued")
    expect(page.locator(".ended")).to_contain_text("withdrew consent")
    expect(page.locator("text=Record a visit")).to_have_count(0)
    shot(page, "13-withdrawn")
    page.goto(f"{server}/subjects")
    expect(page.locator("#subjects tr", has_text="L01")).not_to_contain_text("Week 12")
    # in this test, not the next: tests spread over workers may not share this server
    _the_analysis_counts_the_withdrawn_subject_as_the_protocol_says(
        browser.new_context().new_page(), server
    )


def _the_analysis_counts_the_withdrawn_subject_as_the_protocol_says(
    page: Page, server: str
) -> None:
    """After the life above: enrolled, dosed (safety and full analysis sets), withdrawn."""
    sign_in(page, server, "statistician")
    adsl = page.request.get(f"{server}/downloads/adsl.csv")
    rows = {r["SUBJID"]: r for r in csv.DictReader(io.StringIO(adsl.text()))}
    l01 = rows["L01"]
    assert (l01["ENRLFL"], l01["SAFFL"], l01["WDFL"], l01["EOSSTT"]) == ("Y", "Y", "Y",
                                                                         "DISCONTINUED")  # fmt: skip
    assert (l01["TRTSDT"], l01["TRTEDT"], l01["DCSREAS"]) == (
        "2024-09-10", "2024-10-14", "withdrew consent")  # fmt: skip
    adqs = page.request.get(f"{server}/downloads/adqs.csv")
    visits = sorted({r["VISITCD"] for r in csv.DictReader(io.StringIO(adqs.text()))
                     if r["SUBJID"] == "L01" and r["PARAMCD"] == "PPPASI"})  # fmt: skip
    assert visits == ["W0", "W4"]  # week 2 missed, week 12 never reached


PAGES = [
    "/", "/subjects", "/subjects/S01", "/subjects/new", "/subjects/S01/visits/new",
    "/subjects/S01/visits/missed", "/subjects/S02/ae/new", "/subjects/S02/labs/new",
    "/subjects/S02/conmeds/new", "/subjects/S02/end", "/subjects/S01/ae/1/follow-up",
    "/subjects/S01/ae/1/coding",
    "/subjects/S01/labs/1/edit", "/subjects/S01/labs/1/remove", "/subjects/S01/exposure/1/change",
    "/subjects/S01/exposure/1/interrupt", "/subjects/S01/visits/1/date",
    "/subjects/S01/assessments/1/edit", "/history/assessment/1", "/audit", "/downloads",
    "/api/docs", "/report", "/queries", "/queries/1",
    "/subjects/S01/queries/new?table=lab&record=1", "/sdv", "/status", "/study/lock", "/evidence",
    "/quality", "/subjects/S01/deviations", "/subjects/S01/exposure/1/stop", "/interim",
    "/subjects/S01/visits/1/invite", "/subjects/S01/visits/1/photos", "/subjects/S01/photos",
    "/report?alpha=0.1&imputation=NRI",
    "/evidence?tool=simon&p0=0.05&p1=0.25&alpha=0.05&power=0.8",
    "/evidence?tool=published&index=PPPASI&cutoff=50&week_from=12&week_to=24&designs=rct"
    "&designs=single_arm&measure=PLO&mixed=yes",
    "/evidence?tool=predictive&a=0.6&b=0.4&responses=16&n=23&nmax=40&p0=0.6&theta_t=0.9"
    "&theta_l=0.05&p1=0.8",
]  # fmt: skip


def test_every_page_has_no_accessibility_violation_of_any_impact(page: Page, server: str) -> None:
    sign_in(page, server, "admin")
    assert axe_findings(page, server, PAGES) == {}
    page.context.clear_cookies()
    assert axe_findings(page, server, ["/login"]) == {}
    sign_in(page, server, "investigator")
    assert axe_findings(page, server, ["/subjects/S01/sign"]) == {}


def test_no_page_scrolls_sideways_at_390_px(browser: Browser, server: str) -> None:
    phone = phone_page(browser)
    sign_in(phone, server, "admin")
    for path in PAGES:
        phone.goto(f"{server}{path}")
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("&", "-") or "dashboard"
        phone.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
        no_sideways_scroll(phone)
    phone.context.close()


def test_map_marks_survive_a_failed_save(page: Page, server: str) -> None:
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S02/visits/new")
    cells = page.locator('svg[data-region="right_sole"] .cell')
    for i in (3, 4, 5, 9):
        cells.nth(i).click()
    pct = page.locator("#right_sole_area_pct").input_value()
    assert pct != "0"
    page.click("#save-visit")  # no visit chosen, no date: refused
    expect(page.locator('[data-field="visit_code"]')).to_contain_text("choose the visit")
    expect(page.locator('svg[data-region="right_sole"] .cell.on')).to_have_count(4)
    expect(page.locator("#right_sole_area_pct")).to_have_value(pct)
    # each cell is at least 24 px square: a finger can hit it
    box = cells.nth(0).bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24
    page.screenshot(path=str(SHOTS / "visit-marks-kept.png"), full_page=True)


def test_an_imported_casebook_reads_in_the_audit_trail_and_the_history(
    browser: Browser, page: Page, server: str, server_db: str
) -> None:
    """Last in this module: it adds a subject. The import's one audit entry per casebook
    reads as what it created; the history of an imported visit starts with its values."""
    from pustula.interop.redcap_records import export_records, parse_records
    from pustula.store import Store
    from pustula.store.services.clinical import casebooks, import_subjects, study_protocol

    store = Store.open(server_db)
    protocol = study_protocol(store)
    books = [b for b in casebooks(store) if b.subject.code == "S02"]
    subjects = parse_records(export_records(books, protocol).replace("S02,", "R02,"), protocol)
    import_subjects(store, "data manager", subjects, reason="REDCap migration of site 3")
    visit = next(v for b in casebooks(store) if b.subject.code == "R02" for v in b.records.visit)
    store.dispose()
    sign_in(page, server, "monitor")
    page.goto(f"{server}/audit?subject=R02")
    expect(page.locator("main")).to_contain_text("Imported with its casebook")
    expect(page.locator("main")).to_contain_text("Visit: 4 created")
    page.screenshot(path=str(SHOTS / "audit-imported-casebook.png"), full_page=True)
    page.goto(f"{server}/history/visit/{visit.id}")
    expect(page.locator("main")).to_contain_text("REDCap migration of site 3")
    page.screenshot(path=str(SHOTS / "history-imported-visit.png"), full_page=True)
    phone = phone_page(browser)
    sign_in(phone, server, "monitor")
    for path in ("/audit?subject=R02", f"/history/visit/{visit.id}"):
        phone.goto(f"{server}{path}")
        no_sideways_scroll(phone)
    phone.goto(f"{server}/audit?subject=R02")
    phone.screenshot(path=str(SHOTS / "phone-audit-imported-casebook.png"), full_page=True)
    phone.context.close()
