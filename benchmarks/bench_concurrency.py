"""Concurrent editors of one visit: saves, conflicts detected, updates lost.

Each writer process reads the visit, waits 1-5 ms as a user would, and saves with the
version it read (optimistic locking); on a conflict it reloads and tries again.

    uv run python benchmarks/bench_concurrency.py [WRITERS] [SAVES_PER_WRITER]

PostgreSQL is used too when PUSTULA_TEST_POSTGRES_URL is set (its public schema is reset).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import reset_postgres
from tests.store.db.concurrent_editor import edit_notes
from tests.store.helpers import enrol, make_study

from pustula.store import Store, Visit, get_record, record_visit


def run(url: str, writers: int, saves: int) -> None:
    # a PostgreSQL audit chain is signed with a key kept outside the database
    os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    store = Store.open(url)
    store.create_schema()
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="bench") as tx:
        visit_id = record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4)).id
    full_url = store.engine.url.render_as_string(hide_password=False)
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(writers) as pool:
        start = manager.Barrier(writers)
        jobs = [(full_url, visit_id, w, saves, w, start) for w in range(writers)]
        results = pool.starmap(edit_notes, jobs)
    elapsed = time.perf_counter() - started
    with store.reader() as session:
        notes = get_record(session, Visit, visit_id).notes
    kept = len([t for t in notes.split(";") if t])
    done = sum(d for d, _ in results)
    print(
        f"{store.engine.dialect.name:10s} writers={writers} saves={done} "
        f"conflicts detected={sum(c for _, c in results)} updates lost={done - kept} "
        f"({elapsed:.1f} s)"
    )
    store.dispose()


def main() -> None:
    writers = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    saves = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.sqlite3", writers, saves)
    pg = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
    if pg:
        reset_postgres(pg)
        run(pg, writers, saves)


if __name__ == "__main__":
    main()
