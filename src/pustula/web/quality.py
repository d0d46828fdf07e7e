"""Data quality rules in the web app: a monitor or administrator defines a rule over one
form, runs it over the sites they see, and opens a query on each discrepancy."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.checks.rules import FUNCTIONS
from pustula.errors import LockedError, PustulaError
from pustula.store.services import quality
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.fields import Field, error_messages, form_values
from pustula.web.history import shown
from pustula.web.render import render

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

FIELDS = (
    Field("name", "Rule name", required=True, hint="For example: Serious but grade 1"),
    Field("form", "Form", "select", tuple((k, v[1]) for k, v in quality.FORMS.items()),
          required=True),
    Field("condition", "Condition that marks a discrepancy", "textarea", required=True,
          hint="For example: serious == yes and grade < 2. Fields by name; text in quotes; "
               "and, or, not; == != < <= > >=; in ['a', 'b']; "
               f"functions {', '.join(f + '()' for f in FUNCTIONS)}."),
    Field("message", "Query text", "textarea", required=True,
          hint="What the site is asked when a query is opened on a discrepancy."),
)  # fmt: skip


def _page(request: Request, values: dict[str, str], errors: dict[str, str]) -> Response:
    rules = quality.quality_rules(get_store(request))
    fields_of = {form: quality.form_fields(form) for form in quality.FORMS}
    return render(request, "quality.html", status_code=400 if errors else 200, rules=rules,
                  fields=FIELDS, by_name={f.name: f for f in FIELDS}, values=values,
                  errors=errors, fields_of=fields_of, forms=quality.FORMS)  # fmt: skip


@router.get("/quality", name="quality_rules", response_class=HTMLResponse)
def quality_page(request: Request) -> Response:
    return _page(request, {}, {})


@router.post("/quality", name="quality_define", response_class=HTMLResponse)
async def quality_define(request: Request) -> Response:
    raw = form_values(await request.form(), FIELDS)
    values = {k: str(v) for k, v in raw.items()}
    try:
        rule = await run_in_threadpool(
            lambda: quality.define_rule(
                get_store(request), principal_of(request).username, name=values.get("name", ""),
                form=values.get("form", ""), condition=values.get("condition", ""),
                message=values.get("message", ""),
            )
        )  # fmt: skip
    except PustulaError as exc:
        return _page(request, values, error_messages(exc, [f.name for f in FIELDS]))
    return RedirectResponse(f"/quality/{rule.id}", status_code=303)


@router.get("/quality/{rule_id}", name="quality_run", response_class=HTMLResponse)
def quality_run(request: Request, rule_id: int) -> Response:
    try:
        rule, found = quality.run_rule(
            get_store(request), rule_id, sites=principal_of(request).site_filter
        )
    except PustulaError:
        raise HTTPException(status_code=404, detail="No such data quality rule.") from None
    return render(request, "quality_run.html", rule=rule, found=found,
                  heading=quality.FORMS[rule.form][1], shown=shown,
                  waiting=sum(d.query_id is None for d in found))  # fmt: skip


@router.post("/quality/{rule_id}/queries", name="quality_queries", response_class=HTMLResponse)
async def quality_queries(request: Request, rule_id: int) -> Response:
    principal = principal_of(request)
    try:
        opened = await run_in_threadpool(
            quality.open_queries, get_store(request), principal.username, rule_id,
            sites=principal.site_filter,
        )  # fmt: skip
    except LockedError:
        raise  # a button, not a form: nothing typed to keep; the lock's own page (423)
    except PustulaError:
        raise HTTPException(status_code=404, detail="No such data quality rule.") from None
    return RedirectResponse(f"/quality/{rule_id}?opened={opened}", status_code=303)
