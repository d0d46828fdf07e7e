"""Randomization under load on PostgreSQL (loopback): 50 concurrent clients, beside a visit
save's latency in the same run (issue 30).

    uv run python benchmarks/bench_randomize.py [--seconds 10] [--think-ms 0]

with PUSTULA_TEST_POSTGRES_URL set (benchmarks/README.md: a throwaway server from
pg_virtualenv).

The store holds the double-blind demo trial's protocol (2:1, blocks of 3 and 6, strata site
and smoking) with 20,000 enrolled subjects, all at SITE1 and never smokers, so that every
randomization competes for the next slot of the same stratum, and an allocation list long
enough for all of them. Not timed. Then, each with 50 clients:

0. baseline: GET /health, the same app and middleware with no database work;
1. randomizations: POST /api/v1/subjects/{code}/randomization, one new subject per request;
2. visit saves: POST /api/v1/subjects/{code}/visits (week 2, PPPASI and PGA), other subjects.

Last, the list is checked as an auditor would: no slot taken twice, none skipped, one
audit entry per randomization, the list reproduced from its seed, and the audit chain
verified (the chain: the seed's rows are written without a trail). The ratio printed is
a randomization's p95 over a save's p95 in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench_web import ROOT, SUBJECTS, _Busy, _field, _python_loop_ms, _wrk, seed, serve
from sqlalchemy import func, select

from pustula.demo import trial_protocol
from pustula.store import Store
from pustula.store.audit.chain import verify_audit
from pustula.store.db.models import Allocation, AuditLog
from pustula.store.services.trial import generate_allocation, verify_allocation


def _seed(store: Store) -> str:
    protocol = trial_protocol()
    assert protocol.randomization is not None
    # one stratum holds every subject: the list must reach them all
    randomization = protocol.randomization.model_copy(update={"slots_per_stratum": SUBJECTS})
    token = seed(store, protocol.model_copy(update={"randomization": randomization}), arm=None)
    generate_allocation(store, "bench", seed="be9c" * 16)
    return token


def _audit(store: Store) -> None:
    """What an auditor checks after the run; exits non-zero on any finding."""
    with store.reader() as session:
        taken = session.execute(
            select(Allocation.stratum, Allocation.position)
            .where(Allocation.subject_id.is_not(None))
            .order_by(Allocation.stratum, Allocation.position)
        ).all()
        audited = session.scalar(
            select(func.count(func.distinct(AuditLog.record_id))).where(
                AuditLog.table_name == "allocation", AuditLog.action == "update"
            )
        )
    positions = [p for _, p in taken]
    strata = {s for s, _ in taken}
    duplicates = len(positions) - len(set(positions))
    skipped = (max(positions) - len(positions)) if positions else 0
    problems = verify_allocation(store)
    with store.snapshot_connection() as connection:  # the seed's rows have no trail
        chain = verify_audit(connection, store.audit_key)
    print(
        f"audit: {len(taken)} slots taken in {len(strata)} stratum, duplicates={duplicates}, "
        f"skipped={skipped}, audit entries={audited}, "
        f"list from seed: {problems or 'reproduced'}, chain: {chain.problems or 'intact'}"
    )
    if duplicates or skipped or audited != len(taken) or problems or chain.problems:
        sys.exit("the allocation after the run is not what an auditor must find")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-ms", type=int, default=0, help="each client's mean pause")
    args = parser.parse_args()
    url = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
    if not url:
        sys.exit("set PUSTULA_TEST_POSTGRES_URL (see the docstring): this runs on PostgreSQL")
    sys.path.insert(0, str(ROOT))
    from tests.conftest import reset_postgres

    reset_postgres(url)
    os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    store = Store.open(url)
    store.create_schema()
    token = _seed(store)
    env = os.environ | {"PUSTULA_BENCH_TOKEN": token,
                        "PUSTULA_BENCH_THINK_MS": str(args.think_ms)}  # fmt: skip
    server, base, env = serve(url, env, workers=args.workers)
    try:
        time.sleep(8)  # every worker imports the app before anything is timed
        warm = env | {"PUSTULA_BENCH_FIRST": str(SUBJECTS - 400)}
        _wrk(base, warm, "save_visit.lua", connections=4, seconds=3)
        print(f"PostgreSQL on loopback; {args.workers} uvicorn workers; 50 clients each run")
        print(f"machine speed: {_python_loop_ms():.0f} ms for a fixed Python loop")
        trivial = _wrk(base, env, "health.lua", connections=50, seconds=args.seconds)
        print("0. GET /health       " + trivial.strip())
        busy = _Busy()
        randomized = _wrk(base, env | {"PUSTULA_BENCH_FIRST": "0"}, "randomize.lua",
                          connections=50, seconds=args.seconds)  # fmt: skip
        print("1. randomize         " + randomized.strip() + f"  machine busy {busy.percent()}%")
        busy = _Busy()
        saves = _wrk(base, env | {"PUSTULA_BENCH_FIRST": str(SUBJECTS // 2)}, "save_visit.lua",
                     connections=50, seconds=args.seconds)  # fmt: skip
        print("2. save a visit      " + saves.strip() + f"  machine busy {busy.percent()}%")
        print(
            "RATIO randomization p95 / visit save p95 = "
            f"{_field(randomized, 'p95') / _field(saves, 'p95'):.2f}"
        )
        print(
            "RATIO randomization p95 / trivial p95 = "
            f"{_field(randomized, 'p95') / _field(trivial, 'p95'):.2f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    _audit(store)
    store.dispose()


if __name__ == "__main__":
    main()
