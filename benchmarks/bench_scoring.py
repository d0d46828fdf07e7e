"""Bulk PPPASI scoring against a per-row Python loop over ``compute_pppasi``.

Run: ``uv run python benchmarks/bench_scoring.py [--rows 10000000] [--loop-rows 20000]``

The inputs are synthetic: signs 0-4 and whole area percentages 0-100, stored as uint8
(the smallest type that holds them). Bulk time covers validation and every output column
(totals, bands, per-region subscores and area scores, consistency flags); the loop runs on
a sample and reports its rate. Each timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from pustula.scoring.pppasi import PPPASI, REGIONS, SIGNS, compute_pppasi


def synthetic_arrays(n_rows: int, seed: int = 20231115) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for region in REGIONS:
        for sign in SIGNS:
            arrays[f"{region}_{sign}"] = rng.integers(0, 5, n_rows, dtype=np.uint8)
        arrays[f"{region}_area_pct"] = rng.integers(0, 101, n_rows, dtype=np.uint8)
    return arrays


def nested_rows(arrays: dict[str, np.ndarray], n_rows: int) -> list[dict[str, dict[str, int]]]:
    return [
        {
            r: {
                **{s: int(arrays[f"{r}_{s}"][i]) for s in SIGNS},
                "area_pct": int(arrays[f"{r}_area_pct"][i]),
            }
            for r in REGIONS
        }
        for i in range(n_rows)
    ]


def best_of(repeat: int, fn: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--loop-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    arrays = synthetic_arrays(args.rows)
    bulk_s = best_of(args.repeat, lambda: PPPASI.score_arrays(arrays))
    bulk_rate = args.rows / bulk_s

    sample = nested_rows(arrays, args.loop_rows)
    loop_s = best_of(args.repeat, lambda: [compute_pppasi(row) for row in sample])
    loop_rate = args.loop_rows / loop_s

    bulk_totals = PPPASI.score_arrays({k: v[: args.loop_rows] for k, v in arrays.items()}).total
    loop_totals = np.array([compute_pppasi(row).total for row in sample])
    same = bool(np.array_equal(bulk_totals, loop_totals))

    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}")
    print(f"bulk : {args.rows:>11,} assessments in {bulk_s:8.3f} s = {bulk_rate:>14,.0f} /s")
    print(f"loop : {args.loop_rows:>11,} assessments in {loop_s:8.3f} s = {loop_rate:>14,.0f} /s")
    print(f"ratio: bulk is {bulk_rate / loop_rate:,.0f}x the per-row loop")
    print(f"bulk totals equal loop totals on the sample: {same}")


if __name__ == "__main__":
    main()
