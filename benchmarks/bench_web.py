"""Web app under load on PostgreSQL (loopback): 50 concurrent clients with wrk.

    uv run python benchmarks/bench_web.py [--seconds 20] [--workers 2]

with PUSTULA_TEST_POSTGRES_URL set; benchmarks/README.md shows how to get a throwaway
server from pg_virtualenv.

25 clients save visits (POST /api/v1/subjects/{code}/visits: a new week-2 visit with
PPPASI and PGA, scored, audited, one transaction) and 25 read subject pages (GET
/subjects/{code}, the server-rendered timeline), at the same time, for --seconds. The
store is seeded with 20,000 enrolled subjects with a week-0 visit, written straight into
the tables (not timed, no audit rows for the seed). wrk's Lua scripts are in
benchmarks/wrk/; they print requests/s and p50/p95/p99 latency.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

from sqlalchemy import insert

from pustula.demo import create_demo_users
from pustula.protocol import load_protocol
from pustula.store import Store, add_study
from pustula.store.models import Assessment, Baseline, Exposure, Subject, Visit
from pustula.store.users import issue_api_token

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAMP = {"version": 1, "created_at": "2026-11-25T00:00:00+00:00", "created_by": "bench"}
SUBJECTS = 20_000


def seed(store: Store) -> str:
    protocol = load_protocol(ROOT / "protocols" / "tofacitinib-ppp-case-series.yaml")
    with store.transaction(user="bench") as tx:
        study = add_study(tx, protocol, sites=[("SITE1", "A"), ("SITE2", "B")], synthetic=True)
        study_id = study.id
    start = date(2024, 3, 1)
    ids = range(1, SUBJECTS + 1)
    items = {
        f"{r}_{s}": 2
        for r in ("right_palm", "left_palm", "right_sole", "left_sole")
        for s in ("erythema", "pustules", "desquamation")
    }
    items |= {f"{r}_area_pct": 30 for r in ("right_palm", "left_palm", "right_sole", "left_sole")}
    with store.engine.begin() as c:
        c.execute(
            insert(Subject),
            [
                {
                    "id": i,
                    "study_id": study_id,
                    "site_id": 1,
                    "code": f"R{i:05d}",
                    "status": "enrolled",
                    "arm": "TOFA",
                    "screened_on": start,
                    "enrolled_on": start,
                    **STAMP,
                }
                for i in ids
            ],
        )
        c.execute(
            insert(Baseline),
            [
                {
                    "subject_id": i,
                    "age": 50,
                    "sex": "female",
                    "disease_duration_months": 24.0,
                    "eraspen_ppp": True,
                    "smoking": "never",
                    "pack_years": None,
                    "triggers": [],
                    "comorbidities": [],
                    "screening": {},
                    **STAMP,
                }
                for i in ids
            ],
        )
        c.execute(
            insert(Exposure),
            [
                {
                    "subject_id": i,
                    "drug": "tofacitinib",
                    "dose": 5.0,
                    "unit": "mg",
                    "frequency": "twice daily",
                    "start_date": start,
                    "end_date": None,
                    **STAMP,
                }
                for i in ids
            ],
        )
        c.execute(
            insert(Visit),
            [
                {
                    "id": i,
                    "subject_id": i,
                    "visit_code": "W0",
                    "visit_date": start,
                    "study_day": 0,
                    "window_status": "in_window",
                    "status": "done",
                    "notes": "",
                    **STAMP,
                }
                for i in ids
            ],
        )
        c.execute(
            insert(Assessment),
            [
                {
                    "visit_id": i,
                    "instrument": "pppasi",
                    "instrument_version": "1.0",
                    "items": items,
                    "total": 18.0,
                    "band": None,
                    "subscores": {},
                    "warnings": [],
                    **STAMP,
                }
                for i in ids
            ],
        )
        if c.dialect.name == "postgresql":
            for table in ("subject", "visit"):
                c.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {SUBJECTS})"
                )
    create_demo_users(store, user="bench")
    with store.transaction(user="bench", reason="benchmark token") as tx:
        return issue_api_token(tx, "admin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
    if not url:
        sys.exit(
            "set PUSTULA_TEST_POSTGRES_URL (see the docstring): this benchmark runs on PostgreSQL"
        )
    sys.path.insert(0, str(ROOT))
    from tests.conftest import reset_postgres

    reset_postgres(url)
    store = Store.open(url)
    store.create_schema()
    token = seed(store)
    store.dispose()
    port = free_port()
    env = os.environ | {
        "PUSTULA_DATABASE_URL": url,
        "PUSTULA_SECRET_KEY": "bench-secret-0123456789abcdef",
        "PUSTULA_BENCH_TOKEN": token,
        "PUSTULA_BENCH_SUBJECTS": str(SUBJECTS),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "pustula.web.app:app_from_env",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        duration = f"{args.seconds}s"
        common = ["wrk", "-t1", "-c25", "-d", duration, "--timeout", "5s"]
        writes = subprocess.Popen(
            [*common, "-s", str(HERE / "wrk" / "save_visit.lua"), base],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        reads = subprocess.Popen(
            [*common, "-s", str(HERE / "wrk" / "read_subject.lua"), base],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        out = writes.communicate()[0] + reads.communicate()[0]
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        f"PostgreSQL on loopback; {args.workers} uvicorn workers; "
        f"25 writers + 25 readers for {duration}"
    )
    for line in out.splitlines():
        if line.startswith("RESULT"):
            print(line)
    lost = re.findall(r"errors=(\d+)", out)
    print(f"non-2xx or socket errors: {sum(int(x) for x in lost)}")


if __name__ == "__main__":
    main()
