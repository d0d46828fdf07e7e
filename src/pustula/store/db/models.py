"""The study store's tables, one model per clinical concept.

Every clinical record has a ``version`` (optimistic locking: SQLAlchemy adds
``WHERE version = :loaded`` to each UPDATE) and a soft-delete mark; rows are never
physically removed. Subjects are identified by study code only: no names, no initials,
no dates of birth.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = [
    "AdverseEvent",
    "Assessment",
    "AuditHead",
    "AuditLog",
    "Base",
    "Baseline",
    "ConMed",
    "Consent",
    "DataQuery",
    "EligibilityResult",
    "Exposure",
    "ExposureInterruption",
    "Lab",
    "LoginFailure",
    "PriorTherapy",
    "ProtocolVersion",
    "QueryMessage",
    "Record",
    "Signature",
    "Site",
    "Study",
    "StudyLock",
    "StudyRole",
    "Subject",
    "User",
    "Verification",
    "Visit",
    "WebSession",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Record(Base):
    """Columns every audited record has."""

    __abstract__ = True
    #: Columns whose values never go into the audit trail (secrets).
    audit_redacted: ClassVar[frozenset[str]] = frozenset()
    #: Whether those digests are salted with the row (for concealed values such as arms,
    #: which are few: unsalted, equal digests would group the rows by value).
    audit_salted: ClassVar[bool] = False
    #: A change of saved values needs a reason; workflow records that change state as the
    #: data do (queries, signatures) carry their why in their own columns instead.
    changes_need_reason: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[str | None] = mapped_column(String(80))
    deleted_at: Mapped[str | None] = mapped_column(String(40))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (declared_attr takes the class)
        return {"version_id_col": cls.version}

    @property
    def label(self) -> str:
        return f"{self.__tablename__} {self.id}"


class Study(Record):
    """A study: its code, title and protocol (kept as the YAML it was added with).

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Study
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Study).where(Study.synthetic)).first()
    >>> record.code, record.synthetic
    ('TOFA-PPP', True)
    """

    __tablename__ = "study"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(Text)
    protocol_version: Mapped[str] = mapped_column(String(40))
    protocol_yaml: Mapped[str] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Site(Record):
    """A study site, by code and name; users see the subjects of their sites.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Site
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Site).where(Site.code == 'SITE1')).first()
    >>> record.code, record.name
    ('SITE1', 'Demo site A')
    """

    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("study_id", "code"),)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))


class Subject(Record):
    """A subject, identified by a study code only: site, status, dates of screening,
    enrolment and end, and the arm.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Subject
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Subject).where(Subject.code == 'S01')).first()
    >>> record.code, record.status, record.arm
    ('S01', 'enrolled', 'TOFA')
    """

    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("study_id", "code"),)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    # every page and API call finds its subject by code alone
    code: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20))  # pustula.protocol.status.SubjectStatus
    arm: Mapped[str | None] = mapped_column(String(40))
    screened_on: Mapped[date] = mapped_column(Date)
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    #: Withdrawal, discontinuation or end of study: the date, why, and the last contact.
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    last_contact: Mapped[date | None] = mapped_column(Date)

    @property
    def label(self) -> str:
        return f"subject {self.code}"


class EligibilityResult(Record):
    """One criterion's outcome at a screening (met, not met, not evaluable) with its reason.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import EligibilityResult
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     query = select(EligibilityResult).where(EligibilityResult.subject_id == 1)
    ...     record = session.scalars(query).first()
    >>> record.criterion_id, record.kind, record.passed
    ('I1', 'inclusion', True)
    """

    __tablename__ = "eligibility_result"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    #: 1 for the first screening; a re-screening adds rows with the next number.
    screening: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    criterion_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    met: Mapped[bool | None] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)


class Baseline(Record):
    """A subject's baseline facts: age, sex, disease duration, ERASPEN diagnosis, smoking,
    triggers, comorbidities and screening results.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Baseline
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Baseline).where(Baseline.subject_id == 1)).first()
    >>> record.age, record.sex, record.eraspen_ppp
    (42, 'female', True)
    """

    __tablename__ = "baseline"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), unique=True)
    age: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(10))
    disease_duration_months: Mapped[float] = mapped_column(Float)
    eraspen_ppp: Mapped[bool] = mapped_column(Boolean)
    smoking: Mapped[str] = mapped_column(String(10))  # never, current, former, unknown
    pack_years: Mapped[float | None] = mapped_column(Float)
    triggers: Mapped[list[Any]] = mapped_column(default=list)
    comorbidities: Mapped[list[Any]] = mapped_column(default=list)
    screening: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PriorTherapy(Record):
    """A therapy tried before the study: category, drug and response (for refractoriness).

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import PriorTherapy
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     query = select(PriorTherapy).where(PriorTherapy.subject_id == 1)
    ...     record = session.scalars(query).first()
    >>> record.category, record.drug, record.response
    ('topical', 'clobetasol propionate', 'none')
    """

    __tablename__ = "prior_therapy"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # topical, phototherapy, systemic, biologic
    drug: Mapped[str] = mapped_column(String(100))
    response: Mapped[str] = mapped_column(String(20))  # none, partial, intolerant, good, unknown


class Exposure(Record):
    """A course of study drug: drug, dose, unit, frequency, start and (once stopped) end.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Exposure
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Exposure).where(Exposure.subject_id == 1)).first()
    >>> record.drug, record.dose, record.unit, record.frequency
    ('tofacitinib', 5.0, 'mg', 'twice daily')
    """

    __tablename__ = "exposure"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    drug: Mapped[str] = mapped_column(String(100))
    dose: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class ExposureInterruption(Record):
    __tablename__ = "exposure_interruption"
    exposure_id: Mapped[int] = mapped_column(ForeignKey("exposure.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(Text)


class Visit(Record):
    """A visit: its protocol code, date, study day, window status, or why it was missed.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Visit
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Visit).where(Visit.visit_code == 'W2')).first()
    >>> record.visit_code, record.study_day, record.window_status
    ('W2', 14, 'in_window')
    """

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("subject_id", "visit_code"),)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    visit_code: Mapped[str] = mapped_column(String(40))
    visit_date: Mapped[date | None] = mapped_column(Date)
    study_day: Mapped[int | None] = mapped_column(Integer)
    window_status: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # done, missed
    notes: Mapped[str] = mapped_column(Text, default="")
    #: The protocol version whose window ``window_status`` follows: the one in force on the
    #: visit date. None on visits saved before versions were recorded (schema 0015).
    protocol_version: Mapped[str | None] = mapped_column(String(40))


class Assessment(Record):
    """One instrument at a visit: its item values, and the score computed on save with the
    instrument's version (or the reason it was not done).

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Assessment
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     query = select(Assessment).where(Assessment.instrument == 'pppasi')
    ...     record = session.scalars(query).first()
    >>> record.instrument, record.total, record.band
    ('pppasi', 26.1, 'very severe')
    """

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("visit_id", "instrument"),)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(80))
    items: Mapped[dict[str, Any]] = mapped_column()
    total: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(40))
    subscores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    #: Why the instrument was not done at this visit (then there are no items and no score).
    not_done_reason: Mapped[str | None] = mapped_column(Text)
    #: Who gave the answers: ``site`` (entered by staff) or ``patient`` (answered by the
    #: subject on an invitation; staff can then only query it or mark it not used).
    source: Mapped[str] = mapped_column(String(20), default="site", server_default="site")
    #: When the patient answered, and on what device (the browser's own description).
    answered_at: Mapped[str | None] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(200))
    #: Why a patient's answers are not used in the analysis (they stay, and are audited).
    not_used_reason: Mapped[str | None] = mapped_column(Text)


class AdverseEvent(Record):
    """An adverse event: term and MedDRA coding, dates, CTCAE grade, seriousness with its
    ICH criteria, relatedness, action taken with study drug and outcome.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import AdverseEvent
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     query = select(AdverseEvent).where(AdverseEvent.subject_id == 1)
    ...     record = session.scalars(query).first()
    >>> record.term, record.grade, record.relatedness, record.treatment_emergent
    ('Nasopharyngitis', 1, 'possible', True)
    """

    __tablename__ = "adverse_event"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    term: Mapped[str] = mapped_column(String(200))
    meddra_pt_code: Mapped[str | None] = mapped_column(String(20))
    meddra_pt: Mapped[str | None] = mapped_column(String(200))
    meddra_soc_code: Mapped[str | None] = mapped_column(String(20))
    meddra_soc: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[int] = mapped_column(Integer)
    serious: Mapped[bool] = mapped_column(Boolean)
    serious_criteria: Mapped[list[Any]] = mapped_column(default=list)
    relatedness: Mapped[str] = mapped_column(String(20))
    action_taken: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    worsened_on_treatment: Mapped[bool] = mapped_column(Boolean, default=False)
    treatment_emergent: Mapped[bool | None] = mapped_column(Boolean)


class Lab(Record):
    """A lab value with its unit, reference limits, sample date, the protocol's alerts and
    its CTCAE grade where one is defined.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Lab
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     record = session.scalars(select(Lab).where(Lab.test == 'lymphocytes')).first()
    >>> record.test, record.value, record.unit
    ('lymphocytes', 1900.0, '/mm3')
    """

    __tablename__ = "lab"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    test: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    lower_limit: Mapped[float | None] = mapped_column(Float)
    upper_limit: Mapped[float | None] = mapped_column(Float)
    sample_date: Mapped[date] = mapped_column(Date)
    on_treatment: Mapped[bool] = mapped_column(Boolean)
    alerts: Mapped[list[Any]] = mapped_column(default=list)
    ctcae_grade: Mapped[int | None] = mapped_column(Integer)


class ConMed(Record):
    """A concomitant medication: drug, indication, dose and dates.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import ConMed, add_con_med, get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     subject = get_subject(tx.session, get_study(tx.session), "S01")
    ...     med = add_con_med(tx, subject, {"drug": "cetirizine", "indication": "itch",
    ...                                     "dose": "10 mg daily", "start_date": date(2024, 3, 10)})
    >>> isinstance(med, ConMed), med.drug
    (True, 'cetirizine')
    """

    __tablename__ = "con_med"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    drug: Mapped[str] = mapped_column(String(100))
    indication: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str] = mapped_column(String(100), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class DataQuery(Record):
    """A question about a value (discrepancy): raised by an edit check or by a monitor."""

    __tablename__ = "data_query"
    changes_need_reason: ClassVar[bool] = False  # each step's why is in its thread
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))  # auto, manual
    rule: Mapped[str | None] = mapped_column(String(40))  # the edit check of an automatic one
    state: Mapped[str] = mapped_column(String(10))  # open, answered, closed
    text: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[str] = mapped_column(String(40))
    closed_at: Mapped[str | None] = mapped_column(String(40))


class QueryMessage(Record):
    """One step of a query's thread: raised, answered, closed, re-opened."""

    __tablename__ = "query_message"
    query_id: Mapped[int] = mapped_column(ForeignKey("data_query.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))  # raise, answer, close, reopen, resolve
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(40))
    by: Mapped[str] = mapped_column(String(80))
    #: the transaction time of a change made in answer (its audit entries carry the same)
    change_at: Mapped[str | None] = mapped_column(String(40))


class Verification(Record):
    """Source data verification of a record (or one field) at one version of it."""

    __tablename__ = "verification"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(60))
    record_version: Mapped[int] = mapped_column(Integer)
    verified_by: Mapped[str] = mapped_column(String(80))
    verified_at: Mapped[str] = mapped_column(String(40))


class Signature(Record):
    """An investigator's electronic signature of a casebook or a visit (21 CFR 11.50)."""

    __tablename__ = "signature"
    changes_need_reason: ClassVar[bool] = False  # an invalidation states its reason
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    signer: Mapped[str] = mapped_column(String(80))
    signed_at: Mapped[str] = mapped_column(String(40))
    meaning: Mapped[str] = mapped_column(Text)
    #: SHA-256 of the signed records as they were signed
    data_hash: Mapped[str] = mapped_column(String(64))
    invalidated_at: Mapped[str | None] = mapped_column(String(40))
    invalidated_reason: Mapped[str | None] = mapped_column(Text)


class StudyLock(Record):
    """A lock of the whole study (no subject) or of one subject, with the data's SHA-256."""

    __tablename__ = "study_lock"
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    locked_by: Mapped[str] = mapped_column(String(80))
    locked_at: Mapped[str] = mapped_column(String(40))
    lock_reason: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    unlocked_by: Mapped[str | None] = mapped_column(String(80))
    unlocked_at: Mapped[str | None] = mapped_column(String(40))
    unlock_reason: Mapped[str | None] = mapped_column(Text)


class AllocationList(Record):
    """A randomized study's allocation list, or its minimization set-up: the seed it comes
    from, who generated it, and the SHA-256 of the list as generated.

    The seed is concealed: the audit trail keeps a keyed digest of it, and only the
    unblinded statistician's pages read it (to reproduce the list, with an auditor).
    """

    __tablename__ = "allocation_list"
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"seed"})
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), unique=True)
    method: Mapped[str] = mapped_column(String(20))
    seed: Mapped[str] = mapped_column(String(128))
    #: the site codes the strata were made of, in order
    sites: Mapped[list[Any]] = mapped_column(default=list)
    #: SHA-256 of the list as generated (every slot's stratum, position, block, arm, kit)
    list_sha256: Mapped[str] = mapped_column(String(64))
    generated_by: Mapped[str] = mapped_column(String(80))
    generated_at: Mapped[str] = mapped_column(String(40))


class Allocation(Record):
    """One slot of an allocation list and, once used, the subject randomized to it.

    The arm and the block are concealed from the audit trail's readable views (kept there
    as keyed digests); the kit number is what blinded staff see.
    """

    __tablename__ = "allocation"
    __table_args__ = (
        UniqueConstraint("list_id", "stratum", "position"),
        UniqueConstraint("subject_id"),
    )
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"arm", "block", "block_size"})
    audit_salted: ClassVar[bool] = True
    changes_need_reason: ClassVar[bool] = False  # a slot is used once, by a randomization
    list_id: Mapped[int] = mapped_column(ForeignKey("allocation_list.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    block: Mapped[int | None] = mapped_column(Integer)
    block_size: Mapped[int | None] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(40))
    kit: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    randomized_on: Mapped[date | None] = mapped_column(Date)
    #: the strata as the coordinator confirmed them, and as the casebook recorded them
    confirmed_levels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_levels: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Unblinding(Record):
    """An emergency unblinding of one subject: by whom, when and why."""

    __tablename__ = "unblinding"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    unblinded_by: Mapped[str] = mapped_column(String(80))
    unblinded_at: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)


class Deviation(Record):
    """A protocol deviation, recorded and kept (e.g. a subject randomized in the wrong
    stratum); the per-protocol analysis reads them."""

    __tablename__ = "deviation"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date] = mapped_column(Date)


class QualityRule(Record):
    """A data quality rule a monitor or data manager defined: a condition over one form's
    fields (:mod:`pustula.checks.rules`) that marks a record as a discrepancy."""

    __tablename__ = "quality_rule"
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    form: Mapped[str] = mapped_column(String(40))
    condition: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


class PatientInvitation(Record):
    """A one-time invitation for a subject to answer their own questionnaires at a visit:
    a link (and QR code) given to the patient, or a kiosk session on a site tablet.

    Only the SHA-256 of the token is kept (and never in the audit trail); the token is
    useless once used, after it expires, or when the visit or study is locked.
    """

    __tablename__ = "patient_invitation"
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"token_hash"})
    changes_need_reason: ClassVar[bool] = False
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    instruments: Mapped[list[Any]] = mapped_column()
    language: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[str | None] = mapped_column(String(40))
    #: a diary link: whether the patient gets a daily e-mail reminder with a link of the day
    reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: a day's link sent by a reminder belongs to the diary it reminds of
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("patient_invitation.id"))


class Photograph(Record):
    """A photograph of one region (a palm or a sole) at a visit.

    The picture itself is kept outside the database under its SHA-256
    (:mod:`pustula.store.files.blobs`), cleaned of its metadata; the hashes here are in
    the audit trail, so a file changed on disk is found. A photograph is removed with a
    reason (``deleted_at``): it stays for the audit and leaves every view.
    """

    __tablename__ = "photograph"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    region: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    thumbnail_sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    #: the uploaded file's hash and format (the file itself is not kept: it carried the
    #: camera's metadata)
    received_sha256: Mapped[str] = mapped_column(String(64))
    received_format: Mapped[str] = mapped_column(String(10))
    #: why it was removed (with ``deleted_at``)
    removed_reason: Mapped[str | None] = mapped_column(Text)


class DiaryEntry(Record):
    """One day of a patient's diary between visits: itch and pain, 0 to 10, as the
    patient answered them (staff can query them or mark them not used, never change them).
    """

    __tablename__ = "diary_entry"
    __table_args__ = (UniqueConstraint("subject_id", "entry_date"),)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("patient_invitation.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    itch_nrs: Mapped[int] = mapped_column(Integer)
    pain_nrs: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[str] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(200))
    not_used_reason: Mapped[str | None] = mapped_column(Text)


class InterimDecision(Record):
    """A decision an interim look led to (Simon's stage 1, a predictive probability): the
    numbers it rested on, the rule's verdict, who recorded it and their comment."""

    __tablename__ = "interim_decision"
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    look: Mapped[str] = mapped_column(String(60))
    evaluable: Mapped[int] = mapped_column(Integer)
    responders: Mapped[int] = mapped_column(Integer)
    statistic: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    comment: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[str] = mapped_column(String(40))


class AuditLog(Base):
    """Append-only: database triggers refuse UPDATE and DELETE on this table.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import AuditLog
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     query = select(AuditLog).where(AuditLog.table_name == 'subject')
    ...     record = session.scalars(query).first()
    >>> record.action, record.table_name, record.field
    ('insert', 'subject', None)
    """

    __tablename__ = "audit_log"
    # a record's history is read by (table, record)
    __table_args__ = (Index("ix_audit_log_record", "table_name", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(10))  # insert, update, remove, import
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last audit entry. Writers lock it, which orders the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    #: Fingerprint of the key the chain is signed with (None: an empty or legacy chain).
    key_id: Mapped[str | None] = mapped_column(String(32))


class ImportSource(Base):
    """A file an import read, kept so that every value it brought in can be replayed.

    Content-addressed: ``sha256`` is the hash of the file's bytes, which are stored
    compressed in :class:`ImportSourceChunk` rows. The audit entry of each casebook it
    brought in names the hash, so the file cannot change unseen (decision 0007).
    """

    __tablename__ = "import_source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: the file's name or the address it was fetched from (never a token)
    name: Mapped[str] = mapped_column(String(500))
    #: which reader parsed it (the ``pustula.import_readers`` entry point), and how
    reader: Mapped[str] = mapped_column(String(40))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[str] = mapped_column(String(40))
    imported_by: Mapped[str] = mapped_column(String(80))


class ImportSourceChunk(Base):
    """A piece of a kept file: zlib-compressed bytes as base64 text, so that bundles in
    CSV or JSON and every database hold it alike."""

    __tablename__ = "import_source_chunk"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("import_source.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class User(Record):
    """A person who signs in. Passwords and API tokens are stored only as hashes."""

    __tablename__ = "app_user"
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"password_hash", "token_hash"})
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    sites: Mapped[list[Any]] = mapped_column(default=list)  # site codes; ["*"] means every site
    password_hash: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: When the API token stops working (seconds since the epoch); None: no token expiry.
    token_expires: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StudyRole(Record):
    """What a person may do in one study: a role, and the sites whose subjects they see.

    A server administrator (``app_user.role`` ``admin``) administers every study without
    one; everyone else sees only the studies they hold a role in (decision 0019).
    """

    __tablename__ = "study_role"
    __table_args__ = (UniqueConstraint("user_id", "study_id"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    sites: Mapped[list[Any]] = mapped_column(default=list)  # site codes; ["*"]: every site


class ProtocolVersion(Record):
    """A version of a study's protocol: the first one, an amendment's draft, or an
    approved amendment with who approved it, when it takes effect, why, and whether
    subjects must consent again (decision 0020)."""

    __tablename__ = "protocol_version"
    __table_args__ = (UniqueConstraint("study_id", "protocol_version"),)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    protocol_version: Mapped[str] = mapped_column(String(40))
    protocol_yaml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # draft, approved, withdrawn
    #: What the amendment does and why, as its author wrote it on upload.
    summary: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date | None] = mapped_column(Date)
    reconsent: Mapped[bool | None] = mapped_column(Boolean)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[str | None] = mapped_column(String(40))
    approval_reason: Mapped[str | None] = mapped_column(Text)


class Consent(Record):
    """A subject's informed consent to one protocol version, on a date."""

    __tablename__ = "consent"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    protocol_version: Mapped[str] = mapped_column(String(40))
    consented_on: Mapped[date] = mapped_column(Date)


class PatientContact(Base):
    """A patient's e-mail address for reminders, kept apart from the study data.

    Not an audited record and not in any export, bundle or extract: the audit trail and
    the study data hold subject codes only. Removed when the patient withdraws consent to
    reminders, or at the end of the study.
    """

    __tablename__ = "patient_contact"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[str] = mapped_column(String(40))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored.

    Not an audited record: it changes on every visit. Revoked at sign-out, on deactivation
    and on a password change; it ends after the idle and absolute timeouts.
    """

    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    revoked: Mapped[float | None] = mapped_column(Float)


class LoginFailure(Base):
    """A failed (or pending) sign-in, shared by every worker, for the throttle."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)
