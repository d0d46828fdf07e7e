"""A process that saves visits as fast as it can until it is killed (kill -9 tests).

Each save is one unit of work: a subject enrolled, dosed, and a visit with its PPPASI and
PGA, so a partial save would show as a subject without its visit or a visit without its
assessments. It prints ``open N`` once save N has written inside its transaction and
``done N`` after the commit, so that the test can tell a kill inside an open transaction
from one between saves. Run as ``python -m tests.store.db.kill_worker URL PREFIX``.
"""

from __future__ import annotations

import sys
from datetime import date
from itertools import count

from pustula.store import Store, add_exposure, enrol_subject, get_study, record_visit
from tests.store.helpers import BASELINE, LABS, PRIOR, pppasi


def main(url: str, prefix: str) -> None:
    store = Store.open(url)
    with store.reader() as session:
        study = get_study(session)
    for n in count():
        with store.transaction(user="killable") as tx:
            subject = enrol_subject(
                tx, study, code=f"{prefix}{n}", site="A", screened_on=date(2024, 2, 26),
                baseline=BASELINE, prior_therapies=PRIOR, screening_labs=LABS,
            ).subject  # fmt: skip
            tx.flush()
            print(f"open {n}", flush=True)  # written, not committed
            add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                       "frequency": "twice daily", "start_date": date(2024, 3, 4)})  # fmt: skip
            record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                         assessments={"pppasi": pppasi(), "pga": {"pga": 3}})  # fmt: skip
        print(f"done {n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
