"""Read views: the visit schedule's states on a given day."""

from __future__ import annotations

from datetime import date

from pustula.store import Store, get_study
from pustula.store.monitoring.queries import visit_schedule
from tests.store.helpers import FIRST_DOSE, enrol, make_study


def test_states_follow_the_windows_from_the_first_dose(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)  # first dose 2024-03-04; no visits recorded
    # day 29 after the first dose: W0 and W2 (day 14 + 3) are overdue, W4 (day 28 ± 3) is due
    today = date(2024, 4, 2)
    with store.reader() as session:
        states = {
            v.visit_code: (v.state, v.due)
            for v in visit_schedule(session, get_study(session), sites=None, today=today)
        }
    assert states == {
        "W0": ("overdue", FIRST_DOSE), "W2": ("overdue", date(2024, 3, 18)),
        "W4": ("due", date(2024, 4, 1)), "W12": ("upcoming", date(2024, 5, 27)),
    }  # fmt: skip
    with store.reader() as session:
        assert visit_schedule(session, get_study(session), sites=["B"], today=today) == []


def test_the_demo_shows_its_late_week_12(sqlite_store: Store) -> None:
    from pustula.demo import create_demo_study

    create_demo_study(sqlite_store)
    with sqlite_store.reader() as session:
        rows = visit_schedule(session, get_study(session), sites=None, today=date(2025, 1, 1))
    assert [(v.subject, v.visit_code) for v in rows if v.state == "out_of_window"] == [
        ("S05", "W12")
    ]
    assert {v.state for v in rows} == {"done", "out_of_window"}
