"""Web app under load on PostgreSQL (loopback): 50 concurrent clients with wrk.

    uv run python benchmarks/bench_web.py [--seconds 20] [--workers 2] [--think-ms 1000]

with PUSTULA_TEST_POSTGRES_URL set; benchmarks/README.md shows how to get a throwaway
server from pg_virtualenv.

The store is seeded with 20,000 enrolled subjects with a week-0 visit, written straight
into the tables (not timed, no audit rows for the seed). After a warm-up, four runs:

0. baseline: 50 clients on GET /health, the same app and middleware with no database work;
1. reads alone: 50 clients read subject pages (GET /subjects/{code}, the server-rendered
   timeline) with no pause: the most pages per second the server can give;
2. mixed: 25 data-entry clients save visits (POST /api/v1/subjects/{code}/visits: a new
   week-2 visit with PPPASI and PGA, scored, audited, one transaction), each pausing
   --think-ms on average between saves, while 25 clients read subject pages with no pause;
3. the same writers while 25 clients call GET /health.

Then the ratios, which hold on any machine (issue 29): subject pages per second over
/health's with the writers running (target >= 0.25), and a save's p95 over /health's p95
with the writers running (target <= 10).

wrk's Lua scripts are in benchmarks/wrk/; they print requests/s and p50/p95/p99 latency.
The machine's busy share of its CPUs is printed with each run.
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
from typing import Any

from sqlalchemy import insert, select

from pustula.demo import create_demo_users
from pustula.protocol import Protocol, load_protocol
from pustula.settings import Settings
from pustula.store import Store, add_study
from pustula.store.accounts.users import issue_api_token
from pustula.store.db.models import Assessment, Baseline, Exposure, Site, Subject, Visit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAMP = {"version": 1, "created_at": "2026-11-25T00:00:00+00:00", "created_by": "bench"}
SUBJECTS = 20_000


def seed(
    store: Store, protocol: Protocol | None = None, *, arm: str | None = "TOFA", studies: int = 1
) -> str:
    """The subjects, their week 0 and the demo's users, straight into the tables (not
    timed); an admin's API token back. ``arm`` None leaves the subjects unrandomized.

    With ``studies`` > 1 the server holds that many studies (decision 0019): the first is
    the one the benchmark reads and writes; each other one has as many subjects, with the
    same codes, so that every read and save must find its own study's subject.
    """
    protocol = protocol or load_protocol(ROOT / "protocols" / "tofacitinib-ppp-case-series.yaml")
    for k in range(studies):
        this = protocol if k == 0 else protocol.model_copy(
            update={"id": f"OTHER-{k}", "title": f"Another study on the server ({k})"})  # fmt: skip
        with store.transaction(user="bench") as tx:
            study = add_study(tx, this, sites=[(f"S{k}A", "A"), (f"S{k}B", "B")], synthetic=True)
            study_id = study.id
        with store.reader() as session:
            first_site = select(Site.id).where(Site.study_id == study_id).order_by(Site.id)
            site_id = session.scalars(first_site).first()
        with store.engine.begin() as c:
            _insert_subjects(c, study_id, site_id, first=k * SUBJECTS, arm=arm)
    with store.engine.begin() as c:
        if c.dialect.name == "postgresql":
            for table in ("subject", "visit"):
                c.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {studies * SUBJECTS})"
                )
    create_demo_users(store.for_study(protocol.id), user="bench")
    with store.transaction(user="bench", reason="benchmark token") as tx:
        return issue_api_token(tx, "admin")


def _insert_subjects(c: Any, study_id: int, site_id: int | None, *, first: int,
                     arm: str | None) -> None:  # fmt: skip
    start = date(2024, 3, 1)
    ids = range(first + 1, first + SUBJECTS + 1)
    items = {
        f"{r}_{s}": 2
        for r in ("right_palm", "left_palm", "right_sole", "left_sole")
        for s in ("erythema", "pustules", "desquamation")
    }
    items |= {f"{r}_area_pct": 30 for r in ("right_palm", "left_palm", "right_sole", "left_sole")}
    c.execute(insert(Subject), [
        {"id": i, "study_id": study_id, "site_id": site_id, "code": f"R{i - first:05d}",
         "status": "enrolled", "arm": arm, "screened_on": start, "enrolled_on": start, **STAMP}
        for i in ids
    ])  # fmt: skip
    c.execute(insert(Baseline), [
        {"subject_id": i, "age": 50, "sex": "female", "disease_duration_months": 24.0,
         "eraspen_ppp": True, "smoking": "never", "pack_years": None, "triggers": [],
         "comorbidities": [], "screening": {}, **STAMP}
        for i in ids
    ])  # fmt: skip
    c.execute(insert(Exposure), [
        {"subject_id": i, "drug": "tofacitinib", "dose": 5.0, "unit": "mg",
         "frequency": "twice daily", "start_date": start, "end_date": None, **STAMP}
        for i in ids
    ])  # fmt: skip
    c.execute(insert(Visit), [
        {"id": i, "subject_id": i, "visit_code": "W0", "visit_date": start, "study_day": 0,
         "window_status": "in_window", "status": "done", "notes": "", **STAMP}
        for i in ids
    ])  # fmt: skip
    c.execute(insert(Assessment), [
        {"visit_id": i, "instrument": "pppasi", "instrument_version": "1.0", "items": items,
         "total": 18.0, "band": None, "subscores": {}, "warnings": [], **STAMP}
        for i in ids
    ])  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    url: str, env: dict[str, str], *, workers: int
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """The app on ``url`` in uvicorn with ``workers`` processes, once it answers: the
    process, its base URL and the environment it runs with."""
    port = free_port()
    env = env | {
        "PUSTULA_DATABASE_URL": url,
        "PUSTULA_SECRET_KEY": "bench-secret-0123456789abcdef-0123456789",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "pustula.web.app:app_from_env",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning",
         "--no-access-log"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/login", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, base, env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-ms", type=int, default=1000, help="writers' mean pause")
    parser.add_argument("--studies", type=int, default=3,
                        help="studies on the server, each with as many subjects")  # fmt: skip
    args = parser.parse_args()
    url = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
    if not url:
        sys.exit(
            "set PUSTULA_TEST_POSTGRES_URL (see the docstring): this benchmark runs on PostgreSQL"
        )
    sys.path.insert(0, str(ROOT))
    from tests.conftest import reset_postgres

    reset_postgres(url)
    # a PostgreSQL audit chain is signed with a key kept outside the database
    os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    store = Store.open(url)
    store.create_schema()
    token = seed(store, studies=args.studies)
    store.dispose()
    env = os.environ | {"PUSTULA_BENCH_TOKEN": token, "PUSTULA_BENCH_SUBJECTS": str(SUBJECTS),
                        "PUSTULA_BENCH_API": "/api/v1/studies/TOFA-PPP"}  # fmt: skip
    server, base, env = serve(url, env, workers=args.workers)
    try:
        # every worker imports the app and fills its caches before anything is timed
        time.sleep(8)
        _wrk(base, env, "read_subject.lua", connections=8, seconds=5)
        settings = Settings()
        print(
            f"PostgreSQL on loopback; {args.workers} uvicorn workers; "
            f"{settings.web_threads} read + {settings.web_save_threads} save threads each"
        )
        print(
            f"machine speed: {_python_loop_ms():.0f} ms for a fixed Python loop (lower is faster)"
        )
        print(f"0. baseline: 50 clients on GET /health (no database), {args.seconds} s")
        trivial_alone = _wrk(base, env, "health.lua", connections=50, seconds=args.seconds)
        print(trivial_alone.strip())
        print(f"1. reads alone: 50 readers, no pause, {args.seconds} s")
        busy, app_cpu = _Busy(), _cpu_seconds(server.pid)
        out = _wrk(base, env, "read_subject.lua", connections=50, seconds=args.seconds)
        app_cpu = _cpu_seconds(server.pid) - app_cpu
        requests = int(_field(out, "requests"))
        print(
            out.strip() + f"  machine busy {busy.percent()}%; "
            f"server CPU per page {1000 * app_cpu / max(requests, 1):.2f} ms"
        )
        print(
            f"2. mixed: 25 writers saving every {args.think_ms} ms on average, "
            f"25 readers with no pause, {args.seconds} s"
        )
        saves, reads, busy_pct = _mixed(base, env, args, "read_subject.lua", first=0)
        print(saves.strip())
        print(reads.strip() + f"  machine busy {busy_pct}%")
        print(f"3. the same writers, 25 clients on GET /health instead, {args.seconds} s")
        # new subjects for these saves: each save records a week 2 that did not exist yet
        saves_t, trivial, busy_pct = _mixed(base, env, args, "health.lua", first=SUBJECTS // 2)
        print(saves_t.strip())
        print(trivial.strip() + f"  machine busy {busy_pct}%")
        print(
            "RATIO reads alone / trivial alone = "
            f"{_field(out, 'rps') / _field(trivial_alone, 'rps'):.2f}"
        )
        print(
            "RATIO subject page rps / trivial rps, writers running = "
            f"{_field(reads, 'rps') / _field(trivial, 'rps'):.2f}  (target >= 0.25)"
        )
        print(
            "RATIO save p95 (run 2) / trivial p95 (run 3), writers running = "
            f"{_field(saves, 'p95') / _field(trivial, 'p95'):.2f}  (target <= 10)"
        )
        print(f"machine speed after the runs: {_python_loop_ms():.0f} ms for the same loop")
    finally:
        server.terminate()
        server.wait(timeout=20)


def _mixed(
    base: str, env: dict[str, str], args: argparse.Namespace, readers: str, *, first: int
) -> tuple[str, str, int]:
    """25 writers saving visits while 25 clients run ``readers``: (saves, reads, busy %)."""
    busy = _Busy()
    writes = _wrk_async(
        base, env | {"PUSTULA_BENCH_THINK_MS": str(args.think_ms),
                     "PUSTULA_BENCH_FIRST": str(first)},
        "save_visit.lua", 25, args.seconds,
    )  # fmt: skip
    reads = _wrk(base, env, readers, connections=25, seconds=args.seconds)
    return _result(writes.communicate()[0]), reads, busy.percent()


def _field(result: str, name: str) -> float:
    """A figure of a wrk RESULT line (requests, rps, p50, p95, p99)."""
    return float(re.search(rf"\b{name}=([0-9.]+)", result).group(1))  # type: ignore[union-attr]


def _wrk_async(
    base: str, env: dict[str, str], script: str, connections: int, seconds: int
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(HERE / "wrk" / script), base],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wrk(base: str, env: dict[str, str], script: str, *, connections: int, seconds: int) -> str:
    return _result(_wrk_async(base, env, script, connections, seconds).communicate()[0])


def _result(out: str) -> str:
    return "\n".join(line for line in out.splitlines() if line.startswith("RESULT"))


def _python_loop_ms() -> float:
    """Time a fixed loop: this machine's speed drifts by a third from minute to minute, and
    the figures above are only comparable with this beside them."""
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return 1000 * (time.perf_counter() - start)


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and all its descendants (Linux /proc)."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class _Busy:
    """The whole machine's busy share of its CPUs, from /proc/stat, since construction."""

    def __init__(self) -> None:
        self.start = self._ticks()

    @staticmethod
    def _ticks() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def percent(self) -> int:
        busy, total = self._ticks()
        return round(100 * (busy - self.start[0]) / max(total - self.start[1], 1))


if __name__ == "__main__":
    main()
