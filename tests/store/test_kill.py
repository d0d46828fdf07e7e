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
from pustula.store.models import Assessment, Exposure, Subject, Visit
from tests.store.helpers import make_study

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10  # CI time; the benchmark kills 100 times


def partial_records(store: Store) -> int:
    """Subjects without their exposure or visit, visits without both assessments."""
    with store.engine.connect() as connection:
        subjects = connection.scalar(select(func.count()).select_from(Subject)) or 0
        exposures = connection.scalar(select(func.count()).select_from(Exposure)) or 0
        visits = connection.scalar(select(func.count()).select_from(Visit)) or 0
        assessments = connection.scalar(select(func.count()).select_from(Assessment)) or 0
    return abs(subjects - exposures) + abs(subjects - visits) + abs(2 * visits - assessments)


def kill_during_saves(store: Store, kills: int, *, seed: int = 1) -> tuple[int, int]:
    """Start a saving worker and SIGKILL it ``kills`` times; return (saves seen, kills)."""
    rng = random.Random(seed)
    url = store.engine.url.render_as_string(hide_password=False)
    saves = 0
    for k in range(kills):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.store.kill_worker", url, f"K{k}x"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=os.environ.copy(),
        )  # fmt: skip
        assert worker.stdout is not None
        worker.stdout.readline()  # the first save is done: it is now in the middle of others
        time.sleep(rng.uniform(0.0, 0.15))
        worker.send_signal(signal.SIGKILL)
        out, _ = worker.communicate()
        saves += 1 + len(out.splitlines())
    return saves, kills


def test_kill_9_during_saves_leaves_no_partial_record(store: Store) -> None:
    make_study(store)
    saves, kills = kill_during_saves(store, KILLS)
    assert kills == KILLS and saves >= KILLS
    assert partial_records(store) == 0
    report = verify_store(store)
    assert report.ok, report.problems
