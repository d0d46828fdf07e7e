"""The demo study reproduces the published aggregates, recounted from an exported bundle.

The PPPASI here is recomputed by hand from the bundle's item values, independently of
pustula.scoring: per region (E + P + D) x area score x weight, weights 0.2 for each palm
and 0.3 for each sole; area bands 0: 0 %, 1: < 10 %, 2: 10-29 %, 3: 30-49 %, 4: 50-69 %,
5: 70-89 %, 6: 90-100 % (docs/clinical/instruments.md).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pustula.demo import DEMO_NOTICE, SUBJECTS, create_demo_study
from pustula.store import Store, export_bundle

WEIGHTS = {"right_palm": 0.2, "left_palm": 0.2, "right_sole": 0.3, "left_sole": 0.3}


def _area_score(pct: float) -> int:
    if pct == 0:
        return 0
    for score, upper in ((1, 10), (2, 30), (3, 50), (4, 70), (5, 90)):
        if pct < upper:
            return score
    return 6


def _hand_pppasi(items: dict[str, float]) -> float:
    return sum(
        (items[f"{r}_erythema"] + items[f"{r}_pustules"] + items[f"{r}_desquamation"])
        * _area_score(items[f"{r}_area_pct"]) * w
        for r, w in WEIGHTS.items()
    )  # fmt: skip


def _read(bundle: Path, table: str) -> list[dict[str, str]]:
    with (bundle / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_exported_demo_reproduces_the_case_series(sqlite_store: Store, tmp_path: Path) -> None:
    create_demo_study(sqlite_store)
    export_bundle(sqlite_store, tmp_path)
    subjects = {s["id"]: s["code"] for s in _read(tmp_path, "subject")}
    visits = {
        v["id"]: (subjects[v["subject_id"]], v["visit_code"]) for v in _read(tmp_path, "visit")
    }
    pppasi = {
        visits[a["visit_id"]]: _hand_pppasi(json.loads(a["items"]))
        for a in _read(tmp_path, "assessment")
        if a["instrument"] == "pppasi"
    }
    for (code, visit), total in pppasi.items():
        stored = next(
            float(a["total"]) for a in _read(tmp_path, "assessment")
            if a["instrument"] == "pppasi" and visits[a["visit_id"]] == (code, visit)
        )  # fmt: skip
        assert abs(stored - total) < 1e-9

    def reduction(code: str, visit: str) -> float:
        return 100 * (pppasi[(code, "W0")] - pppasi[(code, visit)]) / pppasi[(code, "W0")]

    codes = sorted(subjects.values())
    assert len(codes) == 6
    week4 = [reduction(c, "W4") for c in codes]
    week12 = [reduction(c, "W12") for c in codes]
    assert sum(r >= 50 for r in week4) == 6
    assert sum(r >= 80 for r in week4) == 3
    assert sum(r >= 80 for r in week12) == 5
    # no subject on a cut-off: ">" counts the same as ">="
    assert all(r not in (50.0, 75.0, 80.0, 90.0) for r in week4 + week12)


def test_the_demo_is_labelled_synthetic(sqlite_store: Store, tmp_path: Path) -> None:
    study = create_demo_study(sqlite_store)
    summary = export_bundle(sqlite_store, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert study.synthetic and summary.synthetic
    assert "SYNTHETIC" in manifest["note"] and "SYNTHETIC" in DEMO_NOTICE
    assert all(42 <= s["age"] <= 58 for s in SUBJECTS)
    assert {s["age"] for s in SUBJECTS} >= {42, 58}


def test_the_lab_driven_interruption_has_its_adverse_event(sqlite_store: Store) -> None:
    from pustula.analysis import build_analysis
    from pustula.analysis.ard import build_ard
    from pustula.store.transfer.extract import read_study

    create_demo_study(sqlite_store)
    data = read_study(sqlite_store)
    s06 = data.adverse_events[data.adverse_events["subject"] == "S06"]
    neutropenia = s06[s06["meddra_pt"] == "Neutrophil count decreased"]
    assert neutropenia[["grade", "action_taken"]].values.tolist() == [[3, "interrupted"]]
    assert len(data.interruptions[data.interruptions["subject"] == "S06"]) == 1
    ard = build_ard(build_analysis(data))
    worst = ard[(ard["table"] == "ae_overview") & (ard["variable"] == "Worst CTCAE grade")]
    grade3 = worst[(worst["level"] == "3") & (worst["stat"] == "n")]["value"].item()
    assert grade3 == 1  # was "worst grade 3: 0" beside a CTCAE grade 3 neutropenia
