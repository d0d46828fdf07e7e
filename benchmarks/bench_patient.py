"""A patient's submission under load, beside a visit save's, on PostgreSQL (loopback).

    uv run python benchmarks/bench_patient.py [--seconds 20] [--workers 2]

with PUSTULA_TEST_POSTGRES_URL set (benchmarks/README.md: pg_virtualenv). The store is
seeded as for bench_web.py; 50 subjects are invited to answer their week-0 itch, pain and
DLQI. Four submissions warm the workers up (the patient pages' templates and catalogue),
untimed. Then, while 25 data-entry clients save visits (wrk, as bench_web.py run 2), 5
patients send the other 46 answers (POST /p/{token}: checks, scoring, the token spent,
audit, one transaction), each pausing between sends as the writers do. 50 in all: the
patient pages allow 60 requests per client in 10 minutes, and every patient here comes
from 127.0.0.1.

Printed: the patients' p50/p95, the visit saves' p95 in the same run, and the ratio (the
issue asks for them side by side; a patient's save does what a visit save does, plus the
token, so the ratio should stay near 1).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_web import _field, _result, _wrk_async, seed, serve  # noqa: E402

from pustula.store import Store  # noqa: E402
from pustula.store.services.patient import invite  # noqa: E402

PATIENTS = 50
WARM = 4
PATIENTS_AT_ONCE = 5
ANSWERS = {"itch_nrs": "7", "pain_nrs": "4", "dlqi_q1": "3", "dlqi_q2": "2", "dlqi_q3": "1",
           "dlqi_q4": "0", "dlqi_q5": "not_relevant", "dlqi_q6": "1", "dlqi_q7": "yes",
           "dlqi_q8": "0", "dlqi_q9": "0", "dlqi_q10": "1"}  # fmt: skip


def _tokens(store: Store) -> list[str]:
    from sqlalchemy import select

    from pustula.store.db.models import Subject, Visit

    with store.reader() as session:
        visits = session.execute(
            select(Subject.code, Visit.id).join(Visit, Visit.subject_id == Subject.id)
            .where(Visit.visit_code == "W0").order_by(Subject.id.desc()).limit(PATIENTS)
        ).all()  # fmt: skip
    return [invite(store, "bench", code, visit, kind="link", language="en").token
            for code, visit in visits]  # fmt: skip


def _submit(base: str, token: str, timings: list[float], statuses: list[int]) -> None:
    data = urllib.parse.urlencode(ANSWERS).encode()
    request = urllib.request.Request(f"{base}/p/{token}", data=data, method="POST",
                                     headers={"Origin": base})  # fmt: skip
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        statuses.append(response.status)
        response.read()
    timings.append(1000 * (time.perf_counter() - start))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
    if not url:
        sys.exit("set PUSTULA_TEST_POSTGRES_URL: this benchmark runs on PostgreSQL")
    from tests.conftest import reset_postgres

    reset_postgres(url)
    os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    store = Store.open(url)
    store.create_schema()
    api_token = seed(store)
    tokens = _tokens(store)
    store.dispose()
    env = os.environ | {"PUSTULA_BENCH_TOKEN": api_token}
    server, base, env = serve(url, env, workers=args.workers)
    try:
        time.sleep(8)
        # each worker reads the patient pages' templates and catalogue once: not timed
        for token in tokens[:WARM]:
            _submit(base, token, [], [])
        writers = _wrk_async(base, env | {"PUSTULA_BENCH_THINK_MS": "1000"}, "save_visit.lua",
                             25, args.seconds)  # fmt: skip
        timings: list[float] = []
        statuses: list[int] = []
        rest = tokens[WARM:]
        gap = 0.8 * args.seconds / (len(rest) / PATIENTS_AT_ONCE)

        def patient(mine: list[str]) -> None:
            rng = random.Random(len(mine))
            for token in mine:
                time.sleep(gap * (0.5 + rng.random()))  # patients think, as the writers do
                _submit(base, token, timings, statuses)

        threads = [threading.Thread(target=patient, args=(rest[i::PATIENTS_AT_ONCE],))
                   for i in range(PATIENTS_AT_ONCE)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        saves = _result(writers.communicate()[0])
        ok = sum(1 for s in statuses if s == 200)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{len(timings)} patient submissions (after {WARM} to warm up) during "
              f"{args.seconds} s of 25 visit writers; {ok} answered 200")  # fmt: skip
        print(f"patients: p50={statistics.median(timings):.1f} ms p95={p95:.1f} ms")
        print(saves.strip())
        print(f"RATIO patient p95 / visit save p95 = {p95 / _field(saves, 'p95'):.2f}")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
