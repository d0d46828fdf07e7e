"""Studies from protocols; enrolment with the eligibility check; screen failures kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.protocol.model import Refractory
from pustula.store import EligibilityResult, Store, enrol_subject, get_study, protocol_of
from tests.store.helpers import BASELINE, LABS, PRIOR, enrol, make_study


def test_the_study_keeps_its_protocol(store: Store) -> None:
    make_study(store)
    with store.reader() as session:
        study = get_study(session)
        assert protocol_of(study).visit("W12").day == 84


def test_an_eligible_subject_is_enrolled_with_every_criterion_recorded(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    assert (subject.status, subject.arm) == ("enrolled", "TOFA")
    with store.reader() as session:
        rows = list(
            session.scalars(
                select(EligibilityResult).where(EligibilityResult.subject_id == subject.id)
            )
        )
    assert len(rows) == 8
    assert all(r.passed for r in rows)


def test_a_failing_subject_is_a_screen_failure_with_reasons(store: Store) -> None:
    study = make_study(store)
    with store.transaction(user="tester") as tx:
        result = enrol_subject(
            tx, study, code="S09", site="A", screened_on=date(2024, 2, 1),
            baseline=BASELINE | {"age": 17}, prior_therapies=PRIOR[:1],
            screening_labs=LABS | {"neutrophils": 900},
        )  # fmt: skip
    assert result.subject.status == "screen_failure"
    assert result.subject.enrolled_on is None
    reasons = [c.reason for c in result.eligibility.failures]
    assert reasons == [
        "Inclusion I1 not met: Age 17 years; inclusion needs ≥ 18 years",
        "Inclusion I4 not met: Systemic drugs without response 0; inclusion needs ≥ 1",
        "Exclusion E2 applies: Neutrophils 900/mm³; exclusion needs < 1,000/mm³",
    ]


def test_missing_screening_data_leave_screening_pending_not_failed(store: Store) -> None:
    study = make_study(store)
    with store.transaction(user="tester") as tx:
        result = enrol_subject(tx, study, code="S10", site="A", screened_on=date(2024, 2, 1),
                               baseline=BASELINE, prior_therapies=PRIOR, screening_labs={})  # fmt: skip
    assert result.subject.status == "screening_pending"
    assert result.subject.enrolled_on is None
    assert result.eligibility.failures[0].reason == (
        "Exclusion E1 not evaluable: Lymphocytes is not recorded yet"
    )


def test_a_missing_result_does_not_hide_a_criterion_that_failed(store: Store) -> None:
    study = make_study(store)
    with store.transaction(user="tester") as tx:
        result = enrol_subject(tx, study, code="S12", site="A", screened_on=date(2024, 2, 1),
                               baseline=BASELINE | {"age": 16}, prior_therapies=PRIOR,
                               screening_labs={})  # fmt: skip
    assert result.subject.status == "screen_failure"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "S01"}, "subject S01 already exists in study TOFA-PPP"),
        (
            {"code": "Jane Doe"},
            "a subject code is 1 to 40 letters, digits, hyphens or underscores; got Jane Doe",
        ),
        ({"site": "Z"}, "site Z is not a site of study TOFA-PPP"),
        (
            {"baseline": BASELINE | {"sex": "f"}},
            "sex: choose one of the listed options",
        ),
        (
            {"baseline": BASELINE | {"smoking": "never"}},
            "pack-years are given for a subject who never smoked",
        ),
    ],
)
def test_bad_enrolment_input_is_refused(
    store: Store, change: dict[str, object], message: str
) -> None:
    study = make_study(store)
    enrol(store, study)
    args: dict[str, object] = {"code": "S02", "site": "A", "baseline": BASELINE} | change
    with pytest.raises(
        (DataValidationError, RecordNotFoundError), match=message.replace("(", r"\(")
    ):
        with store.transaction(user="tester") as tx:
            enrol_subject(tx, study, screened_on=date(2024, 2, 1), prior_therapies=PRIOR,
                          screening_labs=LABS, **args)  # type: ignore[arg-type]  # fmt: skip


def test_a_partial_response_is_not_refractory_unless_the_protocol_says_so(store: Store) -> None:
    # the seed paper: refractory means *no response* to topical drugs and to a systemic agent
    study = make_study(store)
    partial = [{"category": "topical", "drug": "clobetasol", "response": "partial"},
               {"category": "systemic", "drug": "acitretin", "response": "intolerant"}]  # fmt: skip
    with store.transaction(user="tester") as tx:
        result = enrol_subject(tx, study, code="S11", site="A", screened_on=date(2024, 2, 1),
                               baseline=BASELINE, prior_therapies=partial, screening_labs=LABS)  # fmt: skip
    assert [c.reason for c in result.eligibility.failures] == [
        "Inclusion I3 not met: Topical drugs without response 0; inclusion needs ≥ 1",
        "Inclusion I4 not met: Systemic drugs without response 0; inclusion needs ≥ 1",
    ]
    # a protocol that counts partial response and intolerance as failure enrols the subject
    from pustula.protocol import load_protocol
    from pustula.store import add_study
    from tests.store.helpers import PROTOCOL

    broad = load_protocol(PROTOCOL).model_copy(
        update={"id": "TOFA-BROAD", "refractory": Refractory(
            failed_responses=("none", "partial", "intolerant"))}
    )  # fmt: skip
    with store.transaction(user="tester") as tx:
        other = add_study(tx, broad, sites=[("A", "Site A")])
        result = enrol_subject(tx, other, code="S11", site="A", screened_on=date(2024, 2, 1),
                               baseline=BASELINE, prior_therapies=partial, screening_labs=LABS)  # fmt: skip
    assert result.subject.status == "enrolled"
