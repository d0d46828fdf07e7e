"""Creating a study from its protocol file in the web app, and giving roles in it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from pustula.demo import demo_protocol_file
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


def _upload(client: TestClient, text: str, sites: str) -> object:
    csrf = csrf_of(client.get("/studies/new").text)
    return client.post("/studies/new", data={"csrf": csrf, "sites": sites},
                       files={"protocol": ("protocol.yaml", text.encode(), "application/yaml")},
                       follow_redirects=False)  # fmt: skip


def test_a_bad_protocol_is_shown_by_line_and_field_and_nothing_is_saved(login: Login) -> None:
    admin = login("admin")
    # line 7 holds a visit day that is not a number
    text = (
        "id: NEW-STUDY\ntitle: A follow-up\narms: [{code: A, label: Arm A}]\n"
        "visits:\n  - code: W0\n    label: Week 0\n    day: zero\n    baseline: true\n"
    )
    answer = _upload(admin, text, "SITE1 Hospital A\nbad$code x")
    assert answer.status_code == 400  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert "<td>7</td><td><code>visits.0.day</code></td><td>must be a whole number</td>" in page
    assert "line 2: a site code is letters and digits" in page
    assert "SITE1 Hospital A" in page  # what was typed is kept
    assert "NEW-STUDY" not in admin.get("/studies").text


def test_a_new_study_is_created_opened_and_staffed(login: Login, tmp_path: Path) -> None:
    admin = login("admin")
    protocol = yaml.safe_load(Path(demo_protocol_file()).read_text())
    protocol |= {"id": "FOLLOW-UP", "title": "Tofacitinib follow-up registry"}
    answer = _upload(admin, yaml.safe_dump(protocol), "F1 Clinic F1\nF2 Clinic F2")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == "/study/people?created=1"  # type: ignore[attr-defined]
    assert "Study <strong>FOLLOW-UP</strong>" in admin.get("/subjects").text
    # the study is empty: none of the demo's subjects
    assert "S01" not in admin.get("/subjects").text
    people = admin.get("/study/people").text
    given = admin.post("/study/people", data={
        "csrf": csrf_of(people), "username": "site-b", "role": "investigator",
        "sites": "F2", "reason": "investigator at clinic F2"}, follow_redirects=False)  # fmt: skip
    assert given.status_code == 303
    assert "site-b" in admin.get("/study/people").text
    # the same user's role in the demo study is unchanged
    site_b = login("site-b")
    studies = site_b.get("/studies").text
    assert "FOLLOW-UP" in studies and "TOFA-PPP" in studies
    # a site of another study cannot be given
    refused = admin.post("/study/people", data={
        "csrf": csrf_of(people), "username": "monitor", "role": "monitor", "sites": "SITE1",
        "reason": "x"})  # fmt: skip
    assert refused.status_code == 400 and "SITE1 is not a site of study FOLLOW-UP" in refused.text


def test_only_a_server_administrator_creates_studies(login: Login) -> None:
    assert login("investigator").get("/studies/new").status_code == 403
