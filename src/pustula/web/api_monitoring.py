"""REST API for monitoring: data queries, e-signatures and the database lock.

A write to a locked study answers 423 (Locked), with the reason in words.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from pustula.store.records.views import LockView, SignatureView
from pustula.store.services import monitoring as monitor
from pustula.web.deps import authorize, get_store, principal_of, scoped_subject
from pustula.web.history import record_name
from pustula.web.throughput import reads_whole_record

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)], tags=["v1"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QueryOut(BaseModel):
    id: int
    subject: str
    site: str
    table: str
    record: int
    record_name: str = Field(
        description="The record as the casebook shows it; its number where it has no words",
        examples=["Adverse event: Itchy rash, from 2024-05-02"],
    )
    field: str | None
    kind: str
    rule: str | None
    state: str
    text: str
    opened_at: str
    closed_at: str | None
    age_days: int


class QueryIn(_Body):
    subject: str = Field(min_length=1, max_length=40, examples=["S01"])
    table: str = Field(examples=["assessment"])
    record: int = Field(ge=1, examples=[5])
    field: str | None = Field(default=None, examples=["right_palm_pustules"])
    text: str = Field(min_length=1, max_length=4000, examples=["Source says 2, not 3"])


class Message(_Body):
    text: str = Field(min_length=1, max_length=4000, examples=["Corrected from the source"])


class SignIn(_Body):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    meaning: str = Field(examples=[monitor.MEANINGS[0]])
    visit_id: int | None = None


class SignatureOut(BaseModel):
    id: int
    visit_id: int | None
    signer: str
    signed_at: str
    meaning: str
    data_hash: str
    invalidated_at: str | None
    invalidated_reason: str | None


class LockIn(_Body):
    reason: str = Field(min_length=1, max_length=2000, examples=["Final analysis"])
    subject: str | None = None


class LockOut(BaseModel):
    scope: Literal["study", "subject"]
    subject_id: int | None
    locked_by: str
    locked_at: str
    reason: str
    snapshot_sha256: str


def _query_out(row: monitor.QueryRow) -> QueryOut:
    q = row.query
    return QueryOut(id=q.id, subject=row.subject, site=row.site, table=q.table_name,
                    record=q.record_id,
                    record_name=record_name(q.table_name, q.record_id, row.record_caption),
                    field=q.field, kind=q.kind, rule=q.rule, state=q.state,
                    text=q.text, opened_at=q.opened_at, closed_at=q.closed_at,
                    age_days=row.age_days)  # fmt: skip


@router.get("/queries", name="api_queries")
def queries(
    request: Request, subject: str | None = None, state: str | None = None,
    kind: str | None = None, min_age: int | None = None,
) -> list[QueryOut]:  # fmt: skip
    """Data queries of your sites' subjects, newest first, with filters."""
    rows = monitor.search_queries(
        get_store(request), sites=principal_of(request).site_filter, subject=subject,
        state=state, kind=kind, min_age=min_age, today=date.today(), captioned=True,
    )  # fmt: skip
    return [_query_out(r) for r in rows]


def _visible(request: Request, query_id: int) -> monitor.QueryRow:
    try:
        row, _ = monitor.query_thread(get_store(request), query_id)
    except LookupError:
        raise HTTPException(status_code=404, detail="No such query.") from None
    if not principal_of(request).sees_site(row.site):
        raise HTTPException(status_code=404, detail="No such query.")
    return row


@router.post("/queries", name="api_query_raise", status_code=201)
def query_raise(request: Request, body: QueryIn) -> QueryOut:
    """Raise a query on a field of a subject's record (monitor)."""
    from pustula.store.services.clinical import subject_rows

    sites = principal_of(request).site_filter
    if body.subject not in {r.code for r in subject_rows(get_store(request), sites=sites)}:
        raise HTTPException(status_code=404, detail=f"No subject {body.subject}.")
    query = monitor.raise_query(
        get_store(request), principal_of(request).username, body.subject, table=body.table,
        record_id=body.record, field=body.field, text=body.text,
    )  # fmt: skip
    return _query_out(_visible(request, query.id))


def _step(request: Request, query_id: int, text: str, action: str) -> QueryOut:
    _visible(request, query_id)
    monitor.query_step(get_store(request), principal_of(request).username, query_id, action, text)
    return _query_out(_visible(request, query_id))


@router.post("/queries/{query_id}/answer", name="api_query_answer")
def query_answer(request: Request, query_id: int, body: Message) -> QueryOut:
    """The site's answer without changing the value. To answer with a correction, send the
    record's change with ``answers_query`` set to this query's id."""
    return _step(request, query_id, body.text, "answer")


@router.post("/queries/{query_id}/close", name="api_query_close")
def query_close(request: Request, query_id: int, body: Message) -> QueryOut:
    """Close a query (monitor)."""
    return _step(request, query_id, body.text, "close")


@router.post("/queries/{query_id}/reopen", name="api_query_reopen")
def query_reopen(request: Request, query_id: int, body: Message) -> QueryOut:
    """Re-open a closed query (monitor)."""
    return _step(request, query_id, body.text, "reopen")


def _signature(s: SignatureView) -> SignatureOut:
    return SignatureOut(**{k: getattr(s, k) for k in SignatureOut.model_fields})


@router.get("/subjects/{code}/signatures", name="api_signatures")
@reads_whole_record
async def signatures(request: Request, code: str) -> list[SignatureOut]:
    """The subject's signatures, valid and invalidated."""
    return [_signature(s) for s in monitor.signatures_of(get_store(request), code)]


@router.post("/subjects/{code}/signatures", name="api_sign", status_code=201)
def sign(request: Request, code: str, body: SignIn) -> SignatureOut:
    """Sign the casebook (or one visit) with your user name and password (investigator)."""
    scoped_subject(request)
    return _signature(monitor.sign(
        get_store(request), principal_of(request).username, username=body.username,
        password=body.password, code=code, meaning=body.meaning, visit_id=body.visit_id,
    ))  # fmt: skip


def _lock(view: LockView) -> LockOut:
    return LockOut(scope="subject" if view.subject_id else "study", subject_id=view.subject_id,
                   locked_by=view.locked_by, locked_at=view.locked_at, reason=view.lock_reason,
                   snapshot_sha256=view.snapshot_sha256)  # fmt: skip


@router.get("/study/lock", name="api_lock_status")
def lock_status(request: Request) -> list[LockOut]:
    """The locks that hold now (empty: nothing is locked)."""
    return [_lock(v) for v in monitor.lock_status(get_store(request))]


@router.post("/study/lock", name="api_lock", status_code=201)
def lock(request: Request, body: LockIn) -> LockOut:
    """Lock the study, or one subject, for analysis (administrator)."""
    return _lock(monitor.lock(get_store(request), principal_of(request).username,
                              reason=body.reason, subject=body.subject))  # fmt: skip


@router.delete("/study/lock", name="api_unlock")
def unlock(request: Request, body: LockIn) -> LockOut:
    """Lift a lock, with a reason (administrator)."""
    return _lock(monitor.unlock(get_store(request), principal_of(request).username,
                                reason=body.reason, subject=body.subject))  # fmt: skip
