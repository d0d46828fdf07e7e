"""Amending the protocol in Chromium, at 1280 and 390 px: the study administrator uploads a
draft, reviews what it changes and what it does to the collected data, approves it with a
signature; site staff record a new consent. The study pages of decision 0019 too.
Screenshots: ``test-artifacts/screenshots/amend-*`` and ``phone-amend-*``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from pustula.demo import DEMO_PASSWORD, demo_protocol_file
from tests.web.browser.helpers import SHOTS, axe_findings, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"amend-{step}.png"), full_page=True)


def _amended(tmp_path: Path) -> Path:
    stated = yaml.safe_load(Path(demo_protocol_file()).read_text())
    stated["version"] = "1.1"
    w12 = next(v for v in stated["visits"] if v["code"] == "W12")
    w12["window_before"] = w12["window_after"] = 3
    stated["visits"].insert(3, {"code": "W8", "label": "Week 8", "day": 56, "window_before": 7,
                                "window_after": 7, "instruments": ["pppasi", "pga"]})  # fmt: skip
    path = tmp_path / "amended.yaml"
    path.write_text(yaml.safe_dump(stated, sort_keys=False))
    return path


def test_an_amendment_is_uploaded_reviewed_approved_and_consented_to(
    page: Page, browser: Browser, server: str, tmp_path: Path
) -> None:
    sign_in(page, server, "admin")
    page.goto(f"{server}/study/protocol")
    # nothing chosen: every error at once, next to its field
    page.click("text=Keep as a draft")
    expect(page.locator("#protocol-error")).to_be_visible()
    expect(page.locator("#summary-error")).to_be_visible()
    expect(page.locator("#effective_on-error")).to_be_visible()
    shot(page, "01-errors")
    page.set_input_files("#protocol", str(_amended(tmp_path)))
    page.fill("#summary", "Adds week 8 and narrows the week-12 window")
    page.fill("#effective_on", "2024-05-01")
    page.click("text=Keep as a draft")
    expect(page.locator("h1")).to_have_text("Protocol version 1.1")
    expect(page.locator("ul.changes")).to_contain_text("Visit W8 added")
    expect(page.locator("#new-visits")).to_be_visible()
    shot(page, "02-review")
    phone = phone_page(browser)
    sign_in(phone, server, "admin")
    for path, step in (("/study/protocol/1.1", "review"), ("/study/protocol", "versions"),
                       ("/studies", "studies"), ("/studies/new", "study-new"),
                       ("/study/people", "people")):  # fmt: skip
        phone.goto(f"{server}{path}")
        no_sideways_scroll(phone)
        phone.screenshot(path=str(SHOTS / f"phone-amend-{step}.png"), full_page=True)
    assert axe_findings(page, server, ["/study/protocol", "/study/protocol/1.1", "/studies",
                                       "/studies/new", "/study/people"]) == {}  # fmt: skip
    page.goto(f"{server}/study/protocol/1.1")
    page.fill("#reason", "Ethics committee approval EC-2024-117")
    page.check("input[name=reconsent][value=yes]")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("text=Approve and sign")
    expect(page.locator("p.ok")).to_contain_text("The study follows version 1.1")
    shot(page, "03-approved")
    sign_in(page, server, "investigator")
    # the subject's page says what is owed, and leads to where the consent is recorded
    page.goto(f"{server}/subjects/S02")
    expect(page.locator("#consent")).to_contain_text("Must consent again to protocol 1.1")
    page.locator("#consent").screenshot(path=str(SHOTS / "amend-subject-consent-owed.png"))
    assert axe_findings(page, server, ["/subjects/S02"]) == {}
    page.click("#consent >> text=Record the new consent")
    expect(page.locator("h1")).to_have_text("Subjects who must consent again")
    row = page.locator("#consents li", has_text="S01")
    row.locator("input[type=date]").fill("2024-05-10")
    row.locator("button").click()
    expect(page.locator("p.ok")).to_contain_text("Consent of S01 recorded")
    expect(page.locator("#consents")).not_to_contain_text("S01")
    shot(page, "04-consent")
    assert axe_findings(page, server, ["/study/consent"]) == {}
    phone = phone_page(browser)
    sign_in(phone, server, "investigator")
    phone.goto(f"{server}/study/consent")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "phone-amend-consent.png"), full_page=True)
    phone.goto(f"{server}/subjects/S01")
    expect(phone.locator("#consent")).to_contain_text("Protocol 1.1, consented again on 2024-05-10")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "phone-amend-subject-consent.png"), full_page=True)
