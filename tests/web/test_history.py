"""Audit entries in words: records named as the casebook shows them, codes as labels."""

from __future__ import annotations

import json
from typing import Any

from pustula.checks.vocabulary import CODELISTS
from pustula.store.accounts.users import ROLES
from pustula.store.monitoring.captions import Caption
from pustula.web.history import Names, readable, record_name


def _row(table: str, record: int | None, new: dict[str, Any], action: str = "insert") -> dict:
    return {"id": 1, "at": "2026-12-02T01:37:05.123456+00:00", "user": "admin",
            "action": action, "table": table, "record": record, "field": None, "old": None,
            "new": json.dumps(new), "reason": None}  # fmt: skip


def test_a_record_is_named_by_its_caption_and_by_its_number_only_without_one() -> None:
    assert record_name("adverse_event", 7, "Itchy rash, from 2024-05-02") == (
        "Adverse event: Itchy rash, from 2024-05-02"
    )
    assert record_name("adverse_event", 7, "") == "Adverse event 7"  # removed from the database


def test_a_created_visit_names_its_visit_as_the_protocol_does() -> None:
    row = _row("visit", 28, {"visit_code": "W0", "visit_date": "2024-03-18", "status": "done"})
    names = Names({("visit", 28): Caption("Week 0, 2024-03-18", "R02")}, {"W0": "Week 0"})
    entry = readable(row, names)
    assert (entry.record, entry.subject) == ("Visit: Week 0, 2024-03-18", "R02")
    assert ("Visit", "Week 0") in {(c.label, c.new) for c in entry.changes}
    assert "W0" not in entry.summary
    assert (readable(row).record, readable(row).subject) == ("Visit 28", "")  # not found


def test_a_user_account_reads_with_role_and_sites_in_words() -> None:
    everywhere = readable(_row("app_user", 5, {"username": "admin", "role": "admin",
                                                 "sites": ["*"]}),
                          Names({("app_user", 5): Caption("admin", None)}))  # fmt: skip
    assert (everywhere.record, everywhere.subject) == ("User: admin", "")
    assert {(c.label, c.new) for c in everywhere.changes} >= {
        ("Role", "Administrator"), ("Sites", "All sites")}  # fmt: skip
    one_site = readable(_row("app_user", 4, {"role": "data_entry", "sites": ["SITE2"]}))
    assert {(c.label, c.new) for c in one_site.changes} == {
        ("Role", "Data entry"), ("Sites", "SITE2")}  # fmt: skip


def test_every_role_has_a_label() -> None:
    assert set(CODELISTS["role"]) == set(ROLES)
