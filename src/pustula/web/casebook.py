"""Pages for each step of a record's life (:mod:`pustula.web.actions`): a form and its save.

A failed save shows the form again with every error next to its field and what was typed
kept; nothing is saved. A record of another subject, or a removed one, is not found.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.errors import ConflictError, DataValidationError, LockedError, PustulaError
from pustula.store.monitoring.on_save import run_answering
from pustula.web.actions import ACTIONS, Action, Context, not_now
from pustula.web.deps import (
    authorize,
    get_store,
    principal_of,
    scoped_protocol,
    scoped_timeline,
)
from pustula.web.fields import Field, FormValues, error_messages, form_values, parse_fields
from pustula.web.render import form_status, render

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)


def _context(request: Request, action: Action, record_id: int | None) -> Context:
    timeline = scoped_timeline(request)
    if timeline.subject.status not in action.states:
        raise HTTPException(status_code=409, detail=not_now(action, timeline.subject.status))
    record = None
    if action.records is not None:
        rows = getattr(timeline, action.records)
        record = next((r for r in rows if r.id == record_id), None)
        if record is None:
            raise HTTPException(status_code=404, detail="No such record for this subject.")
    return Context(
        store=get_store(request), user=principal_of(request).username, timeline=timeline,
        protocol=scoped_protocol(request), record=record,
    )  # fmt: skip


def _fields(action: Action, ctx: Context) -> tuple[Field, ...]:
    extra = action.options(ctx) if action.options else {}
    return tuple(
        Field(f.name, f.label, f.kind, extra[f.name], f.required, f.hint) if f.name in extra else f
        for f in action.fields
    )


def _page(
    request: Request, action: Action, ctx: Context, values: FormValues, errors: dict[str, str]
) -> Response:
    fields = _fields(action, ctx)
    status = form_status(ctx.timeline, errors, 400 if errors else 200)
    return render(
        request, "action.html", status_code=status, action=action, t=ctx.timeline,
        fields=fields, by_name={f.name: f for f in fields}, values=values, errors=errors,
        subject=ctx.timeline.subject, record=ctx.record, protocol=ctx.protocol,
        target=str(request.url.path) + (f"?query={query}" if (query := _query(request)) else ""),
        answers=query,
    )  # fmt: skip


def _query(request: Request) -> int | None:
    """The data query this change answers (``?query=ID`` on the form), if any."""
    text = request.query_params.get("query", "")
    return int(text) if text.isdigit() else None


def _register(action: Action) -> None:
    path = f"/subjects/{{code}}/{action.path}"

    def form_page(request: Request, code: str, record_id: int | None = None) -> Response:
        ctx = _context(request, action, record_id)
        values: dict[str, Any] = action.prefill(ctx.record) if action.prefill else {}
        return _page(request, action, ctx, values, {})

    async def save(request: Request, code: str, record_id: int | None = None) -> Response:
        ctx = _context(request, action, record_id)
        fields = _fields(action, ctx)
        values = form_values(await request.form(), fields)
        data, errors = parse_fields(fields, values)
        if errors and action.problems is not None and (crossed := action.problems(ctx, data)):
            # the cross-field rules too, on what parsed: every error in one answer
            found = error_messages(
                DataValidationError("", errors=crossed), [f.name for f in fields]
            )
            errors = {**found, **errors}
        if not errors:
            try:
                await run_in_threadpool(run_answering, _query(request), action.run, ctx, data)
            except ConflictError as exc:
                errors = {"_form": exc.message}
            except LockedError as exc:
                errors = {"_locked": exc.message}
            except PustulaError as exc:
                errors = error_messages(exc, [f.name for f in fields])
        if errors:
            return _page(request, action, ctx, values, errors)
        return RedirectResponse(f"/subjects/{code}?saved={action.name}", status_code=303)

    router.add_api_route(path, form_page, methods=["GET"], name=f"{action.name}_form",
                         response_class=HTMLResponse)  # fmt: skip
    router.add_api_route(path, save, methods=["POST"], name=f"{action.name}_save",
                         response_class=HTMLResponse)  # fmt: skip


for _action in ACTIONS:
    _register(_action)
