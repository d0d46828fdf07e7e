"""Commands for the next study's design and for pooling published results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from pustula.cli._common import handles_errors
from pustula.errors import DataValidationError

design_app = typer.Typer(
    help="Design the next study: Simon two-stage, single-stage exact, two-arm, and Bayesian "
    "predictive monitoring.",
    no_args_is_help=True,
)

P0 = Annotated[float, typer.Option("--p0", help="Response rate of no interest (H0).")]
P1 = Annotated[float, typer.Option("--p1", help="Response rate worth pursuing (H1).")]
Alpha = Annotated[float, typer.Option(help="Type I error (one-sided for single-arm designs).")]
Power = Annotated[float, typer.Option(help="Power, 1 − β.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ProtocolOut = Annotated[
    Path | None,
    typer.Option("--protocol", help="Also write a runnable protocol (YAML) from this design, "
                 "for `pustula study add`."),
]  # fmt: skip


def _write_protocol(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")
        typer.echo(f"protocol written to {path}: check its visits, criteria and labels, then "
                   f"`pustula study add {path} --site CODE=Name`", err=True)  # fmt: skip


def _print(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    typer.echo(json.dumps(data, indent=2) if as_json else "\n".join(lines))


def _design_text(name: str, d: Any) -> str:
    return (f"{name:<10} stage 1: stop if ≤ {d.r1}/{d.n1}; not promising if ≤ {d.r}/{d.n}; "
            f"EN0 {d.en0:.2f}, PET0 {d.pet0:.3f}, α {d.alpha:.4f}, "
            f"power {d.power:.4f}")  # fmt: skip


@design_app.command("simon")
@handles_errors
def design_simon(
    p0: P0, p1: P1, alpha: Alpha = 0.05, power: Power = 0.8,
    nmax: Annotated[int, typer.Option(help="Largest total sample size searched.")] = 100,
    as_json: Json = False,
    protocol: ProtocolOut = None,
    choose: Annotated[
        str, typer.Option(help="With --protocol: the optimal or the minimax design.")
    ] = "optimal",
) -> None:  # fmt: skip
    """Simon's optimal and minimax two-stage designs, and the admissible ones between them,
    by exact binomial search (Simon 1989; Jung et al. 2004)."""
    from pustula.design import simon_designs
    from pustula.design.protocol import simon_protocol

    if choose not in ("optimal", "minimax"):
        raise DataValidationError("--choose must be optimal or minimax", field="choose")
    result = simon_designs(p0, p1, alpha, power, nmax=nmax)
    chosen = result.optimal if choose == "optimal" else result.minimax
    if protocol is not None:
        _write_protocol(protocol, simon_protocol(chosen, p0=p0, p1=p1, alpha=alpha, power=power,
                                                 which=choose))  # fmt: skip
    data = {
        "optimal": result.optimal.as_dict(), "minimax": result.minimax.as_dict(),
        "admissible": [d.as_dict() | {"q_from": lo, "q_to": hi}
                       for d, lo, hi in result.admissible],
    }  # fmt: skip
    lines = [_design_text("optimal", result.optimal), _design_text("minimax", result.minimax)]
    lines += [_design_text(f"q {lo:.2f}-{hi:.2f}", d) for d, lo, hi in result.admissible]
    _print(data, as_json, lines)


@design_app.command("single")
@handles_errors
def design_single(p0: P0, p1: P1, alpha: Alpha = 0.05, power: Power = 0.8,
                  as_json: Json = False) -> None:  # fmt: skip
    """The smallest single-stage exact binomial design (A'Hern 2001)."""
    from pustula.design.single import single_stage

    d = single_stage(p0, p1, alpha, power)
    _print(d.as_dict(), as_json, [f"n = {d.n}: the drug is promising with ≥ {d.r} responses "
                                  f"(α {d.alpha:.4f}, power {d.power:.4f})"])  # fmt: skip


@design_app.command("two-arm")
@handles_errors
def design_two_arm(
    p1: Annotated[float, typer.Option("--p1", help="Response rate, experimental arm.")],
    p2: Annotated[float, typer.Option("--p2", help="Response rate, control arm.")],
    alpha: Annotated[float, typer.Option(help="Two-sided type I error.")] = 0.05,
    power: Power = 0.8,
    as_json: Json = False,
    protocol: ProtocolOut = None,
    dropout: Annotated[
        float, typer.Option(help="With --protocol: the share of subjects expected to drop out.")
    ] = 0.1,
) -> None:
    """Patients per arm to compare two proportions (normal approximation with Fleiss'
    continuity correction), with the exact power of Fisher's test at that size."""
    from pustula.design.protocol import two_arm_protocol
    from pustula.design.two_arm import two_arm_size

    if not 0 <= dropout < 0.9:
        raise DataValidationError("--dropout must be from 0 to 0.9", field="dropout")
    s = two_arm_size(p1, p2, alpha, power)
    if protocol is not None:
        _write_protocol(protocol, two_arm_protocol(s, p1=p1, p2=p2, alpha=alpha, power=power,
                                                   dropout=dropout))  # fmt: skip
    _print(s.as_dict(), as_json, [
        f"{s.n_per_arm} per arm ({s.n_uncorrected} without continuity correction); "
        f"power {s.power_normal:.3f} (normal), "
        f"{s.power_fisher:.3f} (Fisher's exact test)"])  # fmt: skip


@design_app.command("predictive")
@handles_errors
def design_predictive(
    a: Annotated[float, typer.Option("--a", help="Beta prior a.")],
    b: Annotated[float, typer.Option("--b", help="Beta prior b.")],
    responses: Annotated[int, typer.Option(help="Responses so far.")],
    n: Annotated[int, typer.Option("--n", help="Patients so far.")],
    nmax: Annotated[int, typer.Option(help="Maximum number of patients.")],
    p0: P0,
    theta_t: Annotated[float, typer.Option("--theta-t", help="Posterior threshold for success.")],
    theta_l: Annotated[
        float | None,
        typer.Option(
            "--theta-l",
            help="Stop for futility below this predictive probability: "
            "prints the stopping boundaries.",
        ),
    ] = None,
    p1: Annotated[
        float | None, typer.Option("--p1", help="With --theta-l: the rate to simulate power at.")
    ] = None,
    first: Annotated[int, typer.Option(help="With --theta-l: the first look.")] = 10,
    every: Annotated[int, typer.Option(help="With --theta-l: patients between looks.")] = 5,
    runs: Annotated[int, typer.Option(help="Simulated trials per rate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 20261129,
    as_json: Json = False,
    protocol: ProtocolOut = None,
) -> None:
    """Predictive probability that the trial ends in success (Lee & Liu 2008), with the
    posterior probability that the response rate exceeds p0; with --theta-l, the stopping
    boundaries and the operating characteristics by seeded simulation."""
    from pustula.design.bayes import (
        operating_characteristics,
        predictive_probability,
        stopping_boundaries,
    )
    from pustula.design.protocol import bayesian_protocol

    r = predictive_probability(a, b, responses, n, nmax, p0, theta_t)
    if protocol is not None:
        _write_protocol(protocol, bayesian_protocol(a=a, b=b, nmax=nmax, p0=p0, theta_t=theta_t,
                                                    theta_l=theta_l))  # fmt: skip
    data: dict[str, Any] = r.as_dict()
    lines = [f"predictive probability of success {r.predictive_probability:.4f}; "
             f"P(rate > {p0}) now {r.posterior_prob_above_p0:.4f}; posterior Beta("
             f"{r.posterior_a:g}, {r.posterior_b:g})"]  # fmt: skip
    if theta_l is not None:
        rows = stopping_boundaries(a, b, nmax, p0, theta_t, theta_l, first=first, every=every)
        data["boundaries"] = [{"n": row.n, "stop_if_at_most": row.stop_if_at_most} for row in rows]
        lines += ["stop for futility with at most (responders of patients):",
                  *(f"  {row.stop_if_at_most if row.stop_if_at_most is not None else '—'} of "
                    f"{row.n}" for row in rows)]  # fmt: skip
        rates = [p0] + ([p1] if p1 is not None else [])
        data["operating_characteristics"] = []
        for rate in rates:
            oc = operating_characteristics(rows, rate, nmax, p0, a, b, theta_t, runs=runs,
                                           seed=seed)  # fmt: skip
            data["operating_characteristics"].append(oc.__dict__)
            lines.append(f"true rate {rate}: declared a success in {oc.reject_p0:.3f}, stopped "
                         f"early in {oc.early_stop:.3f}, mean N {oc.mean_n:.1f} "
                         f"({runs} trials, seed {seed})")  # fmt: skip
    _print(data, as_json, lines)


def meta(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="CSV: study, events, n (and events_c, n_c).")
    ] = None,
    measure: Annotated[
        str, typer.Option(help="PLO, PFT or GLMM (proportions); RR, OR or RD (two arms).")
    ] = "PLO",
    tau2: Annotated[
        str,
        typer.Option(
            "--tau2",
            help="DL, REML, PM, ML; FE (inverse variance) or MH "
            "(Mantel-Haenszel, two arms) for a fixed effect.",
        ),
    ] = "REML",
    hk: Annotated[bool, typer.Option("--hk", help="Hartung–Knapp adjustment.")] = False,
    published: Annotated[
        bool, typer.Option("--published", help="Pool the shipped published PPP results.")
    ] = False,
    index: Annotated[str | None, typer.Option(help="With --published: PPPASI, ppPASI, …")] = None,
    cutoff: Annotated[float | None, typer.Option(help="With --published: 50, 75, …")] = None,
    weeks: Annotated[str | None, typer.Option(help="With --published: a window, 12-16.")] = None,
    design: Annotated[
        list[str] | None,
        typer.Option(help="With --published: rct, single_arm, case_series, retrospective."),
    ] = None,
    mixed: Annotated[
        bool, typer.Option("--mixed", help="Pool different endpoints or designs together.")
    ] = False,
    completers: Annotated[
        bool,
        typer.Option(
            "--completers",
            help="With --published: pool studies' completer "
            "denominators instead of randomised ones (sensitivity analysis).",
        ),
    ] = False,
    add: Annotated[
        Path | None, typer.Option(help="With --published: your own rows (CSV, same columns).")
    ] = None,
    with_study: Annotated[
        bool,
        typer.Option(
            "--with-study",
            help="With --published: add this study's PPPASI "
            "endpoints (from the database) to the rows selected.",
        ),
    ] = False,
    by: Annotated[
        str | None, typer.Option(help="Subgroups by this column (drug_class, design, region…).")
    ] = None,
    leave_one_out: Annotated[
        bool, typer.Option("--leave-one-out", help="Refit with each study left out.")
    ] = False,
    egger: Annotated[
        bool, typer.Option("--egger", help="Egger's test (needs at least 10 studies).")
    ] = False,
    as_json: Json = False,
) -> None:
    """Pool studies from a CSV, or the shipped published PPP results (--published):
    random-effects meta-analysis with τ², I², Q and a prediction interval, on the measure's
    scale (proportions back-transformed, ratios exponentiated)."""
    from pustula.errors import DataValidationError

    if published == (file is not None):
        raise DataValidationError("give either a FILE or --published")
    if published:
        own = _own_rows(ctx, add, with_study)
        result, table, extra_json, extra_lines = _published(
            measure, tau2, hk, index, cutoff, weeks, design, mixed, own, completers
        )
    else:
        assert file is not None
        result, table = _from_file(file, measure, tau2, hk)
        extra_json, extra_lines = {}, []
    more_json, more_lines = _extras(table, measure.upper(), tau2.upper(), hk, by,
                                    leave_one_out, egger)  # fmt: skip
    extra_json |= more_json
    extra_lines += more_lines
    _print(result.summary() | extra_json, as_json, [
        f"{result.measure} ({result.method}{', Hartung-Knapp' if hk else ''}), k = {result.k}: "
        f"{result.estimate:.4f} (95% CI {result.ci_low:.4f} to {result.ci_high:.4f}; "
        f"prediction interval {result.pi_low:.4f} to {result.pi_high:.4f})",
        f"τ² {result.tau2:.4f}, I² {result.i2:.1f}%, {result.heterogeneity_text}; "
        f"{result.note}", *extra_lines])  # fmt: skip


def _from_file(file: Path, measure: str, tau2: str, hk: bool) -> tuple[Any, Any]:
    import pandas as pd

    from pustula.errors import DataValidationError
    from pustula.evidence import escalc, rma

    table = pd.read_csv(file)
    measure, tau2 = measure.upper(), tau2.upper()
    need = ["study", "events", "n"] + (["events_c", "n_c"] if measure in ("RR", "OR", "RD")
                                       else [])  # fmt: skip
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise DataValidationError(f"{file.name}: missing column(s) {', '.join(missing)}")

    def column(name: str) -> list[float] | None:
        return table[name].astype(float).tolist() if name in table.columns else None

    labels = list(table["study"].astype(str))
    if measure == "GLMM":
        from pustula.evidence.glmm import glmm_proportions

        fit = glmm_proportions(column("events") or [], column("n") or [], labels=labels)
        return fit, table
    if tau2 == "MH":
        from pustula.evidence.meta import mantel_haenszel_result

        if measure not in ("RR", "OR", "RD"):
            raise DataValidationError("Mantel-Haenszel pools two arms: use RR, OR or RD")
        fit = mantel_haenszel_result(measure, column("events") or [], column("n") or [],  # type: ignore[arg-type]
                                     column("events_c") or [], column("n_c") or [],
                                     labels=labels)  # fmt: skip
        return fit, table
    effects = escalc(measure, column("events") or [], column("n") or [],  # type: ignore[arg-type]
                     column("events_c"), column("n_c"))  # fmt: skip
    return rma(effects, tau2, hk=hk, labels=labels), table  # type: ignore[arg-type]


def _own_rows(ctx: typer.Context, add: Path | None, with_study: bool) -> Any:
    """The user's rows: a CSV, this study's endpoints, or both."""
    import pandas as pd

    parts = [pd.read_csv(add)] if add else []
    if with_study:
        from pustula.analysis import build_analysis
        from pustula.analysis.endpoints import compute_endpoints
        from pustula.cli._common import open_store
        from pustula.report.evidence import study_as_rows
        from pustula.store.transfer.extract import read_study

        analysis = build_analysis(read_study(open_store(ctx)))
        parts.append(study_as_rows(analysis, compute_endpoints(analysis)))
    return pd.concat(parts, ignore_index=True) if parts else None


def _published(measure: str, tau2: str, hk: bool, index: str | None, cutoff: float | None,
               weeks: str | None, design: list[str] | None, mixed: bool,
               own: Any, completers: bool = False) -> Any:  # fmt: skip
    from pustula.errors import DataValidationError
    from pustula.evidence.published import load_published, pool_published, select

    window = None
    if weeks:
        try:
            low, _, high = weeks.partition("-")
            window = (float(low), float(high or low))
        except ValueError:
            raise DataValidationError(f"--weeks: `{weeks}` is not a window such as 12-16") from None
    rows = select(
        load_published(own),
        index=index,
        cutoff=cutoff,
        weeks=window,
        designs=design,
        completers=completers,
    )
    pooled = pool_published(rows, measure=measure.upper(), method=tau2.upper(),  # type: ignore[arg-type]
                            hk=hk, allow_mixed=mixed)  # fmt: skip
    excluded = [f"left out {row}: {why}" for row, why in pooled.excluded]
    data = {"pooled": pooled.description, "studies": list(pooled.result.labels),
            "excluded": [{"row": r, "why": w} for r, w in pooled.excluded]}  # fmt: skip
    table = pooled.included.rename(columns={"responders": "events"}).assign(
        study=list(pooled.result.labels)
    )
    return pooled.result, table, data, [f"pooled: {pooled.description}", *excluded]


def _extras(table: Any, measure: str, tau2: str, hk: bool, by: str | None, loo: bool,
            egger: bool) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """Subgroups, leave-one-out and Egger's test of the studies pooled. The GLMM's extras
    use the logit model, which it says."""
    from pustula.errors import DataValidationError
    from pustula.evidence import escalc, leave_one_out, subgroups
    from pustula.evidence.meta import egger_test

    if not (by or loo or egger):
        return {}, []
    scale = "PLO" if measure == "GLMM" else measure
    method = "REML" if measure == "GLMM" else tau2
    effects = escalc(scale, table["events"].astype(float).tolist(),  # type: ignore[arg-type]
                     table["n"].astype(float).tolist(),
                     table["events_c"].astype(float).tolist() if "events_c" in table else None,
                     table["n_c"].astype(float).tolist() if "n_c" in table else None)  # fmt: skip
    labels = list(table["study"].astype(str))
    data: dict[str, Any] = {}
    lines: list[str] = []
    if measure == "GLMM":
        lines.append("subgroups, leave-one-out and Egger use the logit model (REML)")
    if by:
        if by not in table.columns:
            raise DataValidationError(f"--by: there is no column `{by}`")
        groups = subgroups(effects, table[by].astype(str).tolist(), method, hk=hk)  # type: ignore[arg-type]
        data["subgroups"] = {g: r.summary() for g, r in groups.groups.items()} | {
            "q_between": groups.q_between, "df": groups.df, "p_value": groups.p_value}  # fmt: skip
        lines += [f"  {g}: {r.estimate:.4f} ({r.ci_low:.4f} to {r.ci_high:.4f}), k = {r.k}"
                  for g, r in groups.groups.items()]  # fmt: skip
        lines.append(f"subgroup difference: Q = {groups.q_between:.3f} on {groups.df} df, "
                     f"p = {groups.p_value:.4g}")  # fmt: skip
    if loo:
        rows = leave_one_out(effects, method, hk=hk, labels=labels)  # type: ignore[arg-type]
        data["leave_one_out"] = [{"left_out": name} | r.summary() for name, r in rows]
        lines += [f"  without {name}: {r.estimate:.4f} ({r.ci_low:.4f} to {r.ci_high:.4f}), "
                  f"I² {r.i2:.1f}%" for name, r in rows]  # fmt: skip
    if egger:
        test = egger_test(effects)
        data["egger"] = {"intercept": test.intercept, "se": test.se, "t": test.t,
                         "df": test.df, "p_value": test.p_value, "caveat": test.caveat}  # fmt: skip
        lines.append(f"Egger: intercept {test.intercept:.3f} (t = {test.t:.3f}, {test.df} df, "
                     f"p = {test.p_value:.4g}); {test.caveat}")  # fmt: skip
    return data, lines


def register(app: typer.Typer) -> None:
    app.add_typer(design_app, name="design")
    app.command("meta")(handles_errors(meta))
