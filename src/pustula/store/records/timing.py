"""The first-dose rule in SQL: the one statement shape every read of it uses.

The rule itself is :func:`pustula.protocol.first_dose` (the earliest start of the live
exposure records); this module is its only translation into SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from pustula.store.db.models import Exposure

__all__ = ["doses_by_subject", "first_dose_of"]


def first_dose_of(subject_id: Any) -> Any:
    """The first dose of one subject, as a scalar subquery (``subject_id`` may be a bind)."""
    return (
        select(func.min(Exposure.start_date))
        .where(Exposure.subject_id == subject_id, Exposure.deleted_at.is_(None))
        .scalar_subquery()
    )


def doses_by_subject() -> Select[Any]:
    """One row per subject with live exposure: ``subject_id``, ``first_dose`` and
    ``last_dose``.

    ``last_dose`` is the latest end date, or NULL while any exposure record is still open
    (no end date): a subject still on study drug has had no last dose yet. Taking the
    open record's start instead would date the last dose to the first and put every later
    visit in follow-up (SDTMIG 3.4 DM: RFXENDTC is the end of the last exposure, so it
    stays empty while exposure goes on).
    """
    still_on_drug = func.count() > func.count(Exposure.end_date)
    return (
        select(
            Exposure.subject_id,
            func.min(Exposure.start_date).label("first_dose"),
            case((still_on_drug, None), else_=func.max(Exposure.end_date)).label("last_dose"),
        )
        .where(Exposure.deleted_at.is_(None))
        .group_by(Exposure.subject_id)
    )
