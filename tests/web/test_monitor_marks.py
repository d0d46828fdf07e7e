"""A record's monitoring marks on the subject page: what a monitor and a data-entry user see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pustula.web.render import ENV

LONG = "Please check the date against the clinic letter <b>of 3 May</b>, which gives another day"


@dataclass
class _Rec:
    id: int
    version: int = 1


@dataclass
class _Query:
    id: int
    text: str
    state: str = "open"


@dataclass
class _Timeline:
    queries: dict[tuple[str, int], list[_Query]] = field(default_factory=dict)
    verified_keys: set[tuple[str, int, int]] = field(default_factory=set)
    lock: object | None = None

    def open_queries(self, table: str, record_id: int) -> list[_Query]:
        return self.queries.get((table, record_id), [])

    def verified(self, table: str, record_id: int, version: int) -> bool:
        return (table, record_id, version) in self.verified_keys


class _User:
    def __init__(self, *permissions: str) -> None:
        self.permissions = set(permissions)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def _marks(t: _Timeline, user: _User, table: str = "con_med", rec: Any = None) -> str:
    page = ENV.from_string("{{ marks(t, table, rec, 'S01') }}")
    return page.render(t=t, table=table, rec=rec or _Rec(4), user=user, csrf="tok<en>")


def test_a_monitor_sees_an_unverified_record_with_verify_and_raise_query() -> None:
    html = _marks(_Timeline(), _User("verify", "query"))

    assert '<form method="post" action="/subjects/S01/verify" class="inline">' in html
    assert 'name="csrf" value="tok&lt;en&gt;"' in html
    assert 'name="table" value="con_med"' in html and 'name="record" value="4"' in html
    assert 'aria-label="Verify con med 4 against the source"' in html
    assert 'href="/subjects/S01/queries/new?table=con_med&amp;record=4"' in html
    assert "Raise a query on con med 4" in html


def test_an_open_query_shows_its_number_and_its_text_cut_to_70_characters() -> None:
    t = _Timeline(queries={("visit", 9): [_Query(12, LONG, "answered")]})

    html = _marks(t, _User("verify", "query"), "visit", _Rec(9))

    # Jinja's truncate: at most 70 characters (with 5 of leeway), cut at a word, then "…"
    shown = "Please check the date against the clinic letter &lt;b&gt;of 3 May&lt;/b&gt;,…"
    assert '<a class="query-flag" href="/queries/12" data-query="12">Query #12 (answered)' in html
    assert f'<span class="query-text">: {shown}</span></a>' in html
    assert "Verify once the query is closed" in html
    assert "<form" not in html


def test_a_verified_record_says_so_and_offers_no_verification() -> None:
    t = _Timeline(verified_keys={("lab", 3, 2)})

    assert '<span class="verified">Verified</span>' in _marks(t, _User("verify"), "lab", _Rec(3, 2))
    # a later version of the record is no longer verified
    assert "Verified<" not in _marks(t, _User("verify"), "lab", _Rec(3, 3))


def test_data_entry_sees_queries_but_no_monitoring_actions() -> None:
    t = _Timeline(queries={("lab", 3): [_Query(5, "Unit?")]})

    html = _marks(t, _User("enter"), "lab", _Rec(3))

    assert "Query #5 (open)" in html and ": Unit?" in html
    assert "Verify" not in html and "Raise query" not in html


def _verify_all(t: _Timeline, user: _User, records: list[tuple[str, list[_Rec]]]) -> str:
    page = ENV.from_string("{{ verify_all(t, 'visit:7', 'visit', 'S01', *records) }}")
    return page.render(t=t, records=records, user=user, csrf="x")


def test_verify_all_is_offered_while_one_record_of_the_group_is_unverified() -> None:
    records = [("visit", [_Rec(7)]), ("assessment", [_Rec(8)])]
    partly = _Timeline(verified_keys={("visit", 7, 1)})
    wholly = _Timeline(verified_keys={("visit", 7, 1), ("assessment", 8, 1)})

    html = _verify_all(partly, _User("verify"), records)

    assert 'class="inline verify-all"' in html and 'name="group" value="visit:7"' in html
    assert "Verify visit</button>" in html
    assert _verify_all(wholly, _User("verify"), records) == ""


def test_verify_all_is_not_offered_on_a_locked_record_or_without_the_permission() -> None:
    records = [("visit", [_Rec(7)])]

    assert _verify_all(_Timeline(lock=object()), _User("verify"), records) == ""
    assert _verify_all(_Timeline(), _User("enter"), records) == ""
