"""AEs with treatment-emergence; labs with the protocol's alerts and CTCAE grades."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from pustula.errors import DataValidationError
from pustula.store import (
    AdverseEvent,
    Store,
    add_adverse_event,
    add_con_med,
    add_lab,
    get_record,
    update_adverse_event,
)
from tests.store.helpers import FIRST_DOSE, enrol, make_study

AE: dict[str, Any] = {
    "term": "Nasopharyngitis", "meddra_pt_code": "10028810", "meddra_pt": "Nasopharyngitis",
    "meddra_soc_code": "10021881", "meddra_soc": "Infections and infestations",
    "start_date": FIRST_DOSE + timedelta(days=10), "grade": 1, "relatedness": "possible",
    "action_taken": "none", "outcome": "recovered", "end_date": FIRST_DOSE + timedelta(days=17),
}  # fmt: skip


@pytest.mark.parametrize(
    ("start", "worsened", "emergent"),
    [(-1, False, False), (0, False, True), (5, False, True), (-30, True, True)],
)
def test_treatment_emergence_comes_from_the_first_dose(
    store: Store, start: int, worsened: bool, emergent: bool
) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    data = AE | {
        "start_date": FIRST_DOSE + timedelta(days=start),
        "worsened_on_treatment": worsened,
    }
    with store.transaction(user="t") as tx:
        event = add_adverse_event(tx, subject, data)
    assert event.treatment_emergent is emergent


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"serious": True}, "a serious event needs at least one seriousness criterion"),
        (
            {"serious_criteria": ["hospitalisation"]},
            "criteria are given but the event is not marked serious",
        ),
        ({"grade": 6}, "CTCAE grade must be 1 to 5; got 6"),
        ({"end_date": FIRST_DOSE}, "ends .* before it starts"),
        ({"relatedness": "maybe"}, "relatedness: must be one of"),
        ({"grade": 5}, "grade 5 .death. and the outcome fatal go together"),
    ],
)
def test_inconsistent_adverse_events_are_refused(
    store: Store, change: dict[str, Any], message: str
) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with pytest.raises(DataValidationError, match=message), store.transaction(user="t") as tx:
        add_adverse_event(tx, subject, AE | change)


def test_an_ae_edit_is_rechecked(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        event_id = add_adverse_event(tx, subject, AE).id
    with pytest.raises(DataValidationError, match="seriousness criterion"):
        with store.transaction(user="t", reason="upgrade") as tx:
            update_adverse_event(
                tx,
                get_record(tx.session, AdverseEvent, event_id),
                {"serious": True},
                expected_version=1,
            )
    with store.transaction(user="t", reason="hospitalised on day 12") as tx:
        event = update_adverse_event(
            tx, get_record(tx.session, AdverseEvent, event_id),
            {"serious": True, "serious_criteria": ["hospitalisation"], "grade": 3}, expected_version=1,
        )  # fmt: skip
    assert (event.serious, event.grade, event.version) == (True, 3, 2)


def _lab(store: Store, subject: Any, study: Any, **data: Any) -> Any:
    with store.transaction(user="t") as tx:
        return add_lab(tx, study, subject, data)


@pytest.mark.parametrize(
    ("test", "value", "unit", "day", "rules"),
    [
        ("neutrophils", 950, "/mm3", -3, ["L_ANC_START"]),
        ("neutrophils", 950, "/mm3", 28, ["L_ANC_LOW"]),
        ("neutrophils", 1000, "/mm3", 28, ["L_ANC_LOW"]),
        ("neutrophils", 1001, "/mm3", 28, []),
        ("neutrophils", 0.45, "10^9/L", 28, ["L_ANC_VLOW"]),
        ("lymphocytes", 499, "/mm3", 28, ["L_LYM_ON"]),
        ("haemoglobin", 7.9, "g/dL", 28, ["L_HB_DROP", "L_HB_LOW"]),
        ("haemoglobin", 115, "g/L", 28, ["L_HB_DROP"]),
        ("haemoglobin", 11.6, "g/dL", 28, []),
    ],
)
def test_lab_alerts_follow_the_protocol(
    store: Store, test: str, value: float, unit: str, day: int, rules: list[str]
) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    # haemoglobin baseline 13.6 g/dL on the first dose day: a drop > 2 means < 11.6
    _lab(store, subject, study, test="haemoglobin", value=13.6, unit="g/dL", sample_date=FIRST_DOSE)
    lab = _lab(
        store,
        subject,
        study,
        test=test,
        value=value,
        unit=unit,
        sample_date=FIRST_DOSE + timedelta(days=day),
    )
    assert [a["rule"] for a in lab.alerts] == rules
    assert lab.on_treatment is (day > 0)


@pytest.mark.parametrize(
    ("test", "value", "limits", "grade"),
    [
        ("alt", 40, (None, 40), 0), ("alt", 41, (None, 40), 1), ("alt", 201, (None, 40), 3),
        ("neutrophils", 1.6, (1.8, None), 1), ("neutrophils", 0.9, (1.8, None), 3), ("crp", 9, (None, 5), None),
    ],
)  # fmt: skip
def test_ctcae_grades_are_stored(
    store: Store, test: str, value: float, limits: tuple[Any, Any], grade: int | None
) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    unit = "10^9/L" if test == "neutrophils" else "U/L" if test == "alt" else "mg/L"
    lab = _lab(store, subject, study, test=test, value=value, unit=unit, lower_limit=limits[0],
               upper_limit=limits[1], sample_date=date(2024, 4, 1))  # fmt: skip
    assert lab.ctcae_grade == grade


def test_an_abnormal_baseline_is_judged_by_the_baseline_samples_own_limit(store: Store) -> None:
    """Baseline ALT 24 U/L with its ULN 40 (normal); on treatment 2.1 U/L with ULN 0.7 is
    exactly 3.0 × ULN: CTCAE v5.0 grade 1 (hand calculation). The old rule compared the
    baseline with the new ULN, called it abnormal and graded 2.1 < 1.5 × 24 as 0. A second
    subject whose baseline ALT 60 is above its own ULN 40 is graded by the baseline: 130 is
    2.17 × 60, grade 1 (3.25 × ULN would be grade 2)."""
    study = make_study(store)
    for code, (base, base_uln), (value, uln), grade in (
        ("S01", (24, 40), (2.1, 0.7), 1),
        ("S02", (60, 40), (130, 40), 1),
    ):
        subject = enrol(store, study, code=code)
        _lab(store, subject, study, test="alt", value=base, unit="U/L", upper_limit=base_uln,
             sample_date=FIRST_DOSE - timedelta(days=3))  # fmt: skip
        later = _lab(store, subject, study, test="alt", value=value, unit="U/L",
                     upper_limit=uln, sample_date=FIRST_DOSE + timedelta(days=28))  # fmt: skip
        assert later.ctcae_grade == grade, code


def test_a_unit_that_cannot_be_converted_is_refused(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with pytest.raises(
        DataValidationError,
        match=r"unit: Neutrophils \(ANC\) is recorded in /mm3, /uL, cells/uL, 10\^9/L, not in %",
    ):
        _lab(
            store,
            subject,
            study,
            test="neutrophils",
            value=60,
            unit="%",
            sample_date=date(2024, 4, 1),
        )


def test_concomitant_medications_are_kept(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        med = add_con_med(tx, subject, {"drug": "levothyroxine", "indication": "hypothyroidism"})
    assert med.id is not None
