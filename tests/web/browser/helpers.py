"""What the browser tests do again and again: sign in, screen a subject, check the width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from pustula.demo import DEMO_PASSWORD

SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


def sign_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username)


def phone_page(browser: Browser) -> Page:
    """A page 390 px wide (a phone), in a context of its own."""
    return browser.new_context(viewport={"width": 390, "height": 844}).new_page()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"


def enrol(page: Page, server: str, code: str, *, tuberculosis: str = "negative") -> None:
    page.goto(f"{server}/subjects/new")
    page.fill("#code", code)
    page.select_option("#site", "SITE1")
    page.fill("#screened_on", "2024-09-02")
    page.fill("#age", "47")
    page.check("input[name=sex][value=female]")
    page.fill("#disease_duration_months", "30")
    page.check("input[name=eraspen_ppp][value=yes]")
    page.check("input[name=smoking][value=current]")
    page.fill("#pack_years", "15")
    page.check("input[name=triggers][value=smoking]")
    page.check("input[name=triggers][value=metal_allergy]")
    page.fill("#prior_0_drug", "clobetasol")
    page.select_option("#prior_0_category", "topical")
    page.select_option("#prior_0_response", "none")
    page.fill("#prior_1_drug", "acitretin")
    page.select_option("#prior_1_category", "systemic")
    page.select_option("#prior_1_response", "none")
    page.fill("#lab_lymphocytes", "1900")
    page.fill("#lab_neutrophils", "4200")
    page.fill("#lab_haemoglobin", "13.4")
    if tuberculosis:
        page.check(f"input[name=tuberculosis][value={tuberculosis}]")
    page.check("input[name=hepatitis][value=negative]")
    page.click("text=Screen and enrol")


def axe_findings(page: Page, server: str, paths: list[str]) -> dict[str, list[Any]]:
    """axe-core's violations of any impact (minor and best practice included), by page."""
    axe = Axe()
    found = {}
    for path in paths:
        response = page.goto(f"{server}{path}")
        assert response is not None and response.status == 200, path
        violations = axe.run(page).response["violations"]
        if violations:
            found[path] = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in violations]
    return found
