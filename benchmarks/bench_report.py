"""Analysis and report on a synthetic registry: 10,000 subjects x 6 visits in the store.

    uv run python benchmarks/bench_report.py [--subjects 10000]

Seeding the store is not timed: it writes rows straight into the tables with SQLAlchemy
Core (no audit rows), which is fine for a benchmark fixture and is never how Pustula
saves clinical data. Timed stages: reading the study from the store, building ADSL/ADQS
with every derivation, the statistics table and the formatted tables, the five figures,
the HTML and the PDF.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert

from pustula.analysis import build_analysis
from pustula.analysis.plots import all_figures
from pustula.protocol import parse_protocol
from pustula.report import render_html, render_pdf, report_from_analysis
from pustula.report.build import Report
from pustula.scoring import PPPASI
from pustula.store import Store, add_study
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    Exposure,
    Lab,
    Subject,
    Visit,
)
from pustula.store.transfer.extract import read_study

REGIONS = ("right_palm", "left_palm", "right_sole", "left_sole")
VISITS = (("W0", 0), ("W2", 14), ("W4", 28), ("W8", 56), ("W12", 84), ("W24", 168))
STAMP = {"version": 1, "created_at": "2026-11-25T00:00:00+00:00", "created_by": "bench"}


def registry_protocol() -> dict[str, object]:
    return {
        "id": "REG",
        "title": "Synthetic PPP registry (benchmark)",
        "country": "JPN",
        "arms": [{"code": "TOFA", "label": "Tofacitinib"}],
        "visits": [
            {
                "code": c,
                "label": f"Week {d // 7}",
                "day": d,
                "baseline": d == 0,
                "window_before": 0 if d == 0 else 7,
                "window_after": 0 if d == 0 else 7,
                "instruments": ["pppasi", "pga"],
            }
            for c, d in VISITS
        ],
        "endpoints": [
            {
                "id": "PPPASI75_W24",
                "label": "PPPASI75 week 24",
                "instrument": "pppasi",
                "visit": "W24",
                "kind": "pppasi_reduction",
                "threshold": 75,
            }
        ],
    }


def seed(store: Store, n: int, rng: np.random.Generator) -> None:
    with store.transaction(user="bench") as tx:
        study = add_study(
            tx, parse_protocol(registry_protocol()), sites=[("S1", "Site")], synthetic=True
        )
        study_id, site_id = study.id, 1
    first = date(2024, 1, 1)
    ids = np.arange(1, n + 1)
    starts = [first + timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    with store.engine.begin() as c:
        c.execute(
            insert(Subject),
            [
                {
                    "id": int(i),
                    "study_id": study_id,
                    "site_id": site_id,
                    "code": f"R{i:05d}",
                    "status": "enrolled",
                    "arm": "TOFA",
                    "screened_on": s,
                    "enrolled_on": s,
                    **STAMP,
                }
                for i, s in zip(ids, starts, strict=True)
            ],
        )
        c.execute(
            insert(Baseline),
            [
                {
                    "subject_id": int(i),
                    "age": int(a),
                    "sex": sx,
                    "disease_duration_months": float(d),
                    "eraspen_ppp": True,
                    "smoking": sm,
                    "pack_years": None,
                    "triggers": ["smoking"] if sm == "current" else [],
                    "comorbidities": [],
                    "screening": {},
                    **STAMP,
                }
                for i, a, sx, d, sm in zip(
                    ids,
                    rng.integers(20, 80, n),
                    rng.choice(["female", "male"], n),
                    rng.integers(4, 240, n),
                    rng.choice(["never", "current", "former"], n),
                    strict=True,
                )
            ],
        )
        c.execute(
            insert(Exposure),
            [
                {
                    "subject_id": int(i),
                    "drug": "tofacitinib",
                    "dose": 5.0,
                    "unit": "mg",
                    "frequency": "twice daily",
                    "start_date": s,
                    "end_date": s + timedelta(days=168),
                    **STAMP,
                }
                for i, s in zip(ids, starts, strict=True)
            ],
        )
        visit_rows, assessment_rows = [], []
        severity = rng.uniform(0.3, 1.0, n)
        for k, (code, day) in enumerate(VISITS):
            keep = rng.uniform(size=n) > (0.0 if k == 0 else 0.08)  # 8 % of later visits missed
            scale = severity * (1 - min(0.9, day / 120) * rng.uniform(0.4, 1.1, n))
            items = {
                f"{r}_{s}": np.clip(np.rint(scale * rng.uniform(1.5, 4, n)), 0, 4).astype(int)
                for r in REGIONS
                for s in ("erythema", "pustules", "desquamation")
            }
            items |= {
                f"{r}_area_pct": np.clip(np.rint(scale * rng.uniform(5, 70, n)), 0, 100).astype(int)
                for r in REGIONS
            }
            totals = PPPASI.score_frame(pd.DataFrame(items))["total"].to_numpy()
            pga = np.clip(np.rint(scale * 4), 0, 4).astype(int)
            for j in np.flatnonzero(keep):
                vid = len(visit_rows) + 1
                visit_rows.append(
                    {
                        "id": vid,
                        "subject_id": int(ids[j]),
                        "visit_code": code,
                        "visit_date": starts[j] + timedelta(days=day),
                        "study_day": day,
                        "window_status": "in_window",
                        "status": "done",
                        "notes": "",
                        **STAMP,
                    }
                )
                row_items = {key: int(v[j]) for key, v in items.items()}
                assessment_rows.append(
                    {
                        "visit_id": vid,
                        "instrument": "pppasi",
                        "instrument_version": "1.0",
                        "items": row_items,
                        "total": float(totals[j]),
                        "band": None,
                        "subscores": {},
                        "warnings": [],
                        **STAMP,
                    }
                )
                assessment_rows.append(
                    {
                        "visit_id": vid,
                        "instrument": "pga",
                        "instrument_version": "1.0",
                        "items": {"pga": int(pga[j])},
                        "total": float(pga[j]),
                        "band": None,
                        "subscores": {},
                        "warnings": [],
                        **STAMP,
                    }
                )
        c.execute(insert(Visit), visit_rows)
        c.execute(insert(Assessment), assessment_rows)
        with_ae = ids[rng.uniform(size=n) < 0.3]
        c.execute(
            insert(AdverseEvent),
            [
                {
                    "subject_id": int(i),
                    "term": "Nasopharyngitis",
                    "meddra_pt": "Nasopharyngitis",
                    "meddra_soc": "Infections and infestations",
                    "start_date": starts[i - 1] + timedelta(days=20),
                    "end_date": starts[i - 1] + timedelta(days=27),  # recovered: it ended
                    "grade": 1,
                    "serious": False,
                    "serious_criteria": [],
                    "relatedness": "possible",
                    "action_taken": "none",
                    "outcome": "recovered",
                    "worsened_on_treatment": False,
                    "treatment_emergent": True,
                    **STAMP,
                }
                for i in with_ae
            ],
        )
        c.execute(
            insert(Lab),
            [
                {
                    "subject_id": int(i),
                    "test": "neutrophils",
                    "value": float(v),
                    "unit": "/mm3",
                    "lower_limit": 1800.0,
                    "upper_limit": None,
                    "sample_date": starts[i - 1] + timedelta(days=28),
                    "on_treatment": True,
                    "alerts": [],
                    "ctcae_grade": 0 if v >= 1800 else 1,
                    **STAMP,
                }
                for i, v in zip(ids, rng.normal(4000, 1200, n).clip(900), strict=True)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(20261125)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'registry.sqlite3'}")
        store.create_schema()
        t = time.perf_counter()
        seed(store, args.subjects, rng)
        print(
            f"seeded {args.subjects:,} subjects x {len(VISITS)} visits "
            f"in {time.perf_counter() - t:.1f} s (not timed)"
        )
        stages: dict[str, float] = {}

        def timed(name: str, fn):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            value = fn()
            stages[name] = time.perf_counter() - start
            return value

        data = timed("read study from store", lambda: read_study(store))
        analysis = timed("datasets + derivations", lambda: build_analysis(data))
        report: Report = timed(
            "statistics + tables", lambda: report_from_analysis(analysis, figures=False)
        )
        figures = timed("figures (5: SVG, PDF, 300-dpi PNG)", lambda: all_figures(analysis))
        report = Report(**{**report.__dict__, "figures": figures})
        html = timed("HTML", lambda: render_html(report))
        pdf = timed("PDF", lambda: render_pdf(report))
        print(
            f"ADQS rows: {len(analysis.adqs):,}; "
            f"HTML {len(html) / 1e6:.1f} MB; PDF {len(pdf) / 1e6:.1f} MB"
        )
        for name, seconds in stages.items():
            print(f"{name:28s} {seconds:6.2f} s")
        print(f"{'total':28s} {sum(stages.values()):6.2f} s")
        print(json.dumps({k: round(v, 3) for k, v in stages.items()}))


if __name__ == "__main__":
    main()
