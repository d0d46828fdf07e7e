"""SDTM + ADaM + Define-XML for a synthetic registry of 10,000 subjects (target < 30 s),
and the conformance check of the SDTM folder, as a ratio to the time that writing that
folder took in the same run (target: at most 1).

Seeds the registry of ``bench_report.py`` (6 visits, PPPASI and PGA, AEs, labs; not timed),
then times what ``pustula cdisc sdtm`` and ``pustula cdisc adam`` do: read the study, build
the datasets, write every XPT v5 file and both define.xml files (each checked against the
Define-XML 2.1 schema). The conformance check of the SDTM folder is timed apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_report import VISITS, seed

from pustula.analysis import build_analysis
from pustula.cli._common import progress_bar
from pustula.interop.adam import build_adam
from pustula.interop.cdisc import write_adam, write_sdtm
from pustula.interop.cdisc_check import check_folder
from pustula.interop.sdtm import build_sdtm
from pustula.store import Store
from pustula.store.transfer.extract import read_exchange, read_study


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(20261129)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store.open(f"sqlite:///{root / 'registry.sqlite3'}")
        store.create_schema()
        t = time.perf_counter()
        seed(store, args.subjects, rng)
        print(f"seeded {args.subjects:,} subjects x {len(VISITS)} visits "
              f"in {time.perf_counter() - t:.1f} s (not timed)")  # fmt: skip
        stages: dict[str, float] = {}

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            result = fn()
            stages[name] = time.perf_counter() - start
            return result

        with progress_bar("CDISC", 24) as step:
            data = timed("read study", lambda: read_study(store))
            extra = timed("read details", lambda: read_exchange(store))
            sdtm = timed("build SDTM", lambda: build_sdtm(data, extra))
            timed("write SDTM + define", lambda: write_sdtm(
                sdtm, root / "sdtm", title=data.title, progress=step))  # fmt: skip
            analysis = timed("build ADSL/ADQS", lambda: build_analysis(data))
            adam = timed("ADaM traceability", lambda: build_adam(analysis, sdtm))
            timed("write ADaM + define", lambda: write_adam(
                adam, root / "adam", title=data.title, progress=step))  # fmt: skip
        total = sum(stages.values())
        for name, seconds in stages.items():
            print(f"{name:<22} {seconds:7.2f} s")
        rows = sum(len(f) for f in sdtm.datasets.values())
        print(f"{'total':<22} {total:7.2f} s  ({rows:,} SDTM records, "
              f"{len(adam.datasets['ADQS']):,} ADQS records; target < 30 s)")  # fmt: skip
        start = time.perf_counter()
        findings = check_folder(root / "sdtm")
        check = time.perf_counter() - start
        write = stages["write SDTM + define"]
        print(f"check (not in the total) {check:.2f} s: {len(findings)} findings; "
              f"{check / write:.2f}x the time to write the SDTM folder it checks "
              "(target <= 1)")  # fmt: skip
        for finding in findings[:3]:
            print(f"  {finding}")


if __name__ == "__main__":
    main()
