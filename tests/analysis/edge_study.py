"""A small hand-made study, built through the public store API, whose numbers are derived by
hand in the tests. The protocol is the shipped one (W0, W2, W4 ±3 days, W12 ±7 days).

PPPASI items are the same in all four regions (``tests.store.helpers.pppasi``), so the
total is (E + P + D) × area score, the weights summing to 1.0:

- ``pppasi(2, 2, 1, 20)`` = 5 × 2 = 10.0   (20 % is area score 2)
- ``pppasi(2, 2, 1, 5)``  = 5 × 1 =  5.0   (5 % is area score 1)
- ``pppasi(1, 1, 0, 5)``  = 2 × 1 =  2.0
- ``pppasi(1, 0, 0, 5)``  = 1 × 1 =  1.0
- ``pppasi(2, 1, 1, 5)``  = 4 × 1 =  4.0
- ``pppasi(2, 2, 0, 20)`` = 4 × 2 =  8.0
- ``pppasi(0, 0, 0, 0)``  = 0.0

| subject | W0 (PGA) | W2 | W4 (PGA) | W12 (PGA) | what it tests |
|---|---|---|---|---|---|
| E1 | 10.0 (3) | – | 5.0 (2): −50.0 % exactly | 2.0 (1): −80.0 % exactly | ≥ vs > |
| E2 | 0.0 (2) | – | 0.0 (0) | 0.0 (0) | baseline 0; PGA baseline < 3 |
| E3 | 10.0 (4) | – | missed | 1.0 (0): −90 % | a missed visit |
| E4 | 10.0 (3) | 8.0 | – | – | a dropout |
| E5 | 10.0 (3) | – | 4.0 (2): −60 % | 1.0 (1) on day 93: late | visit windows |
| E6 | enrolled, never dosed | | | | populations |
"""

from __future__ import annotations

from datetime import timedelta

from pustula.store import Store, Study, get_subject, record_visit
from tests.store.helpers import FIRST_DOSE, enrol, make_study, pppasi

TEN, FIVE, TWO, ONE = (
    pppasi(2, 2, 1, 20),
    pppasi(2, 2, 1, 5),
    pppasi(1, 1, 0, 5),
    pppasi(1, 0, 0, 5),
)
FOUR, EIGHT, ZERO = pppasi(2, 1, 1, 5), pppasi(2, 2, 0, 20), pppasi(0, 0, 0, 0)

#: subject -> [(visit, study day, PPPASI items, PGA)]
PLAN: dict[str, list[tuple[str, int, dict[str, int], int | None]]] = {
    "E1": [("W0", 0, TEN, 3), ("W4", 28, FIVE, 2), ("W12", 84, TWO, 1)],
    "E2": [("W0", 0, ZERO, 2), ("W4", 28, ZERO, 0), ("W12", 84, ZERO, 0)],
    "E3": [("W0", 0, TEN, 4), ("W12", 84, ONE, 0)],
    "E4": [("W0", 0, TEN, 3), ("W2", 14, EIGHT, 3)],
    "E5": [("W0", 0, TEN, 3), ("W4", 28, FOUR, 2), ("W12", 93, ONE, 1)],
}


def build_edge_study(store: Store) -> Study:
    study = make_study(store)
    for code, visits in PLAN.items():
        subject = enrol(store, study, code)
        with store.transaction(user="tester") as tx:
            for visit, day, items, pga in visits:
                assessments: dict[str, dict[str, object]] = {"pppasi": dict(items)}
                if pga is not None:
                    assessments["pga"] = {"pga": pga}
                record_visit(
                    tx, study, get_subject(tx.session, study, subject.code), visit_code=visit,
                    visit_date=FIRST_DOSE + timedelta(days=day), assessments=assessments,
                )  # fmt: skip
    enrol(store, study, "E6", dosed=False)
    return study
