"""A worker process that edits one visit's notes the way a user does through a form:
read the record, think, then save with the version that was read."""

from __future__ import annotations

import random
import time
from typing import Any

from pustula.errors import ConflictError
from pustula.store import Store, Visit, get_record, update_record


def edit_notes(
    url: str, visit_id: int, worker: int, saves: int, seed: int, start: Any = None
) -> tuple[int, int]:
    """Append ``saves`` tokens to the notes; return (saves, conflicts met on the way).

    ``start`` is a barrier shared by the workers: processes start at different speeds, and
    without it the first may finish before the last begins, so nothing would overlap.
    """
    store = Store.open(url)
    rng = random.Random(seed)
    if start is not None:
        start.wait(timeout=120)
    done = conflicts = 0
    while done < saves:
        with store.reader() as session:
            seen = get_record(session, Visit, visit_id)
            version, notes = seen.version, seen.notes
        time.sleep(rng.uniform(0.001, 0.005))
        try:
            with store.transaction(user=f"worker{worker}", reason="concurrent edit") as tx:
                row = get_record(tx.session, Visit, visit_id)
                token = f"w{worker}s{done};"
                update_record(tx, row, {"notes": notes + token}, expected_version=version)
            done += 1
        except ConflictError:
            conflicts += 1
    store.dispose()
    return done, conflicts
