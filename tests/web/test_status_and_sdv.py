"""Source data verification a visit or a form at a time, and the study's record status grid
(subjects × visits × forms, REDCap's record status dashboard)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from pustula.store import Store
from pustula.store.services import monitoring as monitor
from pustula.store.services.status import status_grid
from tests.web.conftest import csrf_of


def _cells(html: str, subject: str) -> dict[str, str]:
    row = re.search(rf'<tr data-subject="{subject}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {subject}"
    return {key: state for state, key in re.findall(
        r'class="cell state-(\w+)" data-(?:visit|form)="(\w+)"', row.group(1))}  # fmt: skip


def test_one_action_verifies_a_whole_visit_each_record_at_its_version(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    monitor_client = login("monitor")
    page = monitor_client.get("/subjects/S01").text
    w4 = re.search(r'name="group" value="(visit:\d+)"', page.split('<th scope="row">Week 4')[1])
    assert w4, "no 'Verify visit' on week 4"
    before = {r.subject: r.verified for r in monitor.sdv_progress(web_store, sites=None)}
    answer = monitor_client.post("/subjects/S01/verify", data={
        "csrf": csrf_of(page), "group": w4.group(1)}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    after = {r.subject: r.verified for r in monitor.sdv_progress(web_store, sites=None)}
    # the week-4 visit, its PPPASI and its PGA: three records in one action
    assert after["S01"] - before["S01"] == 3
    assert {k: v for k, v in after.items() if k != "S01"} == {
        k: v for k, v in before.items() if k != "S01"}  # fmt: skip
    shown = monitor_client.get(answer.headers["location"]).text
    assert "3 record(s) verified in one action." in shown
    grid = _cells(monitor_client.get("/status").text, "S01")
    assert grid["W4"] == "verified" and grid["W2"] == "entered"


def test_a_record_with_an_open_query_is_left_with_the_reason(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    from pustula.store.services.clinical import add_subject_record

    labs = [add_subject_record(web_store, "site", "lab", "S02", {
        "test": "alt", "value": v, "unit": "U/L", "sample_date": date(2024, 6, 1)})
        for v in (20, 25)]  # fmt: skip
    query = monitor.raise_query(web_store, "monitor", "S02", table="lab", record_id=labs[0].id,
                                field="value", text="Source says 21")  # fmt: skip
    client = login("monitor")
    page = client.get("/subjects/S02").text
    assert "Verify once the query is closed" in page
    answer = client.post("/subjects/S02/verify", data={"csrf": csrf_of(page), "group": "lab"})
    assert "left unverified: each has an open query" in answer.text
    t = _timeline(web_store, "S02")
    assert not t.verified("lab", labs[0].id, labs[0].version)  # the queried one
    assert t.verified("lab", labs[1].id, labs[1].version)
    assert _cells(client.get("/status").text, "S02")["lab"] == "queried"
    # the single-record path refuses it too, with the query named
    refused = client.post("/subjects/S02/verify", data={
        "csrf": csrf_of(page), "table": "lab", "record": str(labs[0].id)})  # fmt: skip
    assert refused.status_code == 422 and f"query #{query.id}" in refused.text


def test_a_group_of_another_subject_or_an_unknown_form_is_refused(
    login: Callable[[str], TestClient],
) -> None:
    client = login("monitor")
    csrf = csrf_of(client.get("/subjects/S01").text)
    other = re.search(r'name="group" value="(visit:\d+)"', client.get("/subjects/S02").text)
    assert other
    for group in (other.group(1), "visit:999999", "subject", "lab:1", ""):
        if not group:
            continue
        answer = client.post("/subjects/S01/verify", data={"csrf": csrf, "group": group})
        assert answer.status_code == 400, group


def test_the_status_grid_shows_each_state_a_coordinator_acts_on(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    from pustula.store.services.changes import end_participation

    end_participation(web_store, "investigator", "S06", outcome="withdrawn",
                      ended_on=date(2024, 9, 1), reason="moved away")  # fmt: skip
    grid = status_grid(web_store, sites=None, today=date(2030, 1, 1))
    rows = {r.subject: r for r in grid.rows}
    assert set(rows) == {"S01", "S02", "S03", "S04", "S05", "S06"}
    # every demo subject has its four visits entered, none verified yet
    assert {c.state for c in rows["S01"].visits.values()} == {"entered"}
    assert rows["S06"].status == "withdrawn"
    monitor.lock(web_store, "admin", reason="interim look", subject="S04")
    grid = status_grid(web_store, sites=None, today=date(2030, 1, 1))
    s04 = next(r for r in grid.rows if r.subject == "S04")
    assert {c.state for c in (*s04.visits.values(), *s04.forms.values())} <= {"locked", "none"}
    # a site's view holds its own subjects only
    site2 = login("site-b").get("/status").text
    assert "S05" in site2 and 'data-subject="S01"' not in site2
    assert 'data-subject="S01"' not in login("monitor").get("/status?site=SITE2").text


def _timeline(store: Store, code: str):  # type: ignore[no-untyped-def]
    from pustula.store import get_study, get_subject
    from pustula.store.monitoring.queries import subject_timeline

    with store.reader() as session:
        subject = get_subject(session, get_study(session), code)
    with store.read_connection() as connection:
        return subject_timeline(connection, subject)
