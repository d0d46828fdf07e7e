"""Interim monitoring in the web app: the DMC's open report pools the arms for everyone,
the closed one is for the roles that see arms; a Simon study's stage 1 decision is
recorded after password re-entry (SYNTHETIC studies)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from pustula.demo import create_demo_users, trial_protocol
from pustula.settings import Settings
from pustula.web.app import create_app
from tests.report.test_interim import _simon
from tests.web.conftest import SECRET, _signing_in, csrf_of

Login = Callable[[str], TestClient]
ARMS = [a.label for a in trial_protocol().arms]


def test_a_blinded_role_gets_the_open_report_with_no_arm_and_not_the_closed_one(
    trial_login: Login,
) -> None:
    client = trial_login("statistician")
    page = client.get("/interim")
    assert page.status_code == 200
    assert "plans no interim look" in page.text and "/dmc-report/closed" not in page.text
    report = client.get("/dmc-report")
    assert "OPEN: arms pooled" in report.text and "Serious adverse events" in report.text
    assert not [a for a in ARMS if a in report.text]
    assert client.get("/dmc-report/closed").status_code == 403


def test_the_dmc_reads_the_closed_report_by_arm_never_cached(trial_login: Login) -> None:
    client = trial_login("dmc")
    assert "/dmc-report/closed" in client.get("/interim").text
    closed = client.get("/dmc-report/closed")
    assert closed.status_code == 200 and closed.headers["cache-control"] == "no-store"
    assert "CLOSED: by arm" in closed.text and all(a in closed.text for a in ARMS)
    pdf = client.get("/dmc-report/closed?format=pdf")
    assert pdf.content[:5] == b"%PDF-" and "closed.pdf" in pdf.headers["content-disposition"]


def test_a_simon_decision_needs_the_password_and_keeps_the_comment(tmp_path: Path) -> None:
    store = _simon(["responder"] * 4 + ["non-responder"] * 9,
                   f"sqlite:///{tmp_path / 'simon.sqlite3'}")  # fmt: skip
    create_demo_users(store)
    client = _signing_in(create_app(Settings(secret_key=SECRET), store=store))("statistician")
    page = client.get("/interim")
    assert "Simon stage 1" in page.text and "<strong>Continue</strong>" in page.text
    wrong = client.post("/interim", data={"csrf": csrf_of(page.text), "password": "nope",
                                          "comment": "DMC meeting 3 June"})  # fmt: skip
    assert wrong.status_code == 400
    assert "the password is not yours" in wrong.text and "DMC meeting 3 June" in wrong.text
    done = client.post("/interim", data={"csrf": csrf_of(wrong.text),
                                         "password": "pustula-demo",
                                         "comment": "DMC meeting 3 June"},
                       follow_redirects=True)  # fmt: skip
    assert "The decision was recorded in the audit trail." in done.text
    row = done.text.split('id="interim-decisions"')[1]
    assert "continue" in row and "statistician" in row and "DMC meeting 3 June" in row
    store.dispose()
