"""Several processes editing the same visit: conflicts are detected, no update is lost."""

from __future__ import annotations

import multiprocessing
from datetime import date

from sqlalchemy import func, select

from pustula.store import AuditLog, Store, Visit, get_record, record_visit
from tests.store.db.concurrent_editor import edit_notes
from tests.store.helpers import enrol, make_study

WRITERS, SAVES = 4, 15


def test_concurrent_edits_lose_nothing(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        visit_id = record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4)).id
    url = store.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(WRITERS) as pool:
        start = manager.Barrier(WRITERS)
        jobs = [(url, visit_id, w, SAVES, w, start) for w in range(WRITERS)]
        results = pool.starmap(edit_notes, jobs)
    saves = sum(done for done, _ in results)
    conflicts = sum(c for _, c in results)
    with store.reader() as session:
        visit = get_record(session, Visit, visit_id)
        audited = session.scalar(
            select(func.count()).where(AuditLog.table_name == "visit", AuditLog.field == "notes")
        )
    tokens = [t for t in visit.notes.split(";") if t]
    expected = {f"w{w}s{s}" for w in range(WRITERS) for s in range(SAVES)}
    assert saves == WRITERS * SAVES
    assert set(tokens) == expected and len(tokens) == len(expected)  # no update lost
    assert visit.version == 1 + saves
    assert audited == saves
    assert conflicts > 0, "the writers never overlapped, so the test proved nothing"
