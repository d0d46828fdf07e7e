"""Importing a REDCap records export of 1,000,000 rows, all or nothing (target: < 30 s).

Seeds the synthetic registry of ``bench_report.py`` (2,000 subjects; not timed), exports
it as REDCap records (one row per record and event, repeating forms for study drug, labs
and AEs; not timed), and copies its casebooks under new record ids until the file has
``--rows`` rows. Then times what ``pustula redcap import`` does: parse and check every
row, then enrol every subject and record, score and check every visit in one
transaction, with one audit entry per casebook. Prints the time of each step.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_report import seed

from pustula.cli._common import progress_bar
from pustula.interop.redcap_records import export_records, parse_records
from pustula.store import Store, add_study, get_study
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks, import_subjects, subject_rows


def copied(text: str, rows: int) -> str:
    """The export with its casebooks copied under new record ids up to at least ``rows``."""
    header, *body = text.splitlines()
    copies = math.ceil(rows / len(body))
    out = [header]
    for k in range(copies):
        for line in body:
            code, rest = line.split(",", 1)
            out.append(f"{code}-{k},{rest}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=2_000, help="distinct casebooks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = Store.open(f"sqlite:///{root / 'source.sqlite3'}")
        source.create_schema()
        seed(source, args.subjects, np.random.default_rng(20261129))
        with source.reader() as session:
            protocol = protocol_of(get_study(session))
        text = copied(export_records(casebooks(source), protocol), args.rows)
        rows = text.count("\n") - 1
        target = Store.open(f"sqlite:///{root / 'target.sqlite3'}")
        target.create_schema()
        with target.transaction(user="bench") as tx:
            add_study(tx, protocol, sites=[("S1", "Site")])
        start = time.perf_counter()
        subjects = parse_records(text, protocol)
        parsed = time.perf_counter() - start
        with progress_bar("Importing", len(subjects)) as step:
            import_subjects(target, "bench", subjects, reason="benchmark", progress=step)
        total = time.perf_counter() - start
        assert len(subject_rows(target, sites=None)) == len(subjects)
        print(f"{rows:,} rows ({len(subjects):,} records): parsed and checked in "
              f"{parsed:.1f} s, imported in {total:.1f} s in all: {rows / total:,.0f} rows/s "
              "(target: 1,000,000 rows in < 30 s)")  # fmt: skip


if __name__ == "__main__":
    main()
