"""The web app in real headless Chromium (Debian's package), driven by Playwright.

Screenshots of the key pages go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser.helpers import SHOTS, enrol, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_and_enrol(page: Page, server: str) -> None:
    sign_in(page, server, "investigator")
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    enrol(page, server, "B01")
    expect(page.locator("h1")).to_have_text("Subject B01: enrolled")
    expect(page.locator("#eligibility")).to_contain_text("Inclusion I4 met")
    page.screenshot(path=str(SHOTS / "enrolment-result.png"), full_page=True)


def test_week_4_pppasi_with_the_body_map_matches_the_saved_score(page: Page, server: str) -> None:
    sign_in(page, server, "investigator")
    enrol(page, server, "B02")
    page.goto(f"{server}/subjects/B02/visits/new?visit=W4")
    page.fill("input[name=visit_date]", "2024-10-01")
    page.select_option("#visit_code", "W4")
    for region, signs in {"right_palm": (2, 3, 1), "left_palm": (1, 1, 0),
                          "right_sole": (3, 2, 2), "left_sole": (0, 1, 1)}.items():  # fmt: skip
        for sign, value in zip(("erythema", "pustules", "desquamation"), signs, strict=True):
            page.select_option(f"select[name={region}_{sign}]", str(value))
    # right palm: drag across the first 24 cells of the map
    cells = page.locator('svg[data-region="right_palm"] .cell')
    total_cells = cells.count()
    first, last = cells.nth(0).bounding_box(), cells.nth(23).bounding_box()
    assert first and last
    page.mouse.move(first["x"] + 5, first["y"] + 5)
    page.mouse.down()
    for i in range(1, 24):
        box = cells.nth(i).bounding_box()
        assert box
        page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.up()
    expected_pct = round(
        100 * page.locator('svg[data-region="right_palm"] .cell.on').count() / total_cells
    )
    expect(page.locator("#right_palm_area_pct")).to_have_value(str(expected_pct))
    # left palm: click three cells; the soles by number
    for i in (0, 1, 2):
        page.locator('svg[data-region="left_palm"] .cell').nth(i).click()
    page.fill("#right_sole_area_pct", "55")
    page.fill("#left_sole_area_pct", "8")
    page.check("input[name=pga][value='2']")
    live = page.locator("#pppasi-total").inner_text()
    assert re.fullmatch(r"\d+\.\d", live), live
    page.screenshot(path=str(SHOTS / "visit-entry-body-map.png"), full_page=True)
    page.click("#save-visit")
    expect(page.locator("h1")).to_contain_text("Subject B02")
    saved = page.locator(
        '.assessment[data-instrument="pppasi"][data-visit="W4"] .score'
    ).inner_text()
    assert saved == live
    page.screenshot(path=str(SHOTS / "subject-timeline.png"), full_page=True)


def test_edit_with_a_reason_appears_in_the_history(page: Page, server: str) -> None:
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S03")
    page.locator('.assessment[data-instrument="pppasi"][data-visit="W2"] a.edit').click()
    page.select_option("select[name=right_palm_erythema]", "1")
    page.click("#save-edit")  # the server asks for the reason, next to its field
    expect(page.locator('[data-field="reason"]')).to_contain_text("say why")
    expect(page.locator("select[name=right_palm_erythema]")).to_have_value("1")  # input kept
    page.fill("#reason", "erythema re-graded from the photograph")
    page.click("#save-edit")
    page.locator('.assessment[data-instrument="pppasi"][data-visit="W2"] a.history').click()
    expect(page.locator("#history")).to_contain_text("erythema re-graded from the photograph")
    expect(page.locator("#history")).to_contain_text("Right palm erythema:")
    expect(page.locator("#history")).to_contain_text("investigator")
    page.screenshot(path=str(SHOTS / "history.png"), full_page=True)


def test_a_monitor_cannot_edit(page: Page, server: str) -> None:
    sign_in(page, server, "monitor")
    page.goto(f"{server}/subjects/S01")
    expect(page.locator("a.edit")).to_have_count(0)
    expect(page.locator("text=Record a visit")).to_have_count(0)
    response = page.goto(f"{server}/subjects/S01/assessments/1/edit")
    assert response is not None and response.status == 403
    page.screenshot(path=str(SHOTS / "monitor-refused.png"), full_page=True)


def test_one_site_cannot_see_another(page: Page, server: str) -> None:
    sign_in(page, server, "site-b")
    page.goto(f"{server}/subjects")
    expect(page.locator("#subjects")).to_contain_text("S05")
    expect(page.locator("#subjects")).not_to_contain_text("S01")
    response = page.goto(f"{server}/subjects/S01")
    assert response is not None and response.status == 404


def test_download_the_pdf_report(page: Page, server: str, tmp_path: Path) -> None:
    sign_in(page, server, "statistician")
    page.goto(f"{server}/downloads")
    with page.expect_download() as info:
        page.click("text=Study report (PDF)")
    target = tmp_path / "report.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    shutil.copy(target, SHOTS / "report.pdf")
    page.goto(f"{server}/report")
    page.screenshot(path=str(SHOTS / "report.png"))


def test_the_live_scorer_in_the_browser_equals_the_python_scorer(page: Page, server: str) -> None:
    """5,000 random assessments scored by pppasi.js in Chromium and by compute_pppasi."""
    import random

    from pustula.scoring import PPPASI
    from pustula.scoring.pppasi import REGIONS, SIGNS

    rng = random.Random(20261129)
    cases = []
    for _ in range(5000):
        items: dict[str, float] = {}
        for region in REGIONS:
            for sign in SIGNS:
                items[f"{region}_{sign}"] = rng.randint(0, 4)
            # whole percents, band edges and fractions just around them
            items[f"{region}_area_pct"] = rng.choice(
                [
                    rng.randint(0, 100),
                    rng.choice([0, 9.99, 10, 29.9, 30, 49.5, 50, 70, 89.9, 90, 100]),
                ]
            )
        cases.append(items)
    sign_in(page, server, "investigator")
    page.goto(f"{server}/subjects/S01/visits/new")
    browser_totals = page.evaluate("cases => cases.map(c => window.pustulaPPPASI.score(c))", cases)
    python_totals = [PPPASI.score(c).total for c in cases]
    assert browser_totals == python_totals
    assert page.evaluate("window.pustulaPPPASI.score({})") is None  # missing items: no total


def test_the_report_page_never_scrolls_sideways_on_a_phone(browser: Browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    sign_in(phone, server, "statistician")
    phone.goto(f"{server}/report")
    width = phone.evaluate("document.documentElement.scrollWidth")
    phone.screenshot(path=str(SHOTS / "report-390.png"))
    context.close()
    assert width <= 390


def test_the_evidence_page_on_a_desktop_and_a_phone(page: Page, browser: Browser,
                                                     server: str) -> None:  # fmt: skip
    sign_in(page, server, "statistician")
    page.goto(f"{server}/evidence?tool=simon")
    page.fill("#p0", "0.05")
    page.fill("#p1", "0.25")
    page.fill("#alpha", "0.05")
    page.fill("#power", "0.8")
    page.click("text=Calculate")
    expect(page.locator("table")).to_contain_text("0 of 9")
    page.screenshot(path=str(SHOTS / "evidence-simon.png"), full_page=True)
    page.goto(f"{server}/evidence?tool=published")
    page.select_option("#index", "PPPASI")
    page.select_option("#cutoff", "50")
    page.fill("#week_from", "12")
    page.fill("#week_to", "24")
    page.check("input[name=designs][value=rct]")
    page.check("input[name=designs][value=single_arm]")
    page.select_option("#measure", "PLO")
    page.click("text=Show the forest plot")
    expect(page.locator(".error-summary")).to_contain_text("not pooled")
    page.check("input[name=mixed][value=yes]")
    page.click("text=Show the forest plot")
    expect(page.locator("figure.forest svg")).to_be_visible()
    page.screenshot(path=str(SHOTS / "evidence-forest.png"), full_page=True)
    phone = phone_page(browser)
    sign_in(phone, server, "statistician")
    phone.goto(page.url)
    phone.screenshot(path=str(SHOTS / "phone-evidence-forest.png"), full_page=True)
    no_sideways_scroll(phone)
    phone.context.close()
