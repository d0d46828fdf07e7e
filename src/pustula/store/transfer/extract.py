"""A study's data as plain DataFrames, for analysis: removed records are left out.

This is the analysis layer's only door into the database, so ``pustula.analysis`` never
imports SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, select

from pustula.protocol import Protocol
from pustula.protocol.amendments import ProtocolHistory
from pustula.protocol.randomization import POOLED_ARM, pooled_arms
from pustula.store.db.models import (
    AdverseEvent,
    Allocation,
    Assessment,
    Baseline,
    ConMed,
    Deviation,
    EligibilityResult,
    Exposure,
    ExposureInterruption,
    Lab,
    PriorTherapy,
    Signature,
    Site,
    StudyLock,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store
from pustula.store.records.amendments import protocol_history
from pustula.store.records.study import get_study, protocol_of
from pustula.store.records.timing import doses_by_subject

__all__ = ["FRAMES", "ExchangeData", "StudyData", "read_exchange", "read_items", "read_study",
           "restrict", "restrict_exchange"]  # fmt: skip

#: The per-subject frames of :class:`StudyData`, each with a ``subject`` column.
FRAMES = (
    "subjects", "prior_therapies", "exposure", "interruptions", "assessments",
    "adverse_events", "labs",
)  # fmt: skip


@dataclass(frozen=True)
class StudyData:
    """Everything the analysis needs about one study, keyed by subject code."""

    code: str
    title: str
    synthetic: bool
    protocol: Protocol
    subjects: pd.DataFrame
    prior_therapies: pd.DataFrame
    exposure: pd.DataFrame
    interruptions: pd.DataFrame
    assessments: pd.DataFrame
    adverse_events: pd.DataFrame
    labs: pd.DataFrame
    #: the study-wide lock that holds, if any: who, when (UTC), why and the data's SHA-256
    lock: dict[str, str] | None = None
    #: e-signatures (subject, visit, signer, signed_at, meaning, invalidated_at); not part of
    #: the data hash, which covers the clinical data a signature is about
    signatures: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: randomized subjects (subject, randomized_on, kit, stratum, strata as confirmed, arm).
    #: In a blinded trial read without ``arms=True`` every arm is the pooled ``BLINDED``.
    #: Not part of the data hash, which covers the clinical data.
    allocation: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: protocol deviations (subject, category, description, occurred_on), what the
    #: per-protocol set reads; outside the data hash, as the allocation is
    deviations: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: the criteria each subject failed at their latest screening (subject, kind,
    #: criterion_id, text), what a CONSORT diagram gives as reasons for exclusion
    failed_criteria: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: the protocol's approved versions: each visit is judged by the window of the version
    #: in force on its date, and the report lists the amendments (None: the protocol only)
    history: ProtocolHistory | None = None

    def snapshot_hash(self) -> str:
        """SHA-256 over every frame's content: the same data always give the same hash."""
        digest = hashlib.sha256()
        for name in FRAMES:
            frame: pd.DataFrame = getattr(self, name)
            digest.update(name.encode())
            digest.update(frame.to_csv(index=False).encode())
        return digest.hexdigest()


def restrict(data: StudyData, subjects: set[str]) -> StudyData:
    """The same study with only the given subject codes (for site-scoped users)."""
    frames = {
        name: getattr(data, name)[getattr(data, name)["subject"].isin(subjects)].reset_index(
            drop=True
        )
        for name in FRAMES
    }
    outside = {}
    for name in ("signatures", "allocation", "deviations", "failed_criteria"):
        frame = getattr(data, name)
        if len(frame):
            frame = frame[frame["subject"].isin(subjects)].reset_index(drop=True)
        outside[name] = frame
    return dataclasses.replace(data, **frames, **outside)


def _children(connection: Any, by_subject: Select[Any], model: Any, *columns: Any) -> pd.DataFrame:
    """Columns of a subject's child records that have not been removed."""
    query = (
        by_subject.add_columns(*columns)
        .join(model, model.subject_id == Subject.id)
        .where(model.deleted_at.is_(None))
    )
    return _frame(connection, query)


def _frame(connection: Any, query: Select[Any]) -> pd.DataFrame:
    return pd.read_sql(query, connection)


def read_study(store: Store, code: str | None = None, *, arms: bool = False) -> StudyData:
    """Read one study (the only one when ``code`` is None) into DataFrames.

    All frames come from one snapshot, so a save made meanwhile shows in all or none. A
    blinded trial is read blinded unless ``arms`` is True (for unblinded readers only):
    its protocol's arms pooled into one, and every randomized subject's arm that one.
    """
    with store.snapshot() as session:
        study = get_study(session, code)
        protocol = protocol_of(study)
        blinded = protocol.blinded
        if blinded and not arms:
            protocol = protocol.model_copy(update={"arms": pooled_arms(protocol.arms)})
        sid = study.id
        connection = session.connection()
        live = Subject.deleted_at.is_(None)
        first_dose = doses_by_subject().subquery()
        subjects = _frame(
            connection,
            (
                select(
                    Subject.id.label("subject_id"),
                    Subject.code.label("subject"),
                    Site.code.label("site"),
                    Subject.status,
                    Subject.arm,
                    Subject.screened_on,
                    Subject.enrolled_on,
                    Subject.ended_on,
                    Subject.end_reason,
                    Baseline.age,
                    Baseline.sex,
                    Baseline.disease_duration_months,
                    Baseline.smoking,
                    Baseline.pack_years,
                    Baseline.triggers,
                    Baseline.comorbidities,
                    first_dose.c.first_dose,
                    first_dose.c.last_dose,
                )
                .join(Site, Site.id == Subject.site_id)
                .outerjoin(Baseline, Baseline.subject_id == Subject.id)
                .outerjoin(first_dose, first_dose.c.subject_id == Subject.id)
                .where(Subject.study_id == sid, live)
                .order_by(Subject.code)
            ),
        )
        by_subject = select(Subject.code.label("subject")).where(Subject.study_id == sid, live)
        prior = _children(
            connection,
            by_subject,
            PriorTherapy,
            PriorTherapy.category,
            PriorTherapy.drug,
            PriorTherapy.response,
        )
        exposure = _children(
            connection,
            by_subject,
            Exposure,
            Exposure.id.label("exposure_id"),
            Exposure.drug,
            Exposure.dose,
            Exposure.unit,
            Exposure.frequency,
            Exposure.start_date,
            Exposure.end_date,
        )
        interruptions = _frame(
            connection,
            by_subject.add_columns(
                ExposureInterruption.start_date,
                ExposureInterruption.end_date,
                ExposureInterruption.cause,
            )
            .join(Exposure, Exposure.subject_id == Subject.id)
            .join(ExposureInterruption, ExposureInterruption.exposure_id == Exposure.id)
            .where(ExposureInterruption.deleted_at.is_(None), Exposure.deleted_at.is_(None)),
        )
        assessments = _frame(
            connection,
            by_subject.add_columns(
                Visit.visit_code,
                Visit.visit_date,
                Visit.study_day,
                Visit.window_status,
                Visit.status.label("visit_status"),
                Assessment.instrument,
                Assessment.instrument_version,
                Assessment.total,
                Assessment.band,
            )
            .join(Visit, Visit.subject_id == Subject.id)
            .outerjoin(
                Assessment,
                # a patient's answers marked not used stay stored and audited, not analysed
                (Assessment.visit_id == Visit.id)
                & Assessment.deleted_at.is_(None)
                & Assessment.not_used_reason.is_(None),
            )
            .where(Visit.deleted_at.is_(None)),
        )
        aes = _children(
            connection,
            by_subject,
            AdverseEvent,
            AdverseEvent.term,
            AdverseEvent.meddra_pt,
            AdverseEvent.meddra_soc,
            AdverseEvent.start_date,
            AdverseEvent.end_date,
            AdverseEvent.grade,
            AdverseEvent.serious,
            AdverseEvent.relatedness,
            AdverseEvent.action_taken,
            AdverseEvent.outcome,
            AdverseEvent.treatment_emergent,
        )
        labs = _children(
            connection,
            by_subject,
            Lab,
            Lab.test,
            Lab.value,
            Lab.unit,
            Lab.sample_date,
            Lab.on_treatment,
            Lab.alerts,
            Lab.ctcae_grade,
        )
        return StudyData(
            code=study.code,
            title=study.title,
            synthetic=study.synthetic,
            protocol=protocol,
            subjects=_dates(
                subjects, "screened_on", "enrolled_on", "ended_on", "first_dose", "last_dose"
            ),
            prior_therapies=prior,
            exposure=_dates(exposure, "start_date", "end_date"),
            interruptions=_dates(interruptions, "start_date", "end_date"),
            assessments=_dates(assessments, "visit_date"),
            adverse_events=_dates(aes, "start_date", "end_date"),
            labs=_dates(labs, "sample_date"),
            lock=_study_lock(session, study.id),
            signatures=_frame(
                connection,
                by_subject.add_columns(
                    Visit.visit_code,
                    Signature.signer,
                    Signature.signed_at,
                    Signature.meaning,
                    Signature.invalidated_at,
                )
                .join(Signature, Signature.subject_id == Subject.id)
                .outerjoin(Visit, Visit.id == Signature.visit_id)
                .where(Signature.deleted_at.is_(None))
                .order_by(Signature.id),
            ),
            allocation=_allocation(connection, by_subject, pooled=blinded and not arms),
            deviations=_dates(
                _children(
                    connection,
                    by_subject,
                    Deviation,
                    Deviation.category,
                    Deviation.description,
                    Deviation.occurred_on,
                ),
                "occurred_on",
            ),
            failed_criteria=_failed_criteria(connection, by_subject),
            history=protocol_history(session, study),
        )


def _failed_criteria(connection: Any, by_subject: Select[Any]) -> pd.DataFrame:
    rows = _frame(connection, by_subject.add_columns(
        EligibilityResult.screening, EligibilityResult.kind, EligibilityResult.criterion_id,
        EligibilityResult.text, EligibilityResult.passed,
    ).join(EligibilityResult, EligibilityResult.subject_id == Subject.id)
     .where(EligibilityResult.deleted_at.is_(None)))  # fmt: skip
    if rows.empty:
        return rows.drop(columns=["passed", "screening"], errors="ignore")
    latest = rows.groupby("subject")["screening"].transform("max")
    failed = rows[(rows["screening"] == latest) & ~rows["passed"].astype(bool)]
    return failed.drop(columns=["passed", "screening"]).reset_index(drop=True)


def _allocation(connection: Any, by_subject: Select[Any], *, pooled: bool) -> pd.DataFrame:
    frame = _frame(
        connection,
        by_subject.add_columns(
            Allocation.randomized_on, Allocation.kit, Allocation.stratum,
            Allocation.confirmed_levels.label("strata"), Allocation.arm,
        )
        .join(Allocation, Allocation.subject_id == Subject.id)
        .order_by(Allocation.randomized_on, Allocation.id),
    )  # fmt: skip
    if pooled:
        frame["arm"] = POOLED_ARM["code"]
    frame["strata"] = frame["strata"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    return _dates(frame, "randomized_on")


def read_items(store: Store) -> pd.DataFrame:
    """Every live assessment's item values and region scores, one row per assessment.

    Columns: subject, visit_code, instrument, items (dict), subscores (dict), total,
    not_done_reason. What tidy exports and data exchange read beside :class:`StudyData`.
    """
    with store.snapshot() as session:
        return _items(session)


def _items(session: Any) -> pd.DataFrame:
    rows = session.execute(
        select(
            Subject.code, Visit.visit_code, Assessment.instrument, Assessment.items,
            Assessment.subscores, Assessment.total, Assessment.not_done_reason,
        )
        .join(Visit, Visit.id == Assessment.visit_id)
        .join(Subject, Subject.id == Visit.subject_id)
        .where(Assessment.deleted_at.is_(None), Visit.deleted_at.is_(None),
               Subject.deleted_at.is_(None))
        .order_by(Subject.code, Visit.visit_code, Assessment.instrument)
    ).all()  # fmt: skip
    columns = ["subject", "visit_code", "instrument", "items", "subscores", "total",
               "not_done_reason"]  # fmt: skip
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


@dataclass(frozen=True)
class ExchangeData:
    """What data exchange writes beyond :class:`StudyData`, read in bulk: every record's
    detail (an AE's seriousness criteria, a lab's reference range, a visit's note) and the
    concomitant medications. Each frame has a ``subject`` column; ``seq`` keeps entry order.
    """

    items: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    labs: pd.DataFrame
    con_meds: pd.DataFrame


def read_exchange(store: Store) -> ExchangeData:
    """Read the details of every live record of the study, one statement per table, all from
    one snapshot (a save made meanwhile shows in all frames or in none)."""
    with store.snapshot() as session:
        study = get_study(session)
        connection = session.connection()
        by_subject = select(Subject.code.label("subject")).where(
            Subject.study_id == study.id, Subject.deleted_at.is_(None)
        )

        def table(model: Any, *columns: Any) -> pd.DataFrame:
            ordered = by_subject.order_by(Subject.code, model.id)
            return _children(connection, ordered, model, model.id.label("seq"), *columns)

        visits = _frame(
            connection,
            by_subject.add_columns(Visit.visit_code, Visit.visit_date, Visit.status, Visit.notes)
            .join(Visit, Visit.subject_id == Subject.id)
            .where(Visit.deleted_at.is_(None))
            .order_by(Subject.code, Visit.id),
        )
        aes = table(
            AdverseEvent, AdverseEvent.term, AdverseEvent.meddra_pt, AdverseEvent.meddra_pt_code,
            AdverseEvent.meddra_soc, AdverseEvent.meddra_soc_code, AdverseEvent.start_date,
            AdverseEvent.end_date, AdverseEvent.grade, AdverseEvent.serious,
            AdverseEvent.serious_criteria, AdverseEvent.relatedness, AdverseEvent.action_taken,
            AdverseEvent.outcome, AdverseEvent.treatment_emergent,
        )  # fmt: skip
        labs = table(
            Lab, Lab.test, Lab.value, Lab.unit, Lab.lower_limit, Lab.upper_limit,
            Lab.sample_date, Lab.on_treatment, Lab.ctcae_grade, Lab.alerts,
        )  # fmt: skip
        con_meds = table(ConMed, ConMed.drug, ConMed.indication, ConMed.dose, ConMed.start_date,
                         ConMed.end_date)  # fmt: skip
        items = _items(session)
    aes["serious_criteria"] = aes["serious_criteria"].map(_json_list)
    labs["alerts"] = labs["alerts"].map(_json_list)
    return ExchangeData(
        items=items,
        visits=_dates(visits, "visit_date"),
        adverse_events=_dates(aes, "start_date", "end_date"),
        labs=_dates(labs, "sample_date"),
        con_meds=_dates(con_meds, "start_date", "end_date"),
    )


def restrict_exchange(extra: ExchangeData, subjects: set[str]) -> ExchangeData:
    """The same details with only the given subject codes (for site-scoped users)."""
    frames = {
        f.name: getattr(extra, f.name)[getattr(extra, f.name)["subject"].isin(subjects)]
        for f in dataclasses.fields(extra)
    }
    return ExchangeData(**frames)


def _json_list(value: Any) -> list[Any]:
    """A JSON column as a list whichever driver read it (SQLite gives text)."""
    if isinstance(value, str):
        import json

        return list(json.loads(value))
    return list(value or [])


def _study_lock(session: Any, study_id: int) -> dict[str, str] | None:
    row = session.scalars(
        select(StudyLock).where(
            StudyLock.study_id == study_id, StudyLock.subject_id.is_(None),
            StudyLock.unlocked_at.is_(None), StudyLock.deleted_at.is_(None),
        )
    ).first()  # fmt: skip
    if row is None:
        return None
    return {"locked_at": row.locked_at, "locked_by": row.locked_by, "reason": row.lock_reason,
            "snapshot_sha256": row.snapshot_sha256}  # fmt: skip


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Dates as datetime64 in seconds, which holds every year from 1 to 9999.

    pandas' default nanoseconds end in 2262, so one mistyped 9999-12-31 in an old database
    would make every analysis of the study fail; in seconds it is just a wrong date.
    """
    for column in columns:
        days = np.array(
            [np.datetime64("NaT") if pd.isna(v) else np.datetime64(v, "D") for v in frame[column]],
            dtype="datetime64[D]",
        )
        frame[column] = pd.Series(days.astype("datetime64[s]"), index=frame.index)
    return frame
