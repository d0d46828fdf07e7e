"""Stores for the round-trip tests: a new empty study on the same protocol, and what must
survive a round trip."""

from __future__ import annotations

from pathlib import Path

from pustula.protocol import Protocol
from pustula.store import Store, add_study
from pustula.store.services import casebooks


def new_store(path: Path) -> Store:
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    return store


def empty_copy(tmp_path: Path, protocol: Protocol) -> Store:
    store = new_store(tmp_path / "target.sqlite3")
    with store.transaction(user="t") as tx:
        add_study(tx, protocol, sites=[("SITE1", "Site 1"), ("SITE2", "Site 2")])
    return store


def study_content(store: Store) -> dict[str, object]:
    """What must survive the round trip, without ids, times and users."""
    out = {}
    for book in casebooks(store):
        r = book.records
        base = r.baseline[0].as_dict()
        out[book.subject.code] = {
            "subject": (book.site, book.subject.status, book.subject.screened_on),
            "baseline": {k: v for k, v in base.items()
                         if k not in ("id", "version", "created_at", "created_by", "subject_id")},
            "priors": sorted((p.category, p.drug, p.response) for p in r.prior_therapy),
            "visits": sorted((v.visit_code, v.visit_date, v.study_day, v.window_status)
                             for v in r.visit),
            "scores": sorted((a.instrument, a.total, tuple(sorted(a.items.items())))
                             for a in r.assessment),
            "screening labs": sorted((x.test, x.value) for x in r.lab
                                     if x.sample_date == book.subject.screened_on
                                     and x.test != "alt"),
        }  # fmt: skip
    return out
