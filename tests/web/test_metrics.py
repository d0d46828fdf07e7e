"""``GET /metrics``: requests, latencies, saves and failed sign-ins by route name, with no
subject code or patient token in any label; a bearer token when one is set; and the audit
verdict for Prometheus from ``pustula audit verify --prometheus``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from pustula.cli import app as cli
from pustula.demo import create_demo_study
from pustula.store import Store
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples}  # fmt: skip


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


def test_metrics_count_pages_saves_and_failed_sign_ins_by_route_name(
    app: FastAPI, login: Login
) -> None:
    anonymous = TestClient(app)
    before = _samples(anonymous)
    form = anonymous.get("/login").text
    anonymous.post("/login", data={"username": "investigator", "password": "wrong",
                                   "csrf": csrf_of(form), "next": "/"})  # fmt: skip
    staff = login("investigator")
    staff.get("/subjects/S05")
    page = staff.get("/subjects/S05/diary/invite")
    staff.post("/subjects/S05/diary/invite", data={"csrf": csrf_of(page.text), "language": "en",
                                                   "days": "7", "reminders": "no"})  # fmt: skip
    TestClient(app).get("/p/not-a-real-token-0123456789")
    after = _samples(anonymous)
    assert _value(after, "pustula_failed_logins_total") - _value(
        before, "pustula_failed_logins_total") == 1  # fmt: skip
    page_views = ("pustula_http_requests_total",
                  {"route": "subject_timeline", "method": "GET", "status": "200"})  # fmt: skip
    assert _value(after, page_views[0], **page_views[1]) - _value(
        before, page_views[0], **page_views[1]) == 1  # fmt: skip
    assert _value(after, "pustula_saves_total", route="diary_save") - _value(
        before, "pustula_saves_total", route="diary_save") == 1  # fmt: skip
    assert _value(after, "pustula_http_request_seconds_count", route="subject_timeline",
                  method="GET") >= 1  # fmt: skip
    text = anonymous.get("/metrics").text
    assert "S05" not in text and "not-a-real-token" not in text and "/p/" not in text
    assert 'route="patient_form"' in text


def test_a_metrics_token_keeps_scrapers_out_without_it(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSTULA_METRICS_TOKEN", "scrape-me-0123456789")
    client = TestClient(app)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert right.status_code == 200 and "pustula_http_requests_total" in right.text


def test_audit_verify_writes_its_verdict_for_prometheus(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    store = Store.open(url)
    store.create_schema()
    create_demo_study(store)
    store.dispose()
    out = tmp_path / "pustula.prom"
    done = CliRunner().invoke(cli, ["--database", url, "audit", "verify", "--prometheus", str(out)])
    assert done.exit_code == 0, done.output
    found = {s.name: s.value for family in text_string_to_metric_families(out.read_text())
             for s in family.samples}  # fmt: skip
    assert found["pustula_audit_verify_ok"] == 1 and found["pustula_audit_verify_problems"] == 0
    assert found["pustula_audit_entries"] > 100


def test_a_made_up_method_adds_no_series(app: FastAPI) -> None:
    client = TestClient(app)
    for n in range(5):
        client.request(f"BREW{n}", "/health")
    text = client.get("/metrics").text
    assert "BREW" not in text and 'method="OTHER"' in text
