"""The store's typed front: frozen, read-only views of the rows pages and the API read.

Each view has the columns of its table (``tests/store/test_views.py`` keeps them in step
with the models) and none of the ORM's machinery: a route gets data, never a session.
They are built by :func:`pustula.store.monitoring.snapshot.subject_records` and
:func:`pustula.store.monitoring.queries.request_scope` from one statement per request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar

__all__ = [
    "VIEWS",
    "AdverseEventView",
    "AssessmentView",
    "BaselineView",
    "ConMedView",
    "ConsentView",
    "DiaryEntryView",
    "EligibilityView",
    "ExposureView",
    "InterruptionView",
    "LabView",
    "LockView",
    "PhotographView",
    "PriorTherapyView",
    "ProtocolVersionView",
    "QueryMessageView",
    "QueryView",
    "SignatureView",
    "SubjectView",
    "UserView",
    "VerificationView",
    "VisitView",
]

V = TypeVar("V", bound="_View")


@dataclass(frozen=True, slots=True)
class _View:
    __tablename__: ClassVar[str] = ""

    @classmethod
    def from_row(cls: type[V], values: Mapping[str, Any]) -> V:
        """The view of a row; columns the view does not show (secrets) are left out."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    @property
    def label(self) -> str:
        return f"{self.__tablename__} {getattr(self, 'id', '')}"

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class _Record(_View):
    """The columns every audited record has (:class:`pustula.store.db.models.Record`)."""

    id: int
    version: int
    created_at: str
    created_by: str
    updated_at: str | None
    updated_by: str | None
    deleted_at: str | None


@dataclass(frozen=True, slots=True)
class SubjectView(_Record):
    """A subject record, read-only."""

    __tablename__: ClassVar[str] = "subject"
    study_id: int
    site_id: int
    code: str
    status: str
    arm: str | None
    screened_on: date
    enrolled_on: date | None
    ended_on: date | None
    end_reason: str | None
    last_contact: date | None


@dataclass(frozen=True, slots=True)
class BaselineView(_Record):
    """A baseline record, read-only."""

    __tablename__: ClassVar[str] = "baseline"
    subject_id: int
    age: int
    sex: str
    disease_duration_months: float
    eraspen_ppp: bool
    smoking: str
    pack_years: float | None
    triggers: list[str]
    comorbidities: list[str]
    screening: dict[str, str]


@dataclass(frozen=True, slots=True)
class EligibilityView(_Record):
    """A eligibility result record, read-only."""

    __tablename__: ClassVar[str] = "eligibility_result"
    subject_id: int
    screening: int
    criterion_id: str
    kind: str
    text: str
    met: bool | None
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PriorTherapyView(_Record):
    """A prior therapy record, read-only."""

    __tablename__: ClassVar[str] = "prior_therapy"
    subject_id: int
    category: str
    drug: str
    response: str


@dataclass(frozen=True, slots=True)
class ExposureView(_Record):
    """A exposure record, read-only."""

    __tablename__: ClassVar[str] = "exposure"
    subject_id: int
    drug: str
    dose: float
    unit: str
    frequency: str
    start_date: date
    end_date: date | None


@dataclass(frozen=True, slots=True)
class InterruptionView(_Record):
    """An interruption of study drug, read-only."""

    __tablename__: ClassVar[str] = "exposure_interruption"
    exposure_id: int
    start_date: date
    end_date: date | None
    cause: str


@dataclass(frozen=True, slots=True)
class VisitView(_Record):
    """A visit record, read-only."""

    __tablename__: ClassVar[str] = "visit"
    subject_id: int
    visit_code: str
    visit_date: date | None
    study_day: int | None
    window_status: str | None
    status: str
    notes: str
    protocol_version: str | None


@dataclass(frozen=True, slots=True)
class AssessmentView(_Record):
    """A assessment record, read-only."""

    __tablename__: ClassVar[str] = "assessment"
    visit_id: int
    instrument: str
    instrument_version: str
    items: dict[str, Any]
    total: float | None
    band: str | None
    subscores: dict[str, float]
    warnings: list[str]
    not_done_reason: str | None
    source: str = "site"
    answered_at: str | None = None
    device: str | None = None
    not_used_reason: str | None = None

    @property
    def by_patient(self) -> bool:
        """Whether the patient gave these answers (then staff cannot change them)."""
        return self.source == "patient"


@dataclass(frozen=True, slots=True)
class AdverseEventView(_Record):
    """A adverse event record, read-only."""

    __tablename__: ClassVar[str] = "adverse_event"
    subject_id: int
    term: str
    meddra_pt_code: str | None
    meddra_pt: str | None
    meddra_soc_code: str | None
    meddra_soc: str | None
    start_date: date
    end_date: date | None
    grade: int
    serious: bool
    serious_criteria: list[str]
    relatedness: str
    action_taken: str
    outcome: str
    worsened_on_treatment: bool
    treatment_emergent: bool | None


@dataclass(frozen=True, slots=True)
class LabView(_Record):
    """A lab record, read-only."""

    __tablename__: ClassVar[str] = "lab"
    subject_id: int
    test: str
    value: float
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    sample_date: date
    on_treatment: bool
    alerts: list[dict[str, Any]]
    ctcae_grade: int | None


@dataclass(frozen=True, slots=True)
class ConMedView(_Record):
    """A con med record, read-only."""

    __tablename__: ClassVar[str] = "con_med"
    subject_id: int
    drug: str
    indication: str
    dose: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class PhotographView(_Record):
    """A photograph's record (its picture is kept apart, by ``sha256``), read-only."""

    __tablename__: ClassVar[str] = "photograph"
    subject_id: int
    visit_id: int
    region: str
    sha256: str
    thumbnail_sha256: str
    media_type: str
    width: int
    height: int
    byte_size: int
    received_sha256: str
    received_format: str
    removed_reason: str | None


@dataclass(frozen=True, slots=True)
class DiaryEntryView(_Record):
    """A day of the patient's diary, read-only."""

    __tablename__: ClassVar[str] = "diary_entry"
    subject_id: int
    invitation_id: int
    entry_date: date
    itch_nrs: int
    pain_nrs: int
    answered_at: str
    device: str | None
    not_used_reason: str | None


@dataclass(frozen=True, slots=True)
class UserView(_View):
    """Who is asking: the signed-in user's name, role and sites (never a secret)."""

    __tablename__: ClassVar[str] = "app_user"
    id: int
    username: str
    role: str
    sites: list[str]


#: The view of each table a subject's record holds, by table name.
@dataclass(frozen=True, slots=True)
class QueryView(_Record):
    """A data query, read-only."""

    __tablename__: ClassVar[str] = "data_query"
    subject_id: int
    table_name: str
    record_id: int
    field: str | None
    kind: str
    rule: str | None
    state: str
    text: str
    opened_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class QueryMessageView(_Record):
    """One step of a query's thread, read-only."""

    __tablename__: ClassVar[str] = "query_message"
    query_id: int
    action: str
    text: str
    at: str
    by: str
    change_at: str | None


@dataclass(frozen=True, slots=True)
class VerificationView(_Record):
    """A source data verification, read-only."""

    __tablename__: ClassVar[str] = "verification"
    subject_id: int
    table_name: str
    record_id: int
    field: str | None
    record_version: int
    verified_by: str
    verified_at: str


@dataclass(frozen=True, slots=True)
class SignatureView(_Record):
    """An electronic signature, read-only."""

    __tablename__: ClassVar[str] = "signature"
    subject_id: int
    visit_id: int | None
    signer: str
    signed_at: str
    meaning: str
    data_hash: str
    invalidated_at: str | None
    invalidated_reason: str | None


@dataclass(frozen=True, slots=True)
class LockView(_Record):
    """A lock of the study or of a subject, read-only."""

    __tablename__: ClassVar[str] = "study_lock"
    study_id: int
    subject_id: int | None
    locked_by: str
    locked_at: str
    lock_reason: str
    snapshot_sha256: str
    unlocked_by: str | None
    unlocked_at: str | None
    unlock_reason: str | None


@dataclass(frozen=True, slots=True)
class ConsentView(_Record):
    """A subject's new consent to an amended protocol version, read-only."""

    __tablename__: ClassVar[str] = "consent"
    subject_id: int
    protocol_version: str
    consented_on: date


@dataclass(frozen=True, slots=True)
class ProtocolVersionView(_View):
    """What a subject's page needs of an approved protocol version: when it took effect and
    whether subjects had to consent again (not its text)."""

    __tablename__: ClassVar[str] = "protocol_version"
    id: int
    protocol_version: str
    effective_on: date | None
    reconsent: bool | None


VIEWS: dict[str, type[_View]] = {
    v.__tablename__: v
    for v in (
        SubjectView, BaselineView, EligibilityView, PriorTherapyView, ExposureView,
        InterruptionView, VisitView, AssessmentView, AdverseEventView, LabView, ConMedView,
        QueryView, QueryMessageView, VerificationView, SignatureView, LockView,
        PhotographView, DiaryEntryView, ConsentView, ProtocolVersionView,
    )
}  # fmt: skip
