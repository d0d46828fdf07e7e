"""Small builders for store tests: a study from the shipped protocol, a subject, a visit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pustula.protocol import load_protocol
from pustula.store import Store, Study, Subject, add_exposure, add_study, enrol_subject
from pustula.store.db.models import AuditLog

PROTOCOL = Path(__file__).parents[2] / "protocols" / "tofacitinib-ppp-case-series.yaml"
FIRST_DOSE = date(2024, 3, 4)

BASELINE: dict[str, Any] = {
    "age": 50, "sex": "female", "disease_duration_months": 24, "eraspen_ppp": True,
    "smoking": "current", "pack_years": 10, "triggers": ["smoking"], "comorbidities": [],
    "screening": {"tuberculosis": "negative", "hepatitis": "negative"},
}  # fmt: skip
PRIOR = [
    {"category": "topical", "drug": "clobetasol", "response": "none"},
    {"category": "systemic", "drug": "acitretin", "response": "none"},
]
LABS = {"lymphocytes": 1800, "neutrophils": 4000, "haemoglobin": 13.5}


def pppasi(e: int = 2, p: int = 2, d: int = 2, area: int = 30) -> dict[str, int]:
    """Flat PPPASI items with the same values in all four regions."""
    items: dict[str, int] = {}
    for region in ("right_palm", "left_palm", "right_sole", "left_sole"):
        items |= {f"{region}_erythema": e, f"{region}_pustules": p,
                  f"{region}_desquamation": d, f"{region}_area_pct": area}  # fmt: skip
    return items


def make_study(store: Store) -> Study:
    with store.transaction(user="tester") as tx:
        return add_study(tx, load_protocol(PROTOCOL), sites=[("A", "Site A"), ("B", "Site B")])


def enrol(store: Store, study: Study, code: str = "S01", *, dosed: bool = True) -> Subject:
    with store.transaction(user="tester") as tx:
        subject = enrol_subject(
            tx, study, code=code, site="A", screened_on=date(2024, 2, 26),
            baseline=BASELINE, prior_therapies=PRIOR, screening_labs=LABS,
        ).subject  # fmt: skip
        if dosed:
            add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                       "frequency": "twice daily", "start_date": FIRST_DOSE})  # fmt: skip
    return subject


def audit_count(store: Store) -> int:
    with store.reader() as session:
        return session.scalar(select(func.count()).select_from(AuditLog)) or 0


def count(store: Store, model: Any) -> int:
    with store.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def drop_audit_triggers(store: Store) -> None:
    """Only someone with DDL rights can do this; the chain must still catch them."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def dump_tables(
    store: Store, *, leave_out: tuple[str, ...] = ()
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (but the audit trail and ``leave_out``), in key order."""
    from pustula.store.db.models import Base

    skipped = {"audit_log", "audit_head", *leave_out}
    with store.engine.connect() as connection:
        return {
            t.name: [
                tuple(r) for r in connection.execute(select(t).order_by(*t.primary_key.columns))
            ]
            for t in Base.metadata.sorted_tables
            if t.name not in skipped
        }


def write_signed_manifest(bundle: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` signed with the test run's installation key: a bundle a trusted
    writer produced, so that the checks behind the signature are the ones tested."""
    import json
    import os

    from pustula.store.keys.signing import read_private_key

    key = read_private_key(Path(os.environ["PUSTULA_SIGNING_KEY_FILE"]))
    (bundle / "manifest.json").write_text(json.dumps(key.sign(manifest)))
