"""The coordinator's and monitor's second pass in Chromium, at 1280 and 390 px: a withdrawn
subject's adverse event followed to resolution; an adverse event's errors all at once; a
whole visit verified in one action; the study's record status grid.
Screenshots: ``test-artifacts/screenshots/second-*``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser.helpers import SHOTS, enrol, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"second-{step}.png"), full_page=True)


def _on_phone(browser: Browser, server: str, user: str, path: str, step: str) -> Page:
    phone = phone_page(browser)
    sign_in(phone, server, user)
    phone.goto(f"{server}{path}")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / f"phone-second-{step}.png"), full_page=True)
    return phone


def test_a_withdrawn_subjects_adverse_event_is_followed_to_resolution(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S03/end")
    page.check("input[name=outcome_kind][value=withdrawn]")
    page.fill("#ended_on", "2024-09-01")
    page.fill("#end_reason", "withdrew consent")
    page.fill("#last_dose", "2024-08-30")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#record-ended")).to_contain_text("Adverse events")
    expect(page.locator("text=Record a visit")).to_have_count(0)
    # a late adverse event, after the end of study
    page.click("a.button[href$='/ae/new']")
    page.fill("#term", "Herpes zoster")
    page.fill("#start_date", "2024-09-10")
    page.check("input[name=grade][value='2']")
    page.check("input[name=serious][value=no]")
    page.select_option("#relatedness", "possible")
    page.select_option("#action_taken", "not_applicable")
    page.select_option("#outcome", "recovering")
    page.check("input[name=worsened_on_treatment][value=no]")
    page.click("#action-form button[type=submit]")
    row = page.locator("#adverse-events tr", has_text="Herpes zoster")
    expect(row).to_contain_text("after the end of study")
    shot(page, "01-withdrawn-late-ae")
    # ...followed to resolution
    row.locator("a", has_text="Follow up").click()
    page.fill("#end_date", "2024-09-30")
    page.select_option("#outcome", "recovered")
    page.fill("#reason", "resolved at the safety follow-up call")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#adverse-events tr", has_text="Herpes zoster")).to_contain_text(
        "Recovered"
    )
    _on_phone(browser, server, "investigator", "/subjects/S03", "withdrawn").context.close()


def test_an_adverse_events_errors_arrive_all_at_once(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S01/ae/new")
    page.fill("#term", "Pneumonia")
    page.fill("#start_date", "2024-06-10")
    page.fill("#end_date", "2024-06-01")  # before the start
    page.check("input[name=serious][value=yes]")  # and no criterion
    page.click("#action-form button[type=submit]")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("before it starts")
    expect(summary).to_contain_text("seriousness criterion")
    expect(summary).to_contain_text("Relatedness")  # the missing ones in the same answer
    expect(page.locator("#term")).to_have_value("Pneumonia")
    shot(page, "02-all-errors")


def test_a_monitor_verifies_a_visit_in_one_action_and_reads_the_status_grid(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "monitor")
    page.goto(f"{server}/subjects/S02")
    week4 = page.locator("#visits tr", has_text="Week 4")
    week4.locator("button", has_text="Verify visit").click()
    expect(page.locator("#sdv-result")).to_contain_text("3 record(s) verified in one action")
    week4 = page.locator("#visits tr", has_text="Week 4")
    expect(week4.locator(".verified")).to_have_count(3)  # the visit, its PPPASI and its PGA
    expect(week4.locator("button", has_text="Verify visit")).to_have_count(0)
    shot(page, "03-visit-verified")
    page.goto(f"{server}/status")
    cell = page.locator('#status-grid tr[data-subject="S02"] td[data-visit="W4"]')
    expect(cell).to_have_text("Verified")
    expect(page.locator('#status-grid tr[data-subject="S02"] td[data-visit="W2"]')).to_have_text(
        "Entered"
    )
    shot(page, "04-status-grid")
    page.select_option("#site", "SITE2")
    page.click("form.filters button[type=submit]")
    expect(page.locator('#status-grid tr[data-subject="S01"]')).to_have_count(0)
    phone = _on_phone(browser, server, "monitor", "/status", "status-grid")
    # the subject column stays in view while the grid scrolls sideways
    first = phone.locator('#status-grid tr[data-subject="S02"] th')
    phone.locator(".scroll.sticky-first").evaluate("e => e.scrollLeft = 10000")
    box = first.bounding_box()
    assert box is not None and box["x"] < 40
    phone.context.close()


def test_on_a_phone_a_tables_actions_stay_reachable(browser: Browser, server: str) -> None:
    """At 390 px the visit table scrolls sideways, and its actions column stays in view."""
    phone = _on_phone(browser, server, "investigator", "/subjects/S01", "timeline")
    edit = phone.locator("#visits tbody tr").first.locator("td").last
    box = edit.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    phone.context.close()


def test_a_custom_rule_finds_a_seeded_discrepancy_and_opens_a_query(
    page: Page, browser: Browser, server: str, server_db: str
) -> None:
    from pustula.store import Store
    from pustula.store.services.clinical import add_subject_record

    store = Store.open(server_db)
    add_subject_record(store, "site", "lab", "S04", {  # the seeded discrepancy
        "test": "alt", "value": 180, "unit": "U/L", "upper_limit": 40,
        "sample_date": "2024-06-01"})  # fmt: skip
    store.dispose()
    sign_in(page, server, "monitor")
    page.goto(f"{server}/quality")
    page.fill("#name", "ALT above 3 x ULN")
    page.select_option("#form", "lab")
    page.fill("#condition", "test == 'alt' and value > 3 * upper_limit")
    page.fill("#message", "ALT above 3 x ULN: was the investigator told, and is it an AE?")
    shot(page, "05-rule-form")
    page.click("#action-form button[type=submit]")
    table = page.locator("#discrepancies")
    expect(table).to_contain_text("S04")
    expect(table).to_contain_text("Value: 180")
    shot(page, "06-rule-run")
    page.click("#open-queries")
    expect(page.locator("#discrepancies tr", has_text="S04")).to_contain_text("Query #")
    _on_phone(
        browser, server, "monitor", page.url.split("?")[0].removeprefix(server), "quality"
    ).context.close()
    page.locator("#discrepancies tr", has_text="S04").locator("a", has_text="Query #").click()
    expect(page.locator("main")).to_contain_text("Data quality rule")


def test_a_tenfold_dose_is_refused_without_a_reason_and_queried_with_one(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    enrol(page, server, "D10")
    page.goto(f"{server}/subjects/D10/exposure/new")
    page.check("input[name=regimen][value=other]")
    page.fill("#dose", "50")
    page.fill("#unit", "mg")
    page.fill("#frequency", "twice daily")
    page.fill("#start_date", "2024-09-03")
    page.click("#action-form button[type=submit]")
    expect(page.locator('[data-field="dose_reason"]')).to_contain_text(
        "say why this dose is outside the protocol"
    )
    expect(page.locator("#dose")).to_have_value("50")  # what was typed is kept
    shot(page, "07-dose-refused")
    page.fill("#dose_reason", "weight-based dosing decided by the investigator")
    page.click("#action-form button[type=submit]")
    drug = page.locator(".card", has_text="Study drug").locator("li", has_text="50 mg")
    expect(drug.locator(".query-flag")).to_contain_text("is not a dose the protocol allows")
    shot(page, "08-dose-queried")
    _on_phone(browser, server, "investigator", "/subjects/D10", "dose-queried").context.close()


def test_the_statistician_runs_a_sensitivity_analysis_from_the_report_page(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "statistician")
    page.goto(f"{server}/report")
    page.click(".analysis-options summary")
    expect(page.locator("#opt-imputation-plan")).to_contain_text(
        "Fixed by the analysis plan: Observed cases only"
    )
    shot(page, "09-report-options")
    page.select_option("#opt-alpha", "0.1")
    page.select_option("#opt-imputation", "NRI")
    page.click("text=Update the report")
    expect(page.locator("main .synthetic").first).to_be_visible()
    expect(page.locator("body")).to_contain_text(
        "Sensitivity analysis: this report departs from the protocol's analysis plan."
    )
    expect(page.locator("summary")).to_contain_text("a sensitivity analysis, 2 changes")
    expect(page.locator("a", has_text="Download PDF")).to_have_attribute(
        "href", "/report.pdf?imputation=NRI&alpha=0.1"
    )
    shot(page, "10-report-sensitivity")
    page.click("text=Back to the analysis plan")
    expect(page.locator("summary")).to_contain_text("the protocol's analysis plan")
    phone = _on_phone(browser, server, "statistician", "/report?alpha=0.1", "report-options")
    phone.context.close()
