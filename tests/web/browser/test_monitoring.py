"""Monitoring in Chromium: a query raised, answered with a correction and closed; a casebook
signed, its signature invalidated by a later edit; a locked study refusing an edit in the
browser, the API and the command line; an adverse event's coding left half done, queried
and completed. Screenshots: ``test-artifacts/screenshots/monitor-*``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from pustula.cli import app as cli
from pustula.demo import DEMO_PASSWORD
from pustula.store import Store
from pustula.store.services.clinical import add_subject_record
from tests.web.browser.helpers import SHOTS, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"monitor-{step}.png"), full_page=True)


PPPASI_W4 = '.assessment[data-instrument="pppasi"][data-visit="W4"]'


def test_coding_left_half_done_is_queried_and_completed(
    page: Page, browser: Browser, server: str, server_db: str
) -> None:
    # (before the lock below, which the module's other test ends with)
    store = Store.open(server_db)
    add_subject_record(store, "coder", "ae", "S05", {
        "term": "Itchy rash", "meddra_pt": "Rash pruritic", "meddra_pt_code": "10037884",
        "meddra_soc": "Skin and subcutaneous tissue disorders", "start_date": "2024-05-02",
        "grade": 1, "relatedness": "unlikely", "action_taken": "none",
        "outcome": "not_recovered"})  # fmt: skip
    store.dispose()
    sign_in(page, server, "investigator")
    page.goto(f"{server}/queries?subject=S05&state=open")
    row = page.locator("#queries tr", has_text="Incomplete MedDRA coding")
    expect(row).to_contain_text("has no MedDRA SOC code: complete the coding")
    shot(page, "10-coding-query")
    phone = phone_page(browser)
    sign_in(phone, server, "investigator")
    phone.goto(page.url)
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "phone-monitor-coding-query.png"), full_page=True)
    phone.context.close()
    row.locator("a", has_text="#").click()
    page.click("text=Correct the value")
    expect(page.locator("#meddra_soc")).to_have_value("Skin and subcutaneous tissue disorders")
    page.fill("#meddra_soc_code", "10040785")
    page.fill("#reason", "coding completed (MedDRA 27.1)")
    shot(page, "11-coding-form")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#adverse-events")).to_contain_text("Rash pruritic")
    page.goto(f"{server}/queries?subject=S05")
    expect(page.locator("#queries tr", has_text="Incomplete MedDRA coding")).to_contain_text(
        "Closed"
    )


def test_query_signature_and_lock(
    page: Page, browser: Browser, server: str, server_db: str
) -> None:
    # the monitor raises a query on a week-4 PPPASI item of S05 (site 2)
    sign_in(page, server, "monitor")
    page.goto(f"{server}/subjects/S05")
    page.locator(f"{PPPASI_W4} a.raise-query").click()
    page.select_option("#field", "right_sole_pustules")
    page.fill("#text", "The source document says right sole pustules 1, not 2.")
    shot(page, "01-raise")
    page.click("#action-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Open")
    expect(page.locator("#queried-value")).to_contain_text("Right sole pustules now: 1")
    query_url = page.url
    shot(page, "02-raised")
    page.context.clear_cookies()
    # data entry at site 2 answers by correcting the value
    sign_in(page, server, "site-b")
    page.goto(query_url)
    page.click("text=Correct the value")
    expect(page.locator(".query-flag")).to_contain_text("This change answers")
    page.select_option("#right_sole_pustules", "1")
    page.fill("#reason", "corrected from the source document")
    shot(page, "03-correct")
    page.click("#save-edit")
    expect(page.locator(f"{PPPASI_W4} .query-flag")).to_contain_text("answered")
    page.goto(query_url)
    expect(page.locator("#thread")).to_contain_text("Value changed: corrected from the source")
    shot(page, "04-answered")
    page.context.clear_cookies()
    # the monitor closes it
    sign_in(page, server, "monitor")
    page.goto(query_url)
    page.fill("#close-text", "Matches the source now.")
    page.click("text=Close the query")
    expect(page.locator("h1")).to_contain_text("Closed")
    shot(page, "05-closed")
    page.context.clear_cookies()
    # the investigator signs the casebook
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S05/sign")
    page.check("input[name=meaning][value='I approve the data in this casebook']")
    page.fill("#username", "investigator")
    page.fill("#password", "wrong password")
    page.click("#action-form button[type=submit]")
    expect(page.locator('[data-field="password"]')).to_contain_text("not yours")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#action-form button[type=submit]")
    expect(page.locator("#signatures")).to_contain_text("signed by investigator")
    expect(page.locator("#record-signed")).to_contain_text("Casebook signed by investigator")
    shot(page, "06-signed")
    # an edit after signing invalidates the signature, and the forms warn of it first
    page.locator('.assessment[data-instrument="pga"][data-visit="W4"] a.edit').click()
    expect(page.locator("#record-signed")).to_contain_text("invalidates the signature")
    page.check("input[name=pga][value='3']")
    page.fill("#reason", "re-graded at the investigator's review")
    page.click("#save-edit")
    expect(page.locator("#signatures")).to_contain_text("Invalidated")
    expect(page.locator("#signatures")).to_contain_text("A new signature is needed")
    assert page.locator("#record-signed").count() == 0
    shot(page, "07-invalidated")
    page.context.clear_cookies()
    # the investigator opens a correction; meanwhile the administrator locks the study
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S05")
    page.locator('.assessment[data-instrument="pga"][data-visit="W4"] a.edit').click()
    page.check("input[name=pga][value='2']")
    page.fill("#reason", "one more change")
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, server, "admin")
    admin.goto(f"{server}/study/lock")
    admin.fill("#lock-reason", "Database lock for the final analysis")
    admin.click("form[action='/study/lock'] button[type=submit]")
    expect(admin.locator("#locks")).to_contain_text("The whole study")
    shot(admin, "08-locked")
    admin.context.close()
    # the save is refused on the form itself, with what was typed kept
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#save-edit")
    assert answer.value.status == 423
    expect(page.locator("#error-summary")).to_contain_text("The study is locked for analysis")
    expect(page.locator("#reason")).to_have_value("one more change")
    expect(page.locator("input[name=pga][value='2']")).to_be_checked()
    shot(page, "09-refused")
    # the subject's page says it is locked and offers no edit
    page.goto(f"{server}/subjects/S05")
    expect(page.locator("#record-locked")).to_contain_text("Locked for analysis")
    expect(page.locator("#record-locked")).to_contain_text("Database lock for the final analysis")
    assert page.locator("a.edit").count() == 0
    assert page.locator("a", has_text="Follow up").count() == 0
    assert page.locator("text=Record a visit").count() == 0
    shot(page, "09b-locked-subject")
    # ...in the API...
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.content())
    assert csrf
    refused = page.request.post(f"{server}/api/v1/subjects/S05/conmeds",
                                data={"drug": "cetirizine", "indication": "itch"},
                                headers={"X-CSRF-Token": csrf.group(1)})  # fmt: skip
    assert refused.status == 423
    # ...and from the command line
    result = CliRunner().invoke(cli, ["--database", server_db, "--user", "cli", "conmed", "add",
                                      "--subject", "S05", "--data",
                                      '{"drug": "cetirizine", "indication": "itch"}'])  # fmt: skip
    assert result.exit_code == 1 and "the study is locked" in result.output
