"""Protocol versions in the store: a study's approved versions as a history, the first
version of a new study, and consent to a version.

The rules (which version is in force on a date, what one version changes from another)
are :mod:`pustula.protocol.amendments`; this module only reads and writes their rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.protocol.amendments import ProtocolHistory, VersionInForce
from pustula.store.db.hooks import UPGRADE_STEPS
from pustula.store.db.models import Consent, ProtocolVersion, Study, Subject
from pustula.store.db.uow import Store, Transaction
from pustula.store.records.study import protocol_from_text, protocol_of

__all__ = [
    "APPROVED",
    "DRAFT",
    "WITHDRAWN",
    "add_consent",
    "add_first_version",
    "protocol_history",
]

DRAFT, APPROVED, WITHDRAWN = "draft", "approved", "withdrawn"


def protocol_history(session: Session, study: Study | int) -> ProtocolHistory:
    """The study's approved protocol versions, oldest first (the study's own protocol
    alone for a study from before versions were kept).

    Examples
    --------
    >>> from pustula.store import get_study
    >>> with demo_store().reader() as session:
    ...     history = protocol_history(session, get_study(session))
    >>> [(v.version, v.effective_on) for v in history.versions]
    [('1.0', None)]
    """
    study_id = study if isinstance(study, int) else study.id
    rows = session.execute(
        select(ProtocolVersion.protocol_version, ProtocolVersion.effective_on,
               ProtocolVersion.protocol_yaml, ProtocolVersion.summary,
               ProtocolVersion.approved_by, ProtocolVersion.approved_at,
               ProtocolVersion.approval_reason, ProtocolVersion.reconsent)
        .where(ProtocolVersion.study_id == study_id, ProtocolVersion.status == APPROVED,
               ProtocolVersion.deleted_at.is_(None))
        .order_by(ProtocolVersion.effective_on.is_not(None), ProtocolVersion.effective_on,
                  ProtocolVersion.id)
    ).all()  # fmt: skip
    if not rows:
        record = study if isinstance(study, Study) else session.get(Study, study_id)
        assert record is not None
        return ProtocolHistory.single(protocol_of(record))
    code = str(study_id)
    return ProtocolHistory(tuple(
        VersionInForce(r.protocol_version, r.effective_on,
                       protocol_from_text(r.protocol_yaml, code), r.summary,
                       r.approved_by or "", r.approved_at or "", r.approval_reason or "",
                       bool(r.reconsent))
        for r in rows
    ))  # fmt: skip


def add_first_version(tx: Transaction, study: Study, *, approved_by: str, approved_at: str
                      ) -> ProtocolVersion:  # fmt: skip
    """The protocol a study was created with, kept as its first approved version."""
    row = ProtocolVersion(
        study_id=study.id, protocol_version=study.protocol_version,
        protocol_yaml=study.protocol_yaml, status=APPROVED,
        summary="The protocol the study was created with.", effective_on=None,
        reconsent=False, approved_by=approved_by, approved_at=approved_at,
        approval_reason="first version of the study",
    )  # fmt: skip
    tx.session.add(row)
    tx.session.flush()
    return row


def add_consent(tx: Transaction, subject: Subject, *, version: str, on: date) -> Consent:
    """Record that ``subject`` consented again, to protocol ``version``, on ``on``.

    The first consent is the screening's (a subject is screened only after consenting,
    ICH E6 4.8.8): the version in force on the screening date, never a row of its own.
    """
    row = Consent(subject_id=subject.id, protocol_version=version, consented_on=on)
    tx.session.add(row)
    tx.session.flush()
    return row


def _protocol_versions(store: Store) -> None:
    """Give studies from before protocol versions their protocol as first version.

    Runs after each upgrade and does nothing once done.
    """
    with store.reader() as session:
        known = set(session.scalars(select(ProtocolVersion.study_id)))
        pending = [s for s in session.scalars(select(Study.id)) if s not in known]
    if not pending:
        return
    reason = "upgrade: protocol versions are now kept; each study's protocol is its first version"
    with store.transaction(user="pustula-upgrade", reason=reason) as tx:
        for study in tx.session.scalars(select(Study).where(Study.id.in_(pending))).all():
            add_first_version(tx, study, approved_by=study.created_by,
                              approved_at=study.created_at)  # fmt: skip


UPGRADE_STEPS.append(_protocol_versions)
