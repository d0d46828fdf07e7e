"""Screening and enrolment: the protocol's eligibility check, the subject's baseline and
prior therapies, and screening labs kept as lab records (which is why this module sits
above :mod:`pustula.store.records.safety`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pustula.checks.values import check_date, check_lab_value, check_number
from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.protocol import EligibilityResult, Protocol, evaluate_eligibility
from pustula.protocol.eligibility import NOT_A_RESULT
from pustula.protocol.model import Refractory
from pustula.protocol.status import SCREENING_STATES, SubjectStatus
from pustula.store.db.models import Baseline, Lab, PriorTherapy, Site, Study, Subject
from pustula.store.db.models import EligibilityResult as EligibilityRow
from pustula.store.db.uow import Transaction, remove, update_record
from pustula.store.records.safety import add_lab
from pustula.store.records.schemas import BaselineIn, PriorTherapyIn, parse_input
from pustula.store.records.study import protocol_of

__all__ = [
    "Enrolment",
    "check_subject_code",
    "eligibility_data",
    "eligibility_rows",
    "enrol_subject",
    "rescreen_subject",
    "screen",
    "screening_status",
    "subject_entry",
]

_SUBJECT_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


def eligibility_data(
    baseline: BaselineIn,
    prior_therapies: Sequence[PriorTherapyIn],
    labs: Mapping[str, float],
    *,
    refractory: Refractory,
) -> dict[str, Any]:
    """The facts eligibility rules are written over (see the shipped protocol).

    A prior therapy counts as failed by the protocol's own definition (``refractory``).
    """
    failed = [p for p in prior_therapies if refractory.failed(p.response)]
    facts = baseline.model_dump()
    # a screen not done, or indeterminate, is not a result: the criterion stays pending
    facts["screening"] = {
        test: result
        for test, result in baseline.screening.items()
        if result not in ("not_done", "indeterminate")
    }
    # ...and the reason says which it was, not "not recorded"
    facts[NOT_A_RESULT] = {
        f"screening.{test}": result
        for test, result in baseline.screening.items()
        if result in ("not_done", "indeterminate")
    }
    return {
        **facts,
        "prior": {
            "topical_failed": sum(p.category == "topical" for p in failed),
            "systemic_failed": sum(p.category in ("systemic", "biologic") for p in failed),
            "biologic_failed": sum(p.category == "biologic" for p in failed),
        },
        "labs": dict(labs),
    }


class Enrolment:
    """Outcome of :func:`enrol_subject`: the subject and the eligibility evaluation.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import enrol_subject, get_study
    >>> store = demo_store()
    >>> baseline = {"age": 51, "sex": "male", "disease_duration_months": 30, "eraspen_ppp": True,
    ...             "smoking": "former"}
    >>> with store.transaction(user="dr.k") as tx:
    ...     enrolment = enrol_subject(tx, get_study(tx.session), code="S07", site="SITE1",
    ...                               screened_on=date(2024, 9, 2), baseline=baseline)
    >>> enrolment.subject.status.value, enrolment.eligibility.eligible
    ('screen_failure', False)
    >>> [c.reason for c in enrolment.eligibility.criteria if not c.passed][:1]
    ['Inclusion I3 not met: Topical drugs without response 0; inclusion needs ≥ 1']
    """

    def __init__(self, subject: Subject, eligibility: EligibilityResult) -> None:
        self.subject = subject
        self.eligibility = eligibility

    @property
    def enrolled(self) -> bool:
        return self.subject.status == SubjectStatus.ENROLLED


def _screening_labs(protocol: Protocol, labs: Mapping[str, Any]) -> dict[str, Any]:
    """Screening labs pass the gate in the unit the protocol's rules use for the test."""
    checked = {}
    for test, value in labs.items():
        unit = next((r.unit for r in protocol.lab_rules if r.test == test), None)
        field = f"labs.{test}"
        if unit is None:
            check_number(value, field=field)
        else:
            check_lab_value(test, unit, value, field=field)
        checked[test] = value
    return checked


def screening_status(result: EligibilityResult) -> SubjectStatus:
    """Eligible: enrolled. A criterion that failed on recorded data: a screen failure.

    Otherwise a result is still missing, and screening is *pending*: missing data never
    make a screen failure.
    """
    if result.eligible:
        return SubjectStatus.ENROLLED
    if any(c.met is not None for c in result.failures):
        return SubjectStatus.SCREEN_FAILURE
    return SubjectStatus.SCREENING_PENDING


@dataclass(frozen=True)
class Screening:
    screened_on: date
    baseline: BaselineIn
    priors: list[PriorTherapyIn]
    result: EligibilityResult


def screen(
    protocol: Protocol,
    screened_on: date,
    baseline: Mapping[str, Any] | BaselineIn,
    prior_therapies: Sequence[Mapping[str, Any] | PriorTherapyIn],
    screening_labs: Mapping[str, float] | None,
) -> Screening:
    check_date(screened_on, field="screened_on")
    base = parse_input(BaselineIn, baseline)
    priors = [parse_input(PriorTherapyIn, p) for p in prior_therapies]
    labs = _screening_labs(protocol, screening_labs or {})
    result = evaluate_eligibility(
        protocol, eligibility_data(base, priors, labs, refractory=protocol.refractory)
    )
    return Screening(screened_on, base, priors, result)


def _keep_screening_labs(
    tx: Transaction, study: Study, subject: Subject, labs: Mapping[str, Any], on: date
) -> None:
    """Screening results are lab values of the subject: kept as lab records on the day.

    A value the subject already has as its latest result of that test (same value and
    unit) is not stored twice, so screening again with unchanged results adds nothing.
    """
    protocol = protocol_of(study)
    for test, value in labs.items():
        unit = next((r.unit for r in protocol.lab_rules if r.test == test), None)
        if unit is None:
            continue
        latest = tx.session.scalar(
            select(Lab)
            .where(Lab.subject_id == subject.id, Lab.test == test, Lab.sample_date <= on,
                   Lab.deleted_at.is_(None))
            .order_by(Lab.sample_date.desc(), Lab.id.desc())
            .limit(1)
        )  # fmt: skip
        if latest is not None and (latest.value, latest.unit) == (float(value), unit):
            continue
        add_lab(tx, study, subject, {"test": test, "value": value, "unit": unit, "sample_date": on})


def eligibility_rows(result: EligibilityResult, n: int) -> list[dict[str, Any]]:
    """The columns of screening ``n``'s eligibility rows, one per criterion."""
    return [
        {"screening": n, "criterion_id": c.id, "kind": c.kind, "text": c.text, "met": c.met,
         "passed": c.passed, "reason": c.reason}
        for c in result.criteria
    ]  # fmt: skip


def _save_eligibility(
    session: Session, subject: Subject, result: EligibilityResult, n: int
) -> None:
    session.add_all(
        EligibilityRow(subject_id=subject.id, **row) for row in eligibility_rows(result, n)
    )


def subject_entry(protocol: Protocol, status: SubjectStatus, screened_on: date) -> dict[str, Any]:
    """A subject's status, arm and dates after a screening with this outcome."""
    enrolled = status == SubjectStatus.ENROLLED
    return {
        "status": status,
        "arm": protocol.arms[0].code if enrolled and len(protocol.arms) == 1 else None,
        "screened_on": screened_on,
        "enrolled_on": screened_on if enrolled else None,
    }


def check_subject_code(code: str) -> None:
    if not re.match(_SUBJECT_CODE, code):
        raise DataValidationError(
            f"code: a subject code is 1 to 40 letters, digits, hyphens or underscores; got {code}",
            field="code",
        )


def enrol_subject(
    tx: Transaction,
    study: Study,
    *,
    code: str,
    site: str,
    screened_on: date,
    baseline: Mapping[str, Any] | BaselineIn,
    prior_therapies: Sequence[Mapping[str, Any] | PriorTherapyIn] = (),
    screening_labs: Mapping[str, float] | None = None,
) -> Enrolment:
    """Screen a subject against the protocol and enrol them if eligible.

    The subject is ``enrolled``, a ``screen_failure`` (a criterion failed on recorded
    data) or ``screening_pending`` (a result is missing), with a reason per criterion.
    Either way baseline data and prior therapies are kept, so a screening is documented,
    not lost.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import get_study
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     enrolment = enrol_subject(tx, get_study(tx.session), code="S07", site="SITE1",
    ...                               screened_on=date(2024, 9, 2),
    ...                               baseline={"age": 16, "sex": "female",
    ...                                         "disease_duration_months": 8,
    ...                                         "eraspen_ppp": True, "smoking": "never"})
    >>> enrolment.eligibility.eligible, enrolment.subject.status
    (False, <SubjectStatus.SCREEN_FAILURE: 'screen_failure'>)
    """
    check_subject_code(code)
    session = tx.session
    site_row = session.scalar(select(Site).where(Site.study_id == study.id, Site.code == site))
    if site_row is None:
        raise RecordNotFoundError(f"site {site} is not a site of study {study.code}")
    screening = screen(protocol_of(study), screened_on, baseline, prior_therapies, screening_labs)
    if session.scalar(select(Subject.id).where(Subject.study_id == study.id, Subject.code == code)):
        raise DataValidationError(
            f"subject {code} already exists in study {study.code}", field="code"
        )
    status = screening_status(screening.result)
    subject = Subject(
        study_id=study.id,
        site_id=site_row.id,
        code=code,
        **subject_entry(protocol_of(study), status, screened_on),
    )
    session.add(subject)
    session.flush()
    session.add(Baseline(subject_id=subject.id, **screening.baseline.model_dump()))
    session.add_all(PriorTherapy(subject_id=subject.id, **p.model_dump()) for p in screening.priors)
    _save_eligibility(session, subject, screening.result, 1)
    session.flush()
    _keep_screening_labs(tx, study, subject, screening_labs or {}, screened_on)
    return Enrolment(subject, screening.result)


def rescreen_subject(
    tx: Transaction,
    study: Study,
    subject: Subject,
    *,
    screened_on: date,
    baseline: Mapping[str, Any] | BaselineIn,
    prior_therapies: Sequence[Mapping[str, Any] | PriorTherapyIn] = (),
    screening_labs: Mapping[str, float] | None = None,
) -> Enrolment:
    """Screen a pending subject or a screen failure again (the reason is the transaction's).

    The earlier screening's criteria stay as they were, numbered; this one is added as the
    next screening. Baseline and prior therapies are replaced by what was entered now
    (the old values stay in the audit trail).
    """
    if subject.status not in SCREENING_STATES:
        raise DataValidationError(
            f"subject {subject.code} is {subject.status.replace('_', ' ')}; only a pending "
            "screening or a screen failure can be screened again",
            field="subject",
        )
    session = tx.session
    screening = screen(protocol_of(study), screened_on, baseline, prior_therapies, screening_labs)
    base = session.scalars(select(Baseline).where(Baseline.subject_id == subject.id)).one()
    update_record(tx, base, screening.baseline.model_dump(), expected_version=base.version)
    old_priors = session.scalars(
        select(PriorTherapy).where(
            PriorTherapy.subject_id == subject.id, PriorTherapy.deleted_at.is_(None)
        )
    )
    for prior in old_priors:
        remove(tx, prior, expected_version=prior.version)
    session.add_all(PriorTherapy(subject_id=subject.id, **p.model_dump()) for p in screening.priors)
    done = session.scalar(
        select(func.max(EligibilityRow.screening)).where(EligibilityRow.subject_id == subject.id)
    )
    _save_eligibility(session, subject, screening.result, (done or 0) + 1)
    entry = subject_entry(protocol_of(study), screening_status(screening.result), screened_on)
    update_record(tx, subject, entry, expected_version=subject.version)
    _keep_screening_labs(tx, study, subject, screening_labs or {}, screened_on)
    return Enrolment(subject, screening.result)
