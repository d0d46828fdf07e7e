"""The evidence and design page: the next study's calculators and the forest plot of
published PPP results, by stratum. Read-only: every tool answers a GET form, so a result
can be bookmarked and nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from pustula.errors import PustulaError
from pustula.web.deps import authorize
from pustula.web.fields import Field, error_messages, parse_fields
from pustula.web.render import render

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

_RATE = "a proportion between 0 and 1, for example 0.25"
_P0 = Field("p0", "Response rate of no interest (p0)", "number", required=True, hint=_RATE)
_P1 = Field("p1", "Response rate worth pursuing (p1)", "number", required=True, hint=_RATE)
_ALPHA = Field("alpha", "Type I error (one-sided α)", "number", required=True,
               hint="usually 0.05 or 0.10")  # fmt: skip
_POWER = Field("power", "Power (1 − β)", "number", required=True, hint="usually 0.80 or 0.90")
_DESIGNS = (("rct", "Randomised trial arms"), ("single_arm", "Single-arm trials"),
            ("case_series", "Case series"), ("retrospective", "Retrospective cohorts"))  # fmt: skip

TOOLS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "simon": ("Simon two-stage design", (_P0, _P1, _ALPHA, _POWER)),
    "single": ("Single-stage exact design (A'Hern)", (_P0, _P1, _ALPHA, _POWER)),
    "two-arm": ("Two arms: patients per arm", (
        Field("p1", "Response rate, new treatment", "number", required=True, hint=_RATE),
        Field("p2", "Response rate, control", "number", required=True, hint=_RATE),
        Field("alpha", "Type I error (two-sided α)", "number", required=True,
              hint="usually 0.05"),
        _POWER,
    )),
    "predictive": ("Predictive probability of success (Lee & Liu)", (
        Field("a", "Prior Beta a", "number", required=True, hint="1 and 1 is a uniform prior"),
        Field("b", "Prior Beta b", "number", required=True),
        Field("responses", "Responders so far", "whole", required=True),
        Field("n", "Patients so far", "whole", required=True),
        Field("nmax", "Maximum number of patients", "whole", required=True),
        _P0,
        Field("theta_t", "Posterior threshold for success (θT)", "number", required=True,
              hint="success if P(rate > p0) exceeds it at the end, for example 0.90"),
        Field("theta_l", "Futility threshold (θL), for a table of stopping boundaries",
              "number", hint="stop when the predictive probability falls below it, for "
              "example 0.05; leave empty for no table"),
        Field("p1", "Rate to simulate power at (p1)", "number", hint=_RATE),
    )),
    "published": ("Published PPP results: forest plot", (
        Field("index", "Index", "select", required=True, options=(
            ("PPPASI", "PPPASI"), ("ppPASI", "ppPASI (palmoplantar pustular psoriasis ASI)"),
            ("PPP ASI", "PPP ASI (spesolimab trials)"), ("PPP PGA", "PPP PGA"))),
        Field("cutoff", "Cut-off", "select", required=True, options=(
            ("50", "50% reduction"), ("75", "75% reduction"), ("80", "80% reduction"),
            ("90", "90% reduction"), ("1", "PGA 0 or 1"))),
        Field("week_from", "From week", "whole", required=True),
        Field("week_to", "To week", "whole", required=True),
        Field("designs", "Designs", "checkboxes", required=True, options=_DESIGNS),
        Field("measure", "Model", "select", required=True, options=(
            ("PLO", "Logit, random effects (REML)"), ("PFT", "Freeman–Tukey, random effects "
             "(REML)"), ("GLMM", "Binomial–normal model (ML)"))),
        Field("mixed", "Pool different endpoints or designs together", "yes_no",
              hint="answer no unless you mean to mix strata"),
        Field("by", "Subgroups by", "select", options=(
            ("drug_class", "Drug class"), ("design", "Design"), ("region", "Region"))),
    )),
}  # fmt: skip


def _simon(d: dict[str, Any]) -> dict[str, Any]:
    from pustula.design import simon_designs

    result = simon_designs(d["p0"], d["p1"], d["alpha"], d["power"])
    return {"simon": result}


def _single(d: dict[str, Any]) -> dict[str, Any]:
    from pustula.design.single import single_stage

    return {"single": single_stage(d["p0"], d["p1"], d["alpha"], d["power"])}


def _two_arm(d: dict[str, Any]) -> dict[str, Any]:
    from pustula.design.two_arm import two_arm_size

    return {"two_arm": two_arm_size(d["p1"], d["p2"], d["alpha"], d["power"])}


def _predictive(d: dict[str, Any]) -> dict[str, Any]:
    from pustula.design.bayes import (
        operating_characteristics,
        predictive_probability,
        stopping_boundaries,
    )

    out: dict[str, Any] = {"predictive": predictive_probability(
        d["a"], d["b"], d["responses"], d["n"], d["nmax"], d["p0"], d["theta_t"])}  # fmt: skip
    if "theta_l" in d:
        rows = stopping_boundaries(d["a"], d["b"], d["nmax"], d["p0"], d["theta_t"],
                                   d["theta_l"], first=1, every=1)  # fmt: skip
        out["boundaries"] = rows
        rates = [d["p0"]] + ([d["p1"]] if "p1" in d else [])
        out["oc"] = [operating_characteristics(rows, rate, d["nmax"], d["p0"], d["a"], d["b"],
                                               d["theta_t"]) for rate in rates]  # fmt: skip
    return out


def _published(d: dict[str, Any]) -> dict[str, Any]:
    from pustula.analysis.plots import render_figure
    from pustula.evidence.plots import forest_plot, proportion_rows
    from pustula.evidence.published import load_published, pool_published, select

    rows = select(load_published(), index=d["index"], cutoff=float(d["cutoff"]),
                  weeks=(d["week_from"], d["week_to"]), designs=d["designs"])  # fmt: skip
    pooled = pool_published(rows, measure=d["measure"], allow_mixed=d.get("mixed", False))
    used = pooled.included
    labels = list(pooled.result.labels)
    figure = render_figure(
        forest_plot(proportion_rows(used["responders"].tolist(), used["n"].tolist(), labels),
                    pooled.result, xlabel="Proportion of responders"),
        "forest", "Published results", "",
    )  # fmt: skip

    out: dict[str, Any] = {"pooled": pooled, "forest": _svg(figure.svg)}
    out |= _diagnostics(used, labels, d.get("by"))
    return out


def _svg(text: str) -> Markup:
    return Markup(text[text.index("<svg") :])


def _diagnostics(used: Any, labels: list[str], by: str | None) -> dict[str, Any]:
    """Leave-one-out always; subgroups when asked; funnel plot and Egger's test from 10
    studies on (logit scale, REML)."""
    from pustula.analysis.plots import render_figure
    from pustula.evidence import escalc, leave_one_out, rma, subgroups
    from pustula.evidence.meta import egger_test
    from pustula.evidence.plots import funnel_plot

    effects = escalc("PLO", used["responders"].tolist(), used["n"].tolist())
    out: dict[str, Any] = {"loo": leave_one_out(effects, "REML", labels=labels)}
    if by:
        out["subgroups"] = subgroups(effects, used[by].astype(str).tolist(), "REML")
    if len(used) >= 10:
        funnel = funnel_plot(effects, rma(effects, "REML"), xlabel="Logit proportion")
        out["funnel"] = _svg(render_figure(funnel, "funnel", "Funnel", "").svg)
        out["egger"] = egger_test(effects)
    return out


_RUN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "simon": _simon, "single": _single, "two-arm": _two_arm, "predictive": _predictive,
    "published": _published,
}  # fmt: skip


@router.get("/evidence", name="evidence", response_class=HTMLResponse)
def evidence(request: Request) -> Response:
    params = request.query_params
    tool = params.get("tool", "")
    values: dict[str, Any] = {k: params.getlist(k) if k == "designs" else v
                              for k, v in params.items()}  # fmt: skip
    result: dict[str, Any] = {}
    errors: dict[str, str] = {}
    fields: tuple[Field, ...] = TOOLS[tool][1] if tool in TOOLS else ()
    if tool in TOOLS:
        data, errors = parse_fields(fields, values)
        if not errors:
            try:
                result = _RUN[tool](data)
            except PustulaError as exc:
                errors = error_messages(exc, [f.name for f in fields])
    status = 400 if errors else 200
    return render(request, "evidence.html", tools=TOOLS, tool=tool, values=values,
                  errors=errors, result=result, status_code=status,
                  fields_by_name={f.name: f for f in fields})  # fmt: skip
