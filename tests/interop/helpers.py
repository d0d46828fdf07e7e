"""Stores for the round-trip tests: a new empty study on the same protocol, and what must
survive a round trip."""

from __future__ import annotations

from pathlib import Path

from pustula.protocol import Protocol
from pustula.store import Store, add_study
from pustula.store.services.clinical import casebooks


def new_store(path: Path) -> Store:
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    return store


def empty_copy(tmp_path: Path, protocol: Protocol) -> Store:
    store = new_store(tmp_path / "target.sqlite3")
    with store.transaction(user="t") as tx:
        add_study(tx, protocol, sites=[("SITE1", "Site 1"), ("SITE2", "Site 2")])
    return store


_BOOKKEEPING = (
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted_at",
    "subject_id",
    "exposure_id",
    "deleted_by",
    "delete_reason",
)


def _plain(view: object) -> str:
    """A record's content as sortable text (its fields may be None)."""
    values = view.as_dict()  # type: ignore[attr-defined]
    return repr(sorted((k, v) for k, v in values.items() if k not in _BOOKKEEPING))


def study_content(store: Store) -> dict[str, object]:
    """Every record of every casebook, without ids, times and users: what a round trip must
    keep."""
    out = {}
    for book in casebooks(store):
        r = book.records
        base = r.baseline[0].as_dict()
        s = book.subject
        out[book.subject.code] = {
            "subject": (book.site, s.status, s.screened_on, s.enrolled_on, s.ended_on,
                        s.end_reason, s.last_contact),
            "baseline": {k: v for k, v in base.items() if k not in _BOOKKEEPING},
            "priors": sorted((p.category, p.drug, p.response) for p in r.prior_therapy),
            "visits": sorted((v.visit_code, v.visit_date, v.study_day, v.window_status)
                             for v in r.visit),
            "scores": sorted((a.instrument, a.total, tuple(sorted(a.items.items())))
                             for a in r.assessment),
            "labs": sorted(_plain(x) for x in r.lab),
            "exposures": sorted(_plain(x) for x in r.exposure),
            "interruptions": sorted(_plain(x) for x in r.exposure_interruption),
            "adverse events": sorted(_plain(x) for x in r.adverse_event),
            "medications": sorted(_plain(x) for x in r.con_med),
        }  # fmt: skip
    return out
