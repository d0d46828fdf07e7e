"""Protocol amendments: a new version uploaded as a draft, what it changes and what it does
to the data already collected, its approval with a reason and a signature, and the
subjects who must consent again (decision 0020).

No amendment changes a collected value. Approval changes derived values only: the window
flag of a visit dated on or after the day the amendment takes effect, each with the
amendment as the reason in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError, SignatureError
from pustula.protocol import Protocol, day_zero, evaluate_eligibility, study_day, window_status
from pustula.protocol.amendments import (
    ProtocolChange,
    ProtocolHistory,
    VersionInForce,
    consent_state,
    diff_protocols,
)
from pustula.protocol.lines import ProtocolProblem, check_protocol_text
from pustula.protocol.status import SubjectStatus, VisitStatus
from pustula.store.accounts.users import authenticate
from pustula.store.db.models import (
    Baseline,
    Consent,
    Lab,
    PriorTherapy,
    ProtocolVersion,
    Site,
    Study,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store, Transaction, update_record
from pustula.store.monitoring.queries import STILL_IN_STUDY
from pustula.store.records.amendments import (
    APPROVED,
    DRAFT,
    WITHDRAWN,
    add_consent,
    protocol_history,
)
from pustula.store.records.enrolment import eligibility_data
from pustula.store.records.schemas import BaselineIn, PriorTherapyIn
from pustula.store.records.study import get_study, protocol_from_text
from pustula.store.records.timing import doses_by_subject

__all__ = [
    "AmendmentReview",
    "ConsentDue",
    "EligibilityChange",
    "NewVisitOwed",
    "Reflag",
    "VersionRow",
    "approve_amendment",
    "consents_due",
    "protocol_versions",
    "record_reconsent",
    "review_amendment",
    "upload_amendment",
    "withdraw_amendment",
]


@dataclass(frozen=True)
class VersionRow:
    """One version of the protocol: the first, a draft, an approved or a withdrawn one."""

    version: str
    status: str
    summary: str
    effective_on: date | None
    reconsent: bool | None
    uploaded_by: str
    uploaded_at: str
    approved_by: str | None
    approved_at: str | None
    approval_reason: str | None


@dataclass(frozen=True)
class Reflag:
    """A collected visit whose window flag the amendment changes (its date does not)."""

    subject: str
    visit_code: str
    visit_date: date
    study_day: int
    before: str
    after: str


@dataclass(frozen=True)
class NewVisitOwed:
    """For a visit the amendment adds: whether a subject owes it (its window closes on or
    after the day the amendment takes effect) and when it is due."""

    subject: str
    visit_code: str
    due: date
    window_end: date
    owed: bool


@dataclass(frozen=True)
class EligibilityChange:
    """A subject whose eligibility, judged on the data recorded at their screening,
    comes out differently under the amended criteria. Nothing about them changes by
    itself: the investigator decides (a decision recorded as a deviation or an end)."""

    subject: str
    status: str
    before: str
    after: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ConsentDue:
    """A subject still in the study who must consent to ``version`` and has not yet."""

    subject: str
    site: str
    consented_to: str
    version: str
    effective_on: date | None


@dataclass(frozen=True)
class AmendmentReview:
    """What a draft changes and what it does to the data already collected."""

    draft: VersionRow
    current: str
    changes: tuple[ProtocolChange, ...]
    reflags: tuple[Reflag, ...]
    new_visits: tuple[NewVisitOwed, ...]
    eligibility: tuple[EligibilityChange, ...]
    #: who would have to consent again, if the approval requires it
    would_reconsent: tuple[str, ...]


def _row(r: ProtocolVersion) -> VersionRow:
    return VersionRow(r.protocol_version, r.status, r.summary, r.effective_on, r.reconsent,
                      r.created_by, r.created_at, r.approved_by, r.approved_at,
                      r.approval_reason)  # fmt: skip


def _versions(session: Session, study: Study) -> list[ProtocolVersion]:
    return list(session.scalars(
        select(ProtocolVersion)
        .where(ProtocolVersion.study_id == study.id, ProtocolVersion.deleted_at.is_(None))
        .order_by(ProtocolVersion.id)
    ))  # fmt: skip


def protocol_versions(store: Store) -> list[VersionRow]:
    """Every version of the open study's protocol, first first."""
    with store.reader() as session:
        return [_row(r) for r in _versions(session, get_study(session))]


def _version(session: Session, study: Study, version: str) -> ProtocolVersion:
    for row in _versions(session, study):
        if row.protocol_version == version:
            return row
    raise RecordNotFoundError(f"protocol version {version} is not a version of {study.code}")


def upload_amendment(
    store: Store, user: str, *, text: str, summary: str, effective_on: date | None
) -> tuple[str | None, list[ProtocolProblem]]:
    """Keep a new protocol version as a draft; its version, or the file's problems (each
    with its line and field). Nothing is saved while there is a problem."""
    protocol, problems = check_protocol_text(text)
    if not summary.strip():
        problems.append(ProtocolProblem(None, "summary", "say what the amendment changes and why"))
    if effective_on is None:
        problems.append(ProtocolProblem(None, "effective_on",
                                        "give the day the amendment takes effect"))  # fmt: skip
    if protocol is None or problems:
        return None, problems
    assert effective_on is not None
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        problems = _check_draft(tx.session, study, protocol, text, effective_on)
        if problems:
            return None, problems
        stated = yaml.safe_load(text)
        tx.session.add(ProtocolVersion(
            study_id=study.id, protocol_version=protocol.version,
            protocol_yaml=yaml.safe_dump(stated, sort_keys=False), status=DRAFT,
            summary=summary.strip(), effective_on=effective_on,
        ))  # fmt: skip
        tx.flush()
        return protocol.version, []


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def _check_draft(session: Session, study: Study, protocol: Protocol, text: str,
                 effective_on: date) -> list[ProtocolProblem]:  # fmt: skip
    problems = []
    if protocol.id != study.code:
        problems.append(ProtocolProblem(_line_of(text, "id"), "id",
                                        f"this is the protocol of {protocol.id}; an amendment "
                                        f"of {study.code} keeps the id {study.code}"))  # fmt: skip
    known = {r.protocol_version: r.status for r in _versions(session, study)}
    if protocol.version in known:
        problems.append(ProtocolProblem(
            _line_of(text, "version"), "version",
            f"version {protocol.version} is already a version of this study "
            f"({known[protocol.version]}); give the amendment its own version",
        ))  # fmt: skip
    if DRAFT in known.values():
        problems.append(ProtocolProblem(None, "", "a draft is already waiting for approval; "
                                        "approve or withdraw it first"))  # fmt: skip
    history = protocol_history(session, study)
    current = history.current
    if current.effective_on is not None and effective_on <= current.effective_on:
        problems.append(ProtocolProblem(
            None, "effective_on",
            f"must be after {current.effective_on:%d %b %Y}, when version {current.version} "
            "took effect",
        ))  # fmt: skip
    if not diff_protocols(current.protocol, protocol) and not problems:
        problems.append(ProtocolProblem(None, "", "this version changes nothing of version "
                                        f"{current.version}"))  # fmt: skip
    kept = {v.code for v in protocol.visits}
    removed = [v.code for v in current.protocol.visits if v.code not in kept]
    if removed:
        recorded = session.execute(
            select(Visit.visit_code, func.count()).join(Subject)
            .where(Subject.study_id == study.id, Visit.deleted_at.is_(None),
                   Visit.visit_code.in_(removed))
            .group_by(Visit.visit_code)
        ).all()  # fmt: skip
        problems += [ProtocolProblem(
            _line_of(text, "visits"), "visits",
            f"visit {code} is recorded for {n} subject(s): a visit with data stays in the "
            "protocol, so that its data keep their visit and window",
        ) for code, n in recorded]  # fmt: skip
    baseline = current.protocol.baseline_visit.code
    if protocol.baseline_visit.code != baseline:
        problems.append(ProtocolProblem(
            None, "visits",
            f"the baseline visit stays {baseline}: an amendment cannot move subjects' day 0",
        ))  # fmt: skip
    return problems


def _draft(session: Session, study: Study, version: str) -> ProtocolVersion:
    row = _version(session, study, version)
    if row.status != DRAFT:
        raise DataValidationError(f"version {version} is {row.status}, not a draft",
                                  field="version")  # fmt: skip
    return row


def review_amendment(store: Store, version: str) -> AmendmentReview:
    """What the draft ``version`` changes, and what it would do to the collected data if
    it took effect on its date."""
    with store.snapshot() as session:
        study = get_study(session)
        row = _version(session, study, version)
        history = protocol_history(session, study)
        new = protocol_from_text(row.protocol_yaml, study.code)
        effective = row.effective_on or date.min
        if row.status == APPROVED:
            # what it changed from the version before it; its impact is history
            order = [v.version for v in history.versions]
            at = order.index(version)
            before = history.versions[at - 1].protocol if at else new
            return AmendmentReview(_row(row), history.versions[at - 1].version if at else version,
                                   diff_protocols(before, new), (), (), (), ())  # fmt: skip
        changes = diff_protocols(history.current.protocol, new)
        amended = _amended(history, row.protocol_version, effective, new)
        reflags, owed = _schedule_impact(session, study, history, amended, effective)
        criteria = any(c.area in ("inclusion", "exclusion") for c in changes)
        eligibility = _eligibility_impact(session, study, history, new) if criteria else ()
        active = session.scalars(
            select(Subject.code)
            .where(Subject.study_id == study.id, Subject.deleted_at.is_(None),
                   Subject.status.in_(STILL_IN_STUDY), Subject.screened_on < effective)
            .order_by(Subject.code)
        )  # fmt: skip
        return AmendmentReview(_row(row), history.current.version, changes, tuple(reflags),
                               tuple(owed), tuple(eligibility), tuple(active))  # fmt: skip


def _amended(history: ProtocolHistory, version: str, effective: date, new: Protocol
             ) -> ProtocolHistory:  # fmt: skip
    return ProtocolHistory((*history.versions, VersionInForce(version, effective, new)))


@dataclass(frozen=True)
class _Casebook:
    """A subject of the study with the day their schedule counts from and their visits."""

    subject: Subject
    anchor: date | None
    visits: dict[str, Visit]


def _casebooks(session: Session, study: Study, base_code: str) -> list[_Casebook]:
    """Every live subject of ``study`` with their day 0 and live visits, by code: three
    statements for the whole study."""
    doses = doses_by_subject().subquery()
    rows = session.execute(
        select(Subject, doses.c.first_dose)
        .outerjoin(doses, doses.c.subject_id == Subject.id)
        .where(Subject.study_id == study.id, Subject.deleted_at.is_(None))
        .order_by(Subject.code)
    ).all()  # fmt: skip
    visits: dict[int, dict[str, Visit]] = {}
    for v in session.scalars(select(Visit).join(Subject).where(
            Subject.study_id == study.id, Visit.deleted_at.is_(None))):  # fmt: skip
        visits.setdefault(v.subject_id, {})[v.visit_code] = v
    books = []
    for subject, first in rows:
        mine = visits.get(subject.id, {})
        base = mine.get(base_code)
        anchor = day_zero(first_dose=first, baseline_date=base.visit_date if base else None,
                          enrolled_on=subject.enrolled_on)  # fmt: skip
        books.append(_Casebook(subject, anchor, mine))
    return books


def _schedule_impact(
    session: Session, study: Study, before: ProtocolHistory, after: ProtocolHistory,
    effective: date,
) -> tuple[list[Reflag], list[NewVisitOwed]]:  # fmt: skip
    """Visits whose flag changes, and who owes each visit the amendment adds."""
    new = after.current.protocol
    added = [v for v in new.visits
             if all(v.code != old.code for old in before.current.protocol.visits)]  # fmt: skip
    reflags, owed = [], []
    for book in _casebooks(session, study, new.baseline_visit.code):
        code, anchor, mine = book.subject.code, book.anchor, book.visits
        for visit in sorted(mine.values(), key=lambda v: v.visit_date or date.max):
            flag = _flag(after, visit, anchor)
            if (visit.visit_date is not None and visit.visit_date >= effective
                    and flag is not None and flag != _flag(before, visit, anchor)):  # fmt: skip
                assert anchor is not None
                reflags.append(Reflag(code, visit.visit_code, visit.visit_date,
                                      study_day(visit.visit_date, first_dose=anchor),
                                      str(_flag(before, visit, anchor)), flag))  # fmt: skip
        if anchor is None or book.subject.status != SubjectStatus.ENROLLED:
            continue
        for plan in added:
            due = anchor + timedelta(days=plan.day)
            end = due + timedelta(days=plan.window_after)
            owed.append(NewVisitOwed(code, plan.code, due, end, end >= effective))
    return reflags, owed


def _flag(history: ProtocolHistory, visit: Visit, anchor: date | None) -> str | None:
    if visit.visit_date is None or anchor is None or visit.status != VisitStatus.DONE:
        return None
    plan, _ = history.window_of(visit.visit_code, visit.visit_date)
    if plan is None:
        return None
    return str(window_status(plan, study_day(visit.visit_date, first_dose=anchor)))


def _eligibility_impact(session: Session, study: Study, history: ProtocolHistory,
                        new: Protocol) -> list[EligibilityChange]:  # fmt: skip
    """Each subject's screening data judged under the old and the new criteria."""
    changes = []
    rows = session.scalars(
        select(Subject)
        .where(Subject.study_id == study.id, Subject.deleted_at.is_(None))
        .order_by(Subject.code)
    )  # fmt: skip
    for subject in rows:
        facts = _screening_facts(session, subject, history.current.protocol)
        if facts is None:
            continue
        old = evaluate_eligibility(history.current.protocol, facts)
        now = evaluate_eligibility(new, facts)
        if _outcome(old) != _outcome(now):
            changes.append(EligibilityChange(
                subject.code, str(subject.status), _outcome(old), _outcome(now),
                tuple(c.reason for c in now.failures),
            ))  # fmt: skip
    return changes


def _outcome(result: Any) -> str:
    if result.eligible:
        return "eligible"
    if any(c.met is not None for c in result.failures):
        return "not eligible"
    return "pending"


def _screening_facts(session: Session, subject: Subject, protocol: Protocol
                     ) -> dict[str, Any] | None:  # fmt: skip
    """The facts of the subject's screening as recorded: baseline, prior therapies and the
    labs sampled on the screening day."""
    base = session.scalar(select(Baseline).where(Baseline.subject_id == subject.id))
    if base is None:
        return None
    baseline = BaselineIn.model_validate({
        k: getattr(base, k) for k in BaselineIn.model_fields
    })  # fmt: skip
    recorded = session.scalars(select(PriorTherapy).where(
        PriorTherapy.subject_id == subject.id, PriorTherapy.deleted_at.is_(None)))  # fmt: skip
    priors = [PriorTherapyIn(category=p.category, drug=p.drug, response=p.response)
              for p in recorded]  # fmt: skip
    labs = {
        lab.test: lab.value
        for lab in session.scalars(select(Lab).where(
            Lab.subject_id == subject.id, Lab.sample_date == subject.screened_on,
            Lab.deleted_at.is_(None)).order_by(Lab.id))
    }  # fmt: skip
    return eligibility_data(baseline, priors, labs, refractory=protocol.refractory)


def _reflag_reason(version: str) -> str:
    return f"protocol version {version} approved: window flag judged by its visit window"


def approve_amendment(
    store: Store, user: str, *, version: str, username: str, password: str, reason: str,
    reconsent: bool | None,
) -> VersionRow:  # fmt: skip
    """Approve the draft ``version``: signed by ``user`` re-entering name and password,
    with a reason and whether subjects must consent again. The study follows it from its
    effective date; the visits dated since are flagged by its windows (audited)."""
    if not reason.strip():
        raise DataValidationError("reason: say why the amendment is approved", field="reason")
    if reconsent is None:
        raise DataValidationError("reconsent: say whether subjects must consent again",
                                  field="reconsent")  # fmt: skip
    with store.transaction(user=user, reason=_reflag_reason(version)) as tx:
        who = authenticate(tx.session, username, password)
        if who is None or who.username != user:
            raise SignatureError("the user name or password is not yours; nothing was approved")
        study = get_study(tx.session)
        row = _draft(tx.session, study, version)
        before = protocol_history(tx.session, study)
        new = protocol_from_text(row.protocol_yaml, study.code)
        effective = row.effective_on or date.min
        after = _amended(before, version, effective, new)
        update_record(tx, row, {
            "status": APPROVED, "reconsent": reconsent, "approved_by": user,
            "approved_at": str(tx.session.info["at"]), "approval_reason": reason.strip(),
        }, expected_version=row.version)  # fmt: skip
        update_record(tx, study, {"protocol_yaml": row.protocol_yaml, "protocol_version": version,
                                  "title": new.title}, expected_version=study.version)  # fmt: skip
        _reflag(tx, study, after, effective)
        return _row(row)


def _reflag(tx: Transaction, study: Study, history: ProtocolHistory, effective: date) -> None:
    base_code = history.current.protocol.baseline_visit.code
    for book in _casebooks(tx.session, study, base_code):
        if book.anchor is None:
            continue
        for visit in book.visits.values():
            if visit.visit_date is None or visit.visit_date < effective:
                continue
            plan, version = history.window_of(visit.visit_code, visit.visit_date)
            if plan is None:
                continue
            flag = window_status(plan, study_day(visit.visit_date, first_dose=book.anchor))
            if (str(visit.window_status), visit.protocol_version) != (str(flag), version):
                update_record(tx, visit, {"window_status": flag, "protocol_version": version},
                              expected_version=visit.version)  # fmt: skip


def withdraw_amendment(store: Store, user: str, *, version: str, reason: str) -> None:
    """Withdraw a draft that will not be approved (it stays listed, withdrawn)."""
    if not reason.strip():
        raise DataValidationError("reason: say why the draft is withdrawn", field="reason")
    with store.transaction(user=user, reason=reason.strip()) as tx:
        row = _draft(tx.session, get_study(tx.session), version)
        update_record(tx, row, {"status": WITHDRAWN}, expected_version=row.version)


def _consents(session: Session, study: Study) -> list[ConsentDue]:
    history = protocol_history(session, study)
    approved = [(v.version, v.effective_on, v.reconsent) for v in history.versions]
    if not any(again for _, _, again in approved):
        return []
    consents: dict[int, list[tuple[str, date]]] = {}
    for subject_id, version, on in session.execute(
        select(Consent.subject_id, Consent.protocol_version, Consent.consented_on)
        .join(Subject).where(Subject.study_id == study.id, Consent.deleted_at.is_(None))
        .order_by(Consent.consented_on, Consent.id)
    ):  # fmt: skip
        consents.setdefault(subject_id, []).append((version, on))
    due = []
    for subject, site in session.execute(
        select(Subject, Site.code).join(Site, Site.id == Subject.site_id)
        .where(Subject.study_id == study.id, Subject.deleted_at.is_(None),
               Subject.status.in_(STILL_IN_STUDY), Subject.ended_on.is_(None))
        .order_by(Subject.code)
    ):  # fmt: skip
        state = consent_state(subject.screened_on, consents.get(subject.id, []), approved,
                              in_study=True)  # fmt: skip
        if state.owed is not None:
            due.append(ConsentDue(subject.code, site, state.consented_to, state.owed,
                                  state.owed_since))  # fmt: skip
    return due


def consents_due(store: Store, *, sites: Sequence[str] | None = None) -> list[ConsentDue]:
    """Subjects still in the study who must consent again to an approved amendment."""
    with store.reader() as session:
        due = _consents(session, get_study(session))
    return [d for d in due if sites is None or d.site in sites]


def record_reconsent(store: Store, user: str, *, subject: str, on: date | None,
                     today: date, sites: Sequence[str] | None = None) -> None:  # fmt: skip
    """Record that ``subject`` consented again, on ``on``, to the version they owe (a
    subject outside ``sites`` is not found)."""
    with store.reader() as session:
        study = get_study(session)
        site = session.scalar(
            select(Site.code).join(Subject, Subject.site_id == Site.id).where(
                Subject.study_id == study.id, Subject.code == subject,
                Subject.deleted_at.is_(None)))  # fmt: skip
    if site is None or (sites is not None and site not in sites):
        raise RecordNotFoundError(f"subject {subject} is not in study {study.code}")
    if on is None:
        raise DataValidationError("consented_on: give the date of the consent",
                                  field="consented_on")  # fmt: skip
    if on > today:
        raise DataValidationError("consented_on: a consent cannot be in the future",
                                  field="consented_on")  # fmt: skip
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        due = {d.subject: d for d in _consents(tx.session, study)}
        if subject not in due:
            raise DataValidationError(
                f"consented_on: subject {subject} owes no consent to an amendment",
                field="consented_on",
            )
        owed = due[subject]
        if owed.effective_on is not None and on < owed.effective_on:
            raise DataValidationError(
                f"consented_on: version {owed.version} took effect on "
                f"{owed.effective_on:%d %b %Y}; a consent to it cannot be earlier",
                field="consented_on",
            )
        row = tx.session.scalars(select(Subject).where(Subject.study_id == study.id,
                                                       Subject.code == subject)).one()  # fmt: skip
        add_consent(tx, row, version=owed.version, on=on)
