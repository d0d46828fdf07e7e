"""Patients' e-mail addresses for reminders, kept apart from the study data.

An address is not an audited record (the audit trail holds subject codes only), is never
exported, bundled or extracted, and is never written to a log. It is removed when the
patient no longer wants reminders.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError
from pustula.store.db.hooks import now_iso
from pustula.store.db.models import PatientContact

__all__ = ["address_of", "check_address", "forget_address", "keep_address"]

#: One address, as a person types it: something@domain.tld, no spaces or angle brackets
#: (which would let a header be forged in the reminder).
_ADDRESS = re.compile(r"[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[A-Za-z]{2,}")


def check_address(text: str) -> str:
    """The address, trimmed, or :class:`DataValidationError` on the ``email`` field.

    >>> check_address(" patient@example.org ")
    'patient@example.org'
    """
    address = text.strip()
    if not address:
        raise DataValidationError("email: write the patient's e-mail address for the reminders",
                                  field="email")  # fmt: skip
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise DataValidationError("email: this is not an e-mail address (name@example.org)",
                                  field="email")  # fmt: skip
    return address


def keep_address(session: Session, subject_id: int, address: str) -> None:
    found = session.get(PatientContact, subject_id)
    if found is None:
        session.add(PatientContact(subject_id=subject_id, email=address, added_at=now_iso()))
    else:
        found.email, found.added_at = address, now_iso()


def address_of(session: Session, subject_id: int) -> str | None:
    return session.scalars(
        select(PatientContact.email).where(PatientContact.subject_id == subject_id)
    ).first()


def forget_address(session: Session, subject_id: int) -> None:
    session.execute(delete(PatientContact).where(PatientContact.subject_id == subject_id))
