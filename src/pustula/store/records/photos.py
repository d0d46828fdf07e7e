"""Photographs of the palms and soles at a visit: add one, remove one with a reason.

The picture is cleaned (:mod:`pustula.store.files.images`) and kept by its SHA-256
outside the database (:mod:`pustula.store.files.blobs`) before its row is saved; the
row, with the hashes, goes into the audit trail with the save. A removed photograph stays
(file and row) for the audit and leaves every view.
"""

from __future__ import annotations

from sqlalchemy import select

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.scoring.pppasi import REGION_LABELS, REGIONS
from pustula.store.db.models import Photograph, Subject, Visit
from pustula.store.db.uow import Transaction, update_record
from pustula.store.files.images import CleanPhotograph

__all__ = ["REGIONS", "add_photograph", "photographs_in", "remove_photograph"]


def add_photograph(
    tx: Transaction, subject: Subject, visit: Visit, region: str, picture: CleanPhotograph
) -> Photograph:
    """The row of a photograph whose files are already kept."""
    if region not in REGIONS:
        choices = ", ".join(REGION_LABELS[r].lower() for r in REGIONS)
        raise DataValidationError(f"region: choose {choices}", field="region")
    if visit.subject_id != subject.id or visit.deleted_at is not None:
        raise RecordNotFoundError(f"visit {visit.id} is not a visit of {subject.code}")
    if visit.status != "done":
        raise DataValidationError(
            "visit: photographs belong to a visit that took place; this one was missed",
            field="visit",
        )
    row = Photograph(
        subject_id=subject.id, visit_id=visit.id, region=region, sha256=picture.sha256,
        thumbnail_sha256=picture.thumbnail_sha256, media_type=picture.media_type,
        width=picture.width, height=picture.height, byte_size=len(picture.data),
        received_sha256=picture.received_sha256, received_format=picture.received_format,
    )  # fmt: skip
    tx.session.add(row)
    tx.flush()
    return row


def remove_photograph(tx: Transaction, photo: Photograph, *, expected_version: int) -> None:
    """Hide a photograph from every view, keeping it and saying why (the transaction's
    reason, required)."""
    if not (tx.reason or "").strip():
        raise DataValidationError("reason: say why the photograph is removed", field="reason")
    if photo.deleted_at is not None:
        raise RecordNotFoundError(f"photograph {photo.id} is already removed")
    changes = {"deleted_at": tx.session.info["at"], "removed_reason": tx.reason}
    update_record(tx, photo, changes, expected_version=expected_version)


def photographs_in(tx: Transaction, subject: Subject) -> list[Photograph]:
    """The subject's photographs not removed, in the order they were taken."""
    return list(
        tx.session.scalars(
            select(Photograph)
            .where(Photograph.subject_id == subject.id, Photograph.deleted_at.is_(None))
            .order_by(Photograph.id)
        )
    )
