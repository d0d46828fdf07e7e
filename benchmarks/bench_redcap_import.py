"""Importing a REDCap records export, all or nothing (target: 1,000,000 rows in < 30 s).

Seeds the synthetic registry of ``bench_report.py`` (not timed), exports it as REDCap
records (one row per record and event; not timed), then times what ``pustula redcap
import`` does: parse and check every row, then enrol every subject and record and score
every visit in one transaction (with its audit trail). Prints rows per second and the time
1,000,000 rows would take at that rate.
"""

from __future__ import annotations

import argparse
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
from pustula.store.services import casebooks, import_subjects
from pustula.store.study import protocol_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = Store.open(f"sqlite:///{root / 'source.sqlite3'}")
        source.create_schema()
        seed(source, args.subjects, np.random.default_rng(20261129))
        with source.reader() as session:
            protocol = protocol_of(get_study(session))
        text = export_records(casebooks(source), protocol)
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
        rate = rows / total
        print(f"{rows:,} rows ({args.subjects:,} records) parsed in {parsed:.2f} s, "
              f"imported in {total:.2f} s: {rate:,.0f} rows/s")  # fmt: skip
        print(f"1,000,000 rows at this rate: {1_000_000 / rate:,.0f} s (target < 30 s)")


if __name__ == "__main__":
    main()
