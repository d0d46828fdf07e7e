"""A randomized, blinded trial in Chromium: a coordinator enrols a subject, randomizes it
with the strata confirmed and sees the kit, not the arm; an investigator unblinds it in an
emergency with a reason; at 1280 and 390 px. Screenshots: ``trial-*``."""

from __future__ import annotations

from functools import partial

import pytest
from playwright.sync_api import Browser, Page, expect

from pustula.demo import DEMO_PASSWORD, trial_protocol
from pustula.demo_trial import TRIAL_USERS, create_trial_study
from tests.web.browser.helpers import (
    SHOTS,
    axe_findings,
    enrol,
    no_sideways_scroll,
    phone_page,
    sign_in,
)

pytestmark = pytest.mark.browser

CREATE_STUDY = partial(create_trial_study, subjects=6)
MORE_USERS = TRIAL_USERS
LABELS = [a.label for a in trial_protocol().arms]


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"trial-{step}.png"), full_page=True)


def test_enrol_randomize_see_the_kit_and_unblind_in_an_emergency(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    enrol(page, server, "B001")
    page.goto(f"{server}/subjects/B001")
    expect(page.locator("#randomization")).to_contain_text("Not randomized yet.")
    page.get_by_role("link", name="Randomize", exact=True).click()
    form = page.locator("#action-form")
    expect(form).to_contain_text("The casebook records: SITE1.")
    expect(form).to_contain_text("The casebook records: ever.")
    assert page.locator("input[type=radio]:checked").count() == 0  # nothing chosen for them
    phone = phone_page(browser)
    sign_in(phone, server, "investigator")
    phone.goto(f"{server}/subjects/B001/randomize")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "trial-randomize-390.png"), full_page=True)
    page.click("button:has-text('Randomize')")  # nothing confirmed: every error at once
    expect(page.locator(".error-summary")).to_contain_text("Correct these 3 values")
    shot(page, "randomize-errors")
    page.check("input[name=site][value=SITE1]")
    page.check("input[name=smoking][value=ever]")
    page.fill("#randomized_on", "2024-09-09")
    page.click("button:has-text('Randomize')")
    panel = page.locator("#randomization")
    expect(panel).to_contain_text("Randomized on 2024-09-09")
    expect(panel).to_contain_text("Treatment: blinded.")
    kit = panel.locator(".kit").inner_text()
    assert kit.isdigit() and len(kit) == 6
    assert all(label not in page.content() for label in LABELS)
    shot(page, "randomized")
    page.get_by_role("link", name="Emergency unblinding", exact=True).click()
    page.fill("#reason", "suspected anaphylaxis: the emergency team asks")
    page.fill("#password", DEMO_PASSWORD)
    shot(page, "unblind-form")
    page.click("button:has-text('Unblind this subject')")
    shown = page.locator(".unblinded").inner_text()
    assert any(label in shown for label in LABELS)
    shot(page, "unblinded")
    page.goto(f"{server}/subjects/B001")
    expect(page.locator("#randomization")).to_contain_text("Unblinded in an emergency on")
    phone.goto(f"{server}/subjects/B001")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "trial-subject-390.png"), full_page=True)
    phone.context.close()


def test_the_dmc_reads_the_closed_report_and_a_blinded_role_the_open_one(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "dmc")
    page.goto(f"{server}/interim")
    expect(page.locator("main")).to_contain_text("plans no interim look")
    shot(page, "interim")
    page.get_by_role("link", name="Closed report, by arm").click()
    expect(page.locator("body")).to_contain_text("CLOSED: by arm, for the DMC only")
    for label in LABELS:
        expect(page.locator("body")).to_contain_text(label)
    shot(page, "dmc-closed")
    phone = phone_page(browser)
    sign_in(phone, server, "statistician")  # blinded, reads reports
    phone.goto(f"{server}/interim")
    no_sideways_scroll(phone)
    expect(phone.get_by_role("link", name="Closed report, by arm")).to_have_count(0)
    phone.screenshot(path=str(SHOTS / "trial-interim-390.png"), full_page=True)
    phone.goto(f"{server}/dmc-report")
    expect(phone.locator("body")).to_contain_text("OPEN: arms pooled")
    assert all(label not in phone.content() for label in LABELS)
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "trial-dmc-open-390.png"), full_page=True)


def test_every_trial_page_has_no_accessibility_violation_of_any_impact(
    page: Page, server: str
) -> None:
    sign_in(page, server, "investigator")
    enrol(page, server, "B900")
    assert axe_findings(page, server, [
        "/subjects/B900/randomize", "/subjects/T001", "/subjects/T001/unblind", "/report",
        "/interim", "/dmc-report"]) == {}  # fmt: skip
    page.context.clear_cookies()
    sign_in(page, server, "unblinded-stat")
    assert axe_findings(page, server, ["/randomization", "/report", "/dmc-report/closed"]) == {}
    page.context.clear_cookies()
    sign_in(page, server, "admin")
    assert axe_findings(page, server, ["/unblindings"]) == {}
