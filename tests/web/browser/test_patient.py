"""The patient answers their own questionnaires on a phone (390 px) from the coordinator's
invitation; the coordinator sees the scored answers as the patient's; the link works once;
a locked subject's link is refused. Screenshots: ``patient-*``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser.helpers import SHOTS, axe_findings, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"patient-{step}.png"), full_page=True)


def _invite(page: Page, server: str, code: str, language: str = "en") -> str:
    page.goto(f"{server}/subjects/{code}")
    page.locator("#visits tr", has_text="Week 4").locator("a.invite").click()
    page.check("input[name=kind][value=link]")
    page.check(f"input[name=language][value={language}]")
    page.check("input[name=hours][value='24']")
    shot(page, f"01-invite-{code}")
    page.click("#action-form button[type=submit]")
    expect(page.locator(".qr svg")).to_be_visible()
    shot(page, f"02-invitation-{code}")
    return page.locator("#patient-link").inner_text()


def test_the_patient_answers_on_a_phone_and_the_coordinator_sees_it(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    link = _invite(page, server, "S01")
    phone = phone_page(browser)  # the patient's own phone: no account
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("Your questionnaires")
    no_sideways_scroll(phone)
    box = phone.locator("label.number").first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a finger's size
    shot(phone, "03-phone-form")
    phone.click("button.send")  # nothing answered: every question named at once
    expect(phone.locator("#error-summary li")).to_have_count(12)
    shot(phone, "04-phone-errors")
    phone.locator("label.number", has_text="7").first.click()  # itch 7
    phone.locator("#pain_nrs label.number", has_text="4").click()
    answers = {
        1: "Very much",
        2: "A lot",
        3: "A little",
        4: "Not at all",
        5: "Not relevant",
        6: "A little",
        7: "Yes: it prevented",
        8: "Not at all",
        9: "Not at all",
        10: "A little",
    }  # fmt: skip  (3+2+1+0+0+1+3+0+0+1 = 11)
    for number, words in answers.items():
        phone.locator(f"#dlqi_q{number} label.answer", has_text=words).first.click()
    # by keyboard too: the last answer moved with the arrow keys, then back
    phone.locator("#dlqi_q10 input[value='1']").focus()
    phone.keyboard.press("ArrowDown")
    phone.keyboard.press("ArrowUp")
    expect(phone.locator("#dlqi_q10 input[value='1']")).to_be_checked()
    shot(phone, "05-phone-answered")
    phone.click("button.send")
    expect(phone.locator("h1")).to_have_text("Thank you")
    shot(phone, "06-phone-thanks")
    phone.goto(link)  # the link works once
    expect(phone.locator("h1")).to_have_text("This link cannot be used")
    shot(phone, "07-phone-link-used")
    phone.context.close()
    page.goto(f"{server}/subjects/S01")
    dlqi = page.locator('.assessment[data-instrument="dlqi"][data-visit="W4"]')
    expect(dlqi.locator(".score")).to_have_text("11")
    expect(dlqi).to_contain_text("answered by the patient")
    expect(dlqi.locator("a.edit")).to_have_count(0)
    expect(page.locator('.assessment[data-instrument="itch_nrs"][data-visit="W4"] .score')
           ).to_have_text("7")  # fmt: skip
    shot(page, "08-coordinator-sees-it")


def test_a_diary_link_asks_each_day_on_a_phone(page: Page, browser: Browser, server: str) -> None:
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S03")
    page.click("#diary-invite")
    page.check("input[name=language][value=en]")
    page.check("input[name=days][value='28']")
    page.check("input[name=reminders][value=no]")
    shot(page, "11-diary-invite")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#invitation-title")).to_have_text("Your skin diary")
    link = page.locator("#patient-link").inner_text()
    phone = phone_page(browser)
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("Your skin diary")
    no_sideways_scroll(phone)
    assert axe_findings(phone, "", [link]) == {}
    phone.locator("#itch_nrs label.number", has_text="6").click()
    phone.locator("#pain_nrs label.number", has_text="2").click()
    shot(phone, "12-diary-phone")
    phone.click("button.send")
    expect(phone.locator("main")).to_contain_text("Please answer again tomorrow")
    phone.goto(link)
    expect(phone.locator("main")).to_contain_text("recorded already")
    shot(phone, "13-diary-done-today")
    phone.context.close()
    page.goto(f"{server}/subjects/S03")
    expect(page.locator("#diary tbody tr")).to_have_count(1)
    shot(page, "14-coordinator-sees-diary")
    not_used = page.locator("#diary a", has_text="Not used").get_attribute("href")
    assert not_used and axe_findings(page, server, ["/subjects/S03/diary/invite", not_used]) == {}


def test_a_locked_subjects_link_is_refused_and_the_pages_pass_axe(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, server, "investigator")
    link = _invite(page, server, "S02", language="de")
    # a German phone: a link that cannot be used is explained in the device's language (the
    # invitation's own is not looked up for it, so that a dead link tells nothing)
    phone = browser.new_context(viewport={"width": 390, "height": 844},
                                locale="de-DE").new_page()  # fmt: skip
    phone.goto(link)
    expect(phone.locator("button.send")).to_have_text("Meine Antworten senden")
    shot(phone, "09-phone-german")
    assert axe_findings(phone, "", [link]) == {}
    page.context.clear_cookies()
    sign_in(page, server, "admin")
    page.goto(f"{server}/study/lock")
    page.fill("#lock-reason", "Database lock for the final analysis")
    page.click("form[action='/study/lock'] button[type=submit]")
    phone.click("button.send")  # the page was open when the study was locked
    expect(phone.locator("h1")).to_have_text("Dieser Link kann nicht verwendet werden")
    shot(phone, "10-phone-locked")
    phone.context.close()
