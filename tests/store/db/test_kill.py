"""kill -9 during saves, 10 times on each backend: no partial record, and the audit trail
(chain and tables) still verifies. The benchmark runs the same with 100 kills."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from pustula.store import Store, verify_store
from pustula.store.db.models import Assessment, Exposure, Subject, Visit
from tests.store.helpers import make_study

ROOT = Path(__file__).resolve().parents[3]
KILLS = 10  # CI time; the benchmark kills 100 times


def partial_records(store: Store) -> int:
    """Subjects without their exposure or visit, visits without both assessments."""
    with store.engine.connect() as connection:
        subjects = connection.scalar(select(func.count()).select_from(Subject)) or 0
        exposures = connection.scalar(select(func.count()).select_from(Exposure)) or 0
        visits = connection.scalar(select(func.count()).select_from(Visit)) or 0
        assessments = connection.scalar(select(func.count()).select_from(Assessment)) or 0
    return abs(subjects - exposures) + abs(subjects - visits) + abs(2 * visits - assessments)


def kill_during_saves(
    store: Store, kills: int, *, seed: int = 1, more_until_inside: int = 0
) -> tuple[int, int, list[str]]:
    """Start a saving worker and SIGKILL it ``kills`` times; return (saves seen, kills, and
    the subject codes whose save had written but was *not* committed at the kill).

    A kill after "open N" and before "done N" may still land after the commit (during
    its fsync or before the print): whether save N was open is read from the database,
    where its subject either is, whole, or is not. ``more_until_inside`` allows up to that
    many further kills until one has landed inside an open transaction.
    """
    rng = random.Random(seed)
    url = store.engine.url.render_as_string(hide_password=False)
    saves = 0
    rolled_back: list[str] = []
    k = 0
    while k < kills or (not rolled_back and k < kills + more_until_inside):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.store.db.kill_worker", url, f"K{k}x"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=os.environ.copy(),
        )  # fmt: skip
        assert worker.stdout is not None
        while worker.stdout.readline().startswith(b"open"):
            pass  # until the first save is done: it is now in the middle of others
        time.sleep(rng.uniform(0.0, 0.15))
        worker.send_signal(signal.SIGKILL)
        raw, _ = worker.communicate()
        out = raw.decode()
        lines = out.split()
        saves += 1 + out.count("done")
        if len(lines) >= 2 and lines[-2] == "open":  # killed after "open N", before "done N"
            code = f"K{k}x{lines[-1]}"
            with store.engine.connect() as connection:
                found = connection.scalar(select(func.count()).where(Subject.code == code))
            if not found:
                rolled_back.append(code)
        k += 1
    return saves, k, rolled_back


def test_kill_9_during_saves_leaves_no_partial_record(store: Store) -> None:
    make_study(store)
    saves, kills, rolled_back = kill_during_saves(store, KILLS, more_until_inside=20)
    assert kills >= KILLS and saves >= KILLS
    # a kill did land inside an open transaction: its rows were written, then lost whole
    assert rolled_back, "no kill landed inside an open transaction"
    assert partial_records(store) == 0
    report = verify_store(store)
    assert report.ok, report.problems
