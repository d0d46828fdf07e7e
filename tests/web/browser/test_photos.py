"""A coordinator photographs a subject's palms at two visits on a phone (390 px), sees
the thumbnails, compares the region across visits beside its PPPASI, and is told in words
when a file is not a photograph. Screenshots: ``photos-*``."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.photos import phone_jpeg
from tests.web.browser.helpers import SHOTS, axe_findings, no_sideways_scroll, phone_page, sign_in

pytestmark = pytest.mark.browser


def shot(page: Page, step: str) -> None:
    page.screenshot(path=str(SHOTS / f"photos-{step}.png"), full_page=True)


def _take(page: Page, server: str, visit: str, picture: Path, region: str) -> None:
    page.goto(f"{server}/subjects/S03")
    page.locator("#visits tr", has_text=visit).locator("a.photos").click()
    expect(page.locator("h1")).to_contain_text(f"Photographs, {visit}")
    page.check(f"input[name=region][value={region}]")
    page.set_input_files("input[type=file]", str(picture))
    page.click("#action-form button[type=submit]")
    expect(page.locator("p.ok")).to_contain_text("Photograph kept")


def test_a_coordinator_photographs_palms_on_a_phone_and_compares_them(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    phone = phone_page(browser)
    sign_in(phone, server, "investigator")
    before, after = tmp_path / "week0.jpg", tmp_path / "week12.jpg"
    before.write_bytes(phone_jpeg(1200, 900))
    after.write_bytes(phone_jpeg(1100, 900, orientation=1))
    _take(phone, server, "Week 0", before, "right_palm")
    no_sideways_scroll(phone)
    shot(phone, "01-visit-after-upload")
    thumbnail = phone.locator("#region-right_palm ~ figure img").first
    expect(thumbnail).to_be_visible()
    assert phone.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) > 0
    _take(phone, server, "Week 12", after, "right_palm")

    phone.goto(f"{server}/subjects/S03")
    phone.click("#compare-photos")
    expect(phone.locator(".compare-visit")).to_have_count(2)
    expect(phone.locator(".compare-visit figcaption").first).to_contain_text(
        "PPPASI of the right palm"
    )
    no_sideways_scroll(phone)
    shot(phone, "02-compare-phone")
    assert axe_findings(phone, server, ["/subjects/S03/photos?region=right_palm"]) == {}


def test_a_file_that_is_not_a_photograph_is_refused_next_to_its_field(
    page: Page, server: str, tmp_path: Path
) -> None:
    sign_in(page, server, "investigator")
    fake = tmp_path / "palm.jpg"
    fake.write_bytes(b"<!doctype html><script>alert(1)</script>")
    page.goto(f"{server}/subjects/S04")
    page.locator("#visits tr", has_text="Week 4").locator("a.photos").click()
    visit_page = page.url.removeprefix(server)
    page.click("#action-form button[type=submit]")  # nothing chosen: both named at once
    expect(page.locator("#error-summary li")).to_have_count(2)
    page.check("input[name=region][value=left_sole]")
    page.set_input_files("input[type=file]", str(fake))
    page.click("#action-form button[type=submit]")
    expect(page.locator("#file-error")).to_contain_text("JPEG, PNG or HEIC")
    expect(page.locator("input[name=region][value=left_sole]")).to_be_checked()
    shot(page, "03-not-a-photograph")
    assert axe_findings(page, server, [visit_page]) == {}
