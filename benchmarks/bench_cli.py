"""CLI start-up: how long `pustula --help` and one `pustula score --json` take, and what
the CLI imports at start-up (``python -X importtime``).

    uv run python benchmarks/bench_cli.py

Targets (issue 13): `pustula --help` under 0.3 s, `pustula score pppasi --json` under 1 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PUSTULA = Path(sys.executable).with_name("pustula")
ITEMS = json.dumps(
    {region: {"erythema": 2, "pustules": 3, "desquamation": 1, "area_pct": 25}
     for region in ("right_palm", "left_palm", "right_sole", "left_sole")}
)  # fmt: skip
RUNS = 15


def wall(*args: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(PUSTULA), *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_profile(module: str) -> list[tuple[int, str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines()[1:]:  # "import time: self | cumulative | name"
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.strip()))
    return rows


def main() -> None:
    help_s = wall("--help")
    score_s = wall("score", "pppasi", "--json", ITEMS)
    profile = import_profile("pustula.cli")
    total = max(c for c, _ in profile)
    heavy_roots = ("pandas", "numpy", "sqlalchemy", "scipy", "matplotlib")
    heavy = [name for _, name in profile if name.split(".")[0] in heavy_roots]
    print(f"pustula --help                median of {RUNS}: {help_s:.3f} s  (target < 0.3 s)")
    print(f"pustula score pppasi --json   median of {RUNS}: {score_s:.3f} s  (target < 1 s)")
    print(f"import pustula.cli: {total / 1e6:.3f} s; heavy packages imported: {len(heavy)}")
    for cumulative, name in sorted(profile, reverse=True)[:5]:
        print(f"  {cumulative / 1e3:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
