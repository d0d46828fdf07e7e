"""Interim decisions: what a design's interim look showed and decided, kept in the audit
trail like every record (the numbers are computed by the caller from the data, never
typed in)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError
from pustula.store.db.models import InterimDecision, Study
from pustula.store.db.uow import Transaction

__all__ = ["interim_decisions", "record_interim_decision"]

DECISIONS = ("continue", "stop for futility")


def record_interim_decision(
    tx: Transaction, study: Study, *, look: str, evaluable: int, responders: int,
    statistic: float | None, decision: str, reason: str, comment: str,
) -> InterimDecision:  # fmt: skip
    """Record one look's decision; a look the data have not decided yet is refused."""
    if decision not in DECISIONS:
        raise DataValidationError(
            f"the {look} is not decided yet ({reason}); nothing was recorded", field="decision"
        )
    row = InterimDecision(
        study_id=study.id, look=look, evaluable=evaluable, responders=responders,
        statistic=statistic, decision=decision, reason=reason, comment=comment.strip(),
        decided_by=str(tx.session.info["user"]), decided_at=str(tx.session.info["at"]),
    )  # fmt: skip
    tx.session.add(row)
    tx.flush()
    return row


def interim_decisions(session: Session, study: Study) -> list[dict[str, Any]]:
    """Every recorded interim decision of the study, oldest first."""
    rows = session.scalars(select(InterimDecision).where(
        InterimDecision.study_id == study.id, InterimDecision.deleted_at.is_(None))
        .order_by(InterimDecision.id))  # fmt: skip
    return [
        {"look": r.look, "evaluable": r.evaluable, "responders": r.responders,
         "statistic": r.statistic, "decision": r.decision, "reason": r.reason,
         "comment": r.comment, "by": r.decided_by, "at": r.decided_at}
        for r in rows
    ]  # fmt: skip
