"""Amending the protocol in the web app: a draft uploaded with its problems shown by line,
its review, a signed approval, and recording the consents it asks for."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from pustula.demo import DEMO_PASSWORD, demo_protocol_file, trial_protocol_file
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


def _amended(version: str = "1.1") -> str:
    """The demo protocol with W12's window narrowed to ±3 days."""
    stated = yaml.safe_load(Path(demo_protocol_file()).read_text())
    stated["version"] = version
    for visit in stated["visits"]:
        if visit["code"] == "W12":
            visit["window_before"] = visit["window_after"] = 3
    return yaml.safe_dump(stated, sort_keys=False)


def _upload(client: TestClient, text: str, **fields: str) -> object:
    csrf = csrf_of(client.get("/study/protocol").text)
    return client.post("/study/protocol", data={"csrf": csrf, **fields},
                       files={"protocol": ("amended.yaml", text.encode(), "application/yaml")},
                       follow_redirects=False)  # fmt: skip


def test_a_draft_with_problems_shows_each_by_line_and_keeps_what_was_typed(
    login: Login,
) -> None:
    admin = login("admin")
    text = _amended().replace("id: TOFA-PPP", "id: OTHER-STUDY")
    answer = _upload(admin, text, summary="Narrows the week-12 window", effective_on="")
    page = answer.text  # type: ignore[attr-defined]
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "give the day the amendment takes effect" in page.lower() or "required" in page
    assert "Narrows the week-12 window" in page
    answer = _upload(admin, text, summary="Narrows the week-12 window",
                     effective_on="2024-06-20")  # fmt: skip
    page = answer.text  # type: ignore[attr-defined]
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "<td><code>id</code></td><td>this is the protocol of OTHER-STUDY" in page
    assert "Draft, waiting" not in admin.get("/study/protocol").text


def test_a_draft_is_reviewed_approved_with_a_signature_and_reconsent_recorded(
    login: Login,
) -> None:
    admin = login("admin")
    answer = _upload(admin, _amended(), summary="Narrows the week-12 window",
                     effective_on="2024-05-01")  # fmt: skip
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == "/study/protocol/1.1?saved=draft"  # type: ignore[attr-defined]
    review = admin.get("/study/protocol/1.1").text
    assert "Window of W12 changed: day 84, −7 to +7 days → day 84, −3 to +3 days" in review
    # no answer about re-consent is chosen for the approver
    assert 'name="reconsent" value="yes" checked' not in review
    refused = admin.post("/study/protocol/1.1/approve", data={
        "csrf": csrf_of(review), "reason": "EC approval", "reconsent": "yes",
        "username": "admin", "password": "not-mine"})  # fmt: skip
    assert refused.status_code == 400
    assert "nothing was approved" in refused.text and "EC approval" in refused.text
    approved = admin.post("/study/protocol/1.1/approve", data={
        "csrf": csrf_of(review), "reason": "EC approval", "reconsent": "yes",
        "username": "admin", "password": DEMO_PASSWORD}, follow_redirects=False)  # fmt: skip
    assert approved.status_code == 303
    assert "Approved" in admin.get("/study/protocol").text
    # an approved version says what it changed from the version before it
    assert "Window of W12 changed" in admin.get("/study/protocol/1.1").text
    # S01's visits: week 12 (27 May 2024) is on or after 1 May, judged by 1.1; the others not
    visits = admin.get("/api/v1/studies/TOFA-PPP/subjects/S01").json()["visits"]
    assert {v["visit_code"]: v["window_protocol_version"] for v in visits} == {
        "W0": "1.0",
        "W2": "1.0",
        "W4": "1.0",
        "W12": "1.1",
    }
    investigator = login("investigator")
    # the subject's page says what S01 consented to and what they owe (S01 was screened on
    # 26 Feb 2024, under 1.0; 1.1 took effect on 1 May 2024 and asked for new consent)
    html = investigator.get("/subjects/S01").text
    page = re.sub(r"<[^>]+>", "", html)  # the words, without the markup that keeps dates whole
    assert "Protocol 1.0, at screening (2024-02-26)" in page
    assert "Must consent again to protocol 1.1, in force since 2024-05-01." in page
    assert 'href="/study/consent#consent-S01"' in html
    consents = investigator.get("/study/consent").text
    assert all(f">{code}</a>" in consents for code in ("S01", "S02", "S03", "S04"))
    future = investigator.post("/study/consent/S01", data={
        "csrf": csrf_of(consents), "consented_on": "2999-01-01"})  # fmt: skip
    assert future.status_code == 400 and "cannot be in the future" in future.text
    saved = investigator.post("/study/consent/S01", data={
        "csrf": csrf_of(consents), "consented_on": "2024-05-10"}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert ">S01</a>" not in investigator.get("/study/consent").text
    page = re.sub(r"<[^>]+>", "", investigator.get("/subjects/S01").text)
    assert "Protocol 1.1, consented again on 2024-05-10" in page
    assert "Must consent again" not in page


def test_only_a_study_administrator_uploads_or_approves(login: Login) -> None:
    investigator = login("investigator")
    assert investigator.get("/study/protocol").status_code == 200
    assert "Upload an amendment" not in investigator.get("/study/protocol").text
    csrf = csrf_of(investigator.get("/study/protocol").text)
    assert investigator.post("/study/protocol", data={"csrf": csrf}).status_code == 403
    assert login("monitor").post("/study/consent/S01", data={"csrf": csrf}).status_code == 403


def test_new_block_sizes_reach_no_page_of_a_blinded_trial(trial_login: Login) -> None:
    """Every role but two is blinded, the study administrator too: an amendment's review
    and its approved page say that the blocks changed, never their sizes."""
    stated = yaml.safe_load(Path(trial_protocol_file()).read_text())
    old = stated["randomization"]["block_sizes"]
    stated["version"] = "9.1"
    stated["randomization"]["block_sizes"] = [9, 18]
    stated["randomization"]["slots_per_stratum"] = 72
    admin = trial_login("admin")
    answer = _upload(admin, yaml.safe_dump(stated, sort_keys=False),
                     summary="Larger blocks", effective_on="2025-06-01")  # fmt: skip
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    review = admin.get("/study/protocol/9.1").text
    assert "randomization block sizes or list length changed (not shown" in review
    for sizes in (old, [9, 18]):
        assert not re.search(r"\b" + r"\D{1,3}".join(map(str, sizes)) + r"\b", review)
    assert "72" not in review
    admin.post("/study/protocol/9.1/approve", data={
        "csrf": csrf_of(review), "reason": "DMC advice", "reconsent": "no",
        "username": "admin", "password": DEMO_PASSWORD})  # fmt: skip
    approved = trial_login("investigator").get("/study/protocol/9.1").text
    assert "Approved" in approved and "block sizes or list length changed (not shown" in approved
    assert "18" not in approved and "72" not in approved
