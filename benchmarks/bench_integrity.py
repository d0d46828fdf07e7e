"""Integrity under attack, at scale: kill -9 during saves, and fuzzed bundle imports.

The CI runs the same suites smaller (10 kills per backend, 1,000 bundles); this runs 100
kills and 10,000 bundles and prints what they found. It stops by itself.

    uv run python benchmarks/bench_integrity.py                     # SQLite
    uv run python benchmarks/bench_integrity.py --postgres URL      # and PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)

from tests.conftest import reset_postgres  # noqa: E402
from tests.store.helpers import make_study  # noqa: E402
from tests.store.test_bundle_fuzz import NASTY, TABLES, _apply, _dump, build_source  # noqa: E402
from tests.store.test_kill import kill_during_saves, partial_records  # noqa: E402

from pustula.errors import ImportBundleError  # noqa: E402
from pustula.store import Store, import_bundle, verify_store  # noqa: E402


def kills(url: str, count: int) -> None:
    store = Store.open(url)
    store.create_schema()
    make_study(store)
    started = time.perf_counter()
    saves, done, rolled_back = kill_during_saves(store, count, seed=20261129)
    report = verify_store(store)
    print(
        f"{store.engine.dialect.name:10s} kill -9: {done} kills during {saves} saves "
        f"({len(rolled_back)} inside an open transaction, rolled back) in "
        f"{time.perf_counter() - started:.0f} s; partial records {partial_records(store)}; "
        f"audit verify {'ok' if report.ok else report.problems}"
    )
    store.dispose()


def fuzz(count: int, folder: Path) -> None:
    bundle, expected = build_source(folder)
    target = Store.open(f"sqlite:///{folder / 'target.sqlite3'}")
    target.create_schema()
    rng = random.Random(20261129)
    kinds = ["cell", "cell", "cell", "drop_row", "dup_row", "truncate", "bytes", "manifest",
             "delete_file"]  # fmt: skip
    refused = accepted_same = accepted_altered = other = 0
    started = time.perf_counter()
    for n in range(count):
        case = folder / f"case{n}"
        shutil.copytree(bundle, case)
        mutation = (rng.choice(kinds), rng.choice(TABLES), str(rng.randrange(10**6)),
                    rng.choice(NASTY), str(rng.random() < 0.5))  # fmt: skip
        _apply(case, mutation)
        try:
            import_bundle(target, case, user="fuzz", reason="fuzz")
        except ImportBundleError:
            refused += 1
        except Exception as exc:  # counted, not raised: the figure says what went wrong
            other += 1
            print("unexpected:", type(exc).__name__, mutation)
        else:
            same = _dump(target) == expected
            accepted_same, accepted_altered = accepted_same + same, accepted_altered + (not same)
            target.dispose()
            (folder / "target.sqlite3").unlink()
            target = Store.open(f"sqlite:///{folder / 'target.sqlite3'}")
            target.create_schema()
        shutil.rmtree(case)
    print(
        f"fuzzed bundles: {count} in {time.perf_counter() - started:.0f} s; refused "
        f"{refused}, accepted unchanged {accepted_same}, accepted altered {accepted_altered}, "
        f"tracebacks {other}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--bundles", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its public schema is dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kills(f"sqlite:///{Path(tmp) / 'kills.sqlite3'}", args.kills)
        if args.postgres:
            reset_postgres(args.postgres)
            kills(args.postgres, args.kills)
        fuzz(args.bundles, Path(tmp))


if __name__ == "__main__":
    main()
