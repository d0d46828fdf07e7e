"""The study-drug edit checks: a dose outside the protocol, and an adverse event whose
action on study drug the dosing record does not show."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace as Row

import pytest

from pustula.demo import demo_protocol_file
from pustula.protocol import load_protocol
from pustula.store.monitoring.edit_checks import SubjectData, findings_in

PROTOCOL = load_protocol(demo_protocol_file())  # tofacitinib 5 mg twice daily, or once daily
SUBJECT = Row(status="enrolled", ended_on=None)
RULES = frozenset({"dose_outside_protocol", "ae_action_exposure"})


def _course(i: int, dose: float, frequency: str, start: date, end: date | None = None) -> Row:
    return Row(id=i, drug="tofacitinib", dose=dose, unit="mg", frequency=frequency,
               start_date=start, end_date=end)  # fmt: skip


def _ae(action: str, start: date = date(2024, 4, 1)) -> Row:
    return Row(id=7, start_date=start, end_date=None, action_taken=action)


def _rules(exposures: list[Row], aes: list[Row] = (), pauses: list[Row] = ()) -> list[str]:  # type: ignore[assignment]
    data = SubjectData(SUBJECT, adverse_events=aes, exposures=exposures, interruptions=pauses)
    return [f"{f.rule}:{f.table_name}:{f.record_id}" for f in findings_in(data, PROTOCOL, RULES)]


@pytest.mark.parametrize(
    ("dose", "frequency", "flagged"),
    [(5, "twice daily", False), (5, "Once  Daily", False),  # case and spaces aside
     (50, "twice daily", True), (10, "twice daily", True), (5, "three times daily", True)],
)  # fmt: skip
def test_a_dose_the_protocol_does_not_allow_opens_a_query(
    dose: float, frequency: str, flagged: bool
) -> None:
    found = _rules([_course(1, dose, frequency, date(2024, 3, 1))])
    assert found == (["dose_outside_protocol:exposure:1"] if flagged else [])


def test_an_interruption_is_needed_for_an_event_that_interrupted_study_drug() -> None:
    course = _course(1, 5, "twice daily", date(2024, 3, 1))
    assert _rules([course], [_ae("interrupted")]) == ["ae_action_exposure:adverse_event:7"]
    before = Row(exposure_id=1, start_date=date(2024, 3, 10), end_date=date(2024, 3, 20))
    assert _rules([course], [_ae("interrupted")], [before]) == [
        "ae_action_exposure:adverse_event:7"
    ]  # fmt: skip (ended before the event began)
    during = Row(exposure_id=1, start_date=date(2024, 4, 2), end_date=None)
    assert _rules([course], [_ae("interrupted")], [during]) == []


def test_a_stop_is_needed_for_an_event_that_withdrew_study_drug() -> None:
    assert _rules([_course(1, 5, "twice daily", date(2024, 3, 1))], [_ae("withdrawn")])
    stopped = _course(1, 5, "twice daily", date(2024, 3, 1), end=date(2024, 4, 3))
    assert _rules([stopped], [_ae("withdrawn")]) == []
    early = _course(1, 5, "twice daily", date(2024, 3, 1), end=date(2024, 3, 20))
    assert _rules([early], [_ae("withdrawn")])  # stopped before the event: not its action


def test_a_lower_daily_dose_is_needed_for_an_event_that_reduced_it() -> None:
    first = _course(1, 5, "twice daily", date(2024, 3, 1), end=date(2024, 4, 4))
    assert _rules([first], [_ae("dose_reduced")])
    reduced = _course(2, 5, "once daily", date(2024, 4, 5))  # 10 mg a day to 5 mg a day
    assert _rules([first, reduced], [_ae("dose_reduced")]) == []


def test_other_actions_ask_nothing_of_the_dosing_record() -> None:
    course = _course(1, 5, "twice daily", date(2024, 3, 1))
    for action in ("none", "not_applicable"):
        assert _rules([course], [_ae(action)]) == []
