"""Commands for the next study's design and for pooling published results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from pustula.cli._common import handles_errors

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
) -> None:  # fmt: skip
    """Simon's optimal and minimax two-stage designs, and the admissible ones between them,
    by exact binomial search (Simon 1989; Jung et al. 2004)."""
    from pustula.design import simon_designs

    result = simon_designs(p0, p1, alpha, power, nmax=nmax)
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
) -> None:
    """Patients per arm to compare two proportions (normal approximation with Fleiss'
    continuity correction), with the exact power of Fisher's test at that size."""
    from pustula.design.two_arm import two_arm_size

    s = two_arm_size(p1, p2, alpha, power)
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
    as_json: Json = False,
) -> None:
    """Predictive probability that the trial ends in success (Lee & Liu 2008), with the
    posterior probability that the response rate exceeds p0."""
    from pustula.design.bayes import predictive_probability

    r = predictive_probability(a, b, responses, n, nmax, p0, theta_t)
    _print(r.as_dict(), as_json, [
        f"predictive probability of success {r.predictive_probability:.4f}; "
        f"P(rate > {p0}) now {r.posterior_prob_above_p0:.4f}; posterior Beta("
        f"{r.posterior_a:g}, {r.posterior_b:g})"])  # fmt: skip


def meta(
    file: Annotated[
        Path | None, typer.Argument(help="CSV: study, events, n (and events_c, n_c).")
    ] = None,
    measure: Annotated[
        str, typer.Option(help="PLO, PFT or GLMM (proportions); RR, OR or RD (two arms).")
    ] = "PLO",
    tau2: Annotated[str, typer.Option("--tau2", help="DL, REML, PM, ML or FE.")] = "REML",
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
    as_json: Json = False,
) -> None:
    """Pool studies from a CSV, or the shipped published PPP results (--published):
    random-effects meta-analysis with τ², I², Q and a prediction interval, on the measure's
    scale (proportions back-transformed, ratios exponentiated)."""
    from pustula.errors import DataValidationError

    if published == (file is not None):
        raise DataValidationError("give either a FILE or --published")
    if published:
        result, extra_json, extra_lines = _published(measure, tau2, hk, index, cutoff, weeks,
                                                     design, mixed)  # fmt: skip
    else:
        assert file is not None
        result, extra_json, extra_lines = _from_file(file, measure, tau2, hk), {}, []
    _print(result.summary() | extra_json, as_json, [
        f"{result.measure} ({result.method}{', Hartung-Knapp' if hk else ''}), k = {result.k}: "
        f"{result.estimate:.4f} (95% CI {result.ci_low:.4f} to {result.ci_high:.4f}; "
        f"prediction interval {result.pi_low:.4f} to {result.pi_high:.4f})",
        f"τ² {result.tau2:.4f}, I² {result.i2:.1f}%, Q {result.q:.3f} (p {result.q_p:.4g}); "
        f"{result.note}", *extra_lines])  # fmt: skip


def _from_file(file: Path, measure: str, tau2: str, hk: bool) -> Any:
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

        return glmm_proportions(column("events") or [], column("n") or [], labels=labels)
    effects = escalc(measure, column("events") or [], column("n") or [],  # type: ignore[arg-type]
                     column("events_c"), column("n_c"))  # fmt: skip
    return rma(effects, tau2, hk=hk, labels=labels)  # type: ignore[arg-type]


def _published(measure: str, tau2: str, hk: bool, index: str | None, cutoff: float | None,
               weeks: str | None, design: list[str] | None, mixed: bool) -> Any:  # fmt: skip
    from pustula.errors import DataValidationError
    from pustula.evidence.published import load_published, pool_published, select

    window = None
    if weeks:
        try:
            low, _, high = weeks.partition("-")
            window = (float(low), float(high or low))
        except ValueError:
            raise DataValidationError(f"--weeks: `{weeks}` is not a window such as 12-16") from None
    rows = select(load_published(), index=index, cutoff=cutoff, weeks=window, designs=design)
    pooled = pool_published(rows, measure=measure.upper(), method=tau2.upper(),  # type: ignore[arg-type]
                            hk=hk, allow_mixed=mixed)  # fmt: skip
    excluded = [f"left out {row}: {why}" for row, why in pooled.excluded]
    data = {"pooled": pooled.description, "studies": list(pooled.result.labels),
            "excluded": [{"row": r, "why": w} for r, w in pooled.excluded]}  # fmt: skip
    return pooled.result, data, [f"pooled: {pooled.description}", *excluded]


def register(app: typer.Typer) -> None:
    app.add_typer(design_app, name="design")
    app.command("meta")(handles_errors(meta))
