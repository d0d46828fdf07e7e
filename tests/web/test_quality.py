"""Data quality rules: a rule defined in the web app finds a seeded discrepancy at the
sites the user sees, and opens one query on each, once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from pustula.store import Store
from pustula.store.services.clinical import add_subject_record
from pustula.store.services.monitoring import search_queries
from tests.web.conftest import csrf_of

RULE = {"name": "Grade 3 not serious", "form": "adverse_event",
        "condition": "grade >= 3 and serious == no",
        "message": "A grade 3 event: confirm that it met no seriousness criterion."}  # fmt: skip


def _seed(store: Store) -> None:
    for code, grade in (("S01", 3), ("S05", 3), ("S02", 1)):  # S01 site 1, S05 site 2
        add_subject_record(store, "site", "ae", code, {
            "term": "Neutropenia", "start_date": date(2024, 5, 1), "grade": grade,
            "serious": False, "relatedness": "probable", "action_taken": "none",
            "outcome": "recovering"})  # fmt: skip


def _grade_3_not_serious(store: Store) -> list[str]:
    from sqlalchemy import select

    from pustula.store.db.models import AdverseEvent, Subject

    with store.reader() as session:
        return sorted(session.scalars(
            select(Subject.code).join(AdverseEvent, AdverseEvent.subject_id == Subject.id)
            .where(AdverseEvent.grade >= 3, AdverseEvent.serious.is_(False),
                   AdverseEvent.deleted_at.is_(None))))  # fmt: skip


def test_a_rule_finds_the_seeded_discrepancies_and_opens_one_query_on_each(
    login: Callable[[str], TestClient], web_store: Store
) -> None:
    _seed(web_store)
    monitor = login("monitor")
    csrf = csrf_of(monitor.get("/quality").text)
    saved = monitor.post("/quality", data={**RULE, "csrf": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    page = monitor.get(saved.headers["location"]).text
    rows = re.findall(r'<tr><th scope="row"><a href="/subjects/(\w+)">', page)
    expected = _grade_3_not_serious(web_store)  # read apart from the rule
    assert {"S01", "S05"} <= set(expected) and "S02" not in expected  # seeded; grade 1 not
    assert rows == expected
    n = len(expected)
    assert f"{n} discrepancies at the sites you see; {n} without a query" in page
    url = saved.headers["location"] + "/queries"
    assert monitor.post(url, data={"csrf": csrf}, follow_redirects=False).status_code == 303
    opened = [r for r in search_queries(web_store, sites=None, today=date(2024, 9, 1))
              if (r.query.rule or "").startswith("quality:")]  # fmt: skip
    assert sorted(r.subject for r in opened) == expected
    assert all(r.query.text.startswith("Grade 3 not serious: A grade 3 event") for r in opened)
    monitor.post(url, data={"csrf": csrf})  # again: no second query on the same record
    assert len([r for r in search_queries(web_store, sites=None, today=date(2024, 9, 1))
                if (r.query.rule or "").startswith("quality:")]) == n  # fmt: skip
    query_page = monitor.get(f"/queries/{opened[0].query.id}").text
    assert "Data quality rule" in query_page
    # site 2's staff see their own discrepancy only
    site_b = login("site-b").get(saved.headers["location"]).text
    assert set(re.findall(r'<a href="/subjects/(\w+)">',
                          site_b.split('id="discrepancies"')[1])) == {"S05", "S06"} & set(expected)  # fmt: skip


def test_a_rule_with_errors_shows_them_all_at_once_and_saves_nothing(
    login: Callable[[str], TestClient],
) -> None:
    monitor = login("monitor")
    csrf = csrf_of(monitor.get("/quality").text)
    answer = monitor.post("/quality", data={"csrf": csrf, "name": "", "form": "adverse_event",
                                            "condition": "__import__('os')", "message": ""})  # fmt: skip
    assert answer.status_code == 400
    for field, words in (("name", "is required"), ("message", "is required"),
                         ("condition", "is not a function rules can use")):  # fmt: skip
        found = re.search(rf'data-field="{field}">([^<]*)<', answer.text)
        assert found and words in found.group(1), field
    assert "__import__(&#39;os&#39;)" in answer.text  # kept
    assert "No rule yet." in monitor.get("/quality").text
    # site staff may run rules but not define them
    assert login("site-b").post("/quality", data={"csrf": csrf, **RULE}).status_code == 403
