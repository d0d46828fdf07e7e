"""``pustula randomization`` and ``pustula subject randomize``: a randomized trial's list and
its randomizations from the command line (for the unblinded statistician and for scripts).

The command line reads the database directly, as its operator can: ``randomization list``
prints arms, and is for the unblinded statistician only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pustula.cli._common import cli_user, echo_json, handles_errors, open_store
from pustula.errors import DataValidationError

__all__ = ["register"]

randomization_app = typer.Typer(
    help="A randomized trial's allocation list (unblinded statistician).", no_args_is_help=True
)


@randomization_app.command("generate")
@handles_errors
def generate(
    ctx: typer.Context,
    seed: Annotated[
        str | None,
        typer.Option(help="At least 32 hexadecimal characters; a new random seed if left out."),
    ] = None,
) -> None:
    """Generate the allocation list once, from a seed (kept concealed in the database)."""
    from pustula.store.services.trial import generate_allocation

    summary = generate_allocation(open_store(ctx), cli_user(ctx), seed=seed)
    typer.echo(f"allocation list generated: {summary.slots} slots ({summary.method}); "
               f"SHA-256 {summary.list_sha256}")  # fmt: skip


@randomization_app.command("verify")
@handles_errors
def verify(ctx: typer.Context) -> None:
    """Reproduce the list from its seed and compare it slot by slot (an auditor's check)."""
    from pustula.store.services.trial import verify_allocation

    problems = verify_allocation(open_store(ctx))
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("the allocation list is the one its seed gives, slot for slot")


@randomization_app.command("list")
@handles_errors
def list_(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
) -> None:
    """Write the list with arms and subjects to a CSV file (unblinded)."""
    import csv

    from pustula.store.services.trial import allocation_list_with_arms

    rows = allocation_list_with_arms(open_store(ctx))
    names = ["stratum", "position", "block", "block_size", "arm", "kit", "subject",
             "randomized_on"]  # fmt: skip
    with output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    typer.echo(f"wrote {len(rows)} slots to {output} (UNBLINDED: keep it from blinded staff)")


def randomize(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Subject code.")],
    stratum: Annotated[
        list[str], typer.Option(help="A confirmed factor as factor=level; repeat for each.")
    ],
    on: Annotated[str | None, typer.Option(help="Date of randomization (YYYY-MM-DD).")] = None,
) -> None:
    """Randomize an enrolled subject with the confirmed strata; prints the kit (no arm)."""
    from pustula.store.services.trial import randomize_subject

    confirmed = {}
    for item in stratum:
        factor, sep, level = item.partition("=")
        if not sep:
            raise DataValidationError(f"--stratum must look like factor=level; got `{item}`",
                                      field="stratum")  # fmt: skip
        confirmed[factor.strip()] = level.strip()
    try:
        when = date.fromisoformat(on) if on else None
    except ValueError:
        raise DataValidationError("--on: enter the date as YYYY-MM-DD", field="on") from None
    done = randomize_subject(open_store(ctx), cli_user(ctx), code, confirmed=confirmed, on=when)
    echo_json({"subject": done.subject, "randomized_on": done.randomized_on.isoformat(),
               "kit": done.kit, "stratum": done.stratum})  # fmt: skip


def deviation(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Subject code.")],
    kind: Annotated[str, typer.Option(help="The kind of deviation (see --help for the list).")],
    description: Annotated[str, typer.Option(help="What happened.")],
    on: Annotated[str, typer.Option(help="Date of the deviation (YYYY-MM-DD).")],
) -> None:
    """Record a protocol deviation; prints the subject's deviations.

    Kinds: randomization stratum, eligibility, wrong treatment, treatment compliance,
    prohibited medication, visit out of window, other.
    """
    from pustula.store.services.trial import record_subject_deviation

    try:
        when = date.fromisoformat(on)
    except ValueError:
        raise DataValidationError("--on: enter the date as YYYY-MM-DD", field="on") from None
    try:
        rows = record_subject_deviation(open_store(ctx), cli_user(ctx), code, category=kind,
                                        description=description, on=when)  # fmt: skip
    except DataValidationError as error:  # name the options the user typed, not the fields
        options = {"category": "--kind", "description": "--description", "occurred_on": "--on"}
        errors = {options.get(f, f): text for f, text in error.errors.items()}
        first = next(iter(errors), None)
        raise DataValidationError(str(error), field=first, errors=errors) from None
    echo_json([{**r, "occurred_on": r["occurred_on"].isoformat()} for r in rows])


trial_app = typer.Typer(help="A randomized trial's analysis by arm.", no_args_is_help=True)

_POPULATIONS = {"itt": "ITTFL", "mitt": "MITTFL", "pp": "PPROTFL"}


@trial_app.command("analyse")
@handles_errors
def analyse(
    ctx: typer.Context,
    unblinded: Annotated[
        bool,
        typer.Option(
            "--unblinded",
            help="Confirm that you may see the arms (unblinded "
            "statistician, DMC); a blinded trial is not analysed by arm without it.",
        ),
    ] = False,
    population: Annotated[str, typer.Option(help="itt, mitt or pp.")] = "itt",
) -> None:
    """Compare the arms: each endpoint's rates, difference, ratio, odds ratio and tests."""
    from pustula.analysis import analyse_trial, build_analysis
    from pustula.store.transfer.extract import read_study

    flag = _POPULATIONS.get(population.lower())
    if flag is None:
        raise DataValidationError("--population: choose itt, mitt or pp", field="population")
    data = read_study(open_store(ctx), arms=unblinded)
    trial = analyse_trial(build_analysis(data), population=flag)  # type: ignore[arg-type]
    typer.echo(f"{trial.population}: {trial.population_definition}; {trial.missing_rule}")
    typer.echo(f"{trial.treated[1]} vs {trial.control[1]}; testing: {trial.multiplicity}")
    for b in trial.binary:
        c = b.comparison
        d = c.risk_difference
        typer.echo(
            f"{b.label} [{b.role}{', confirmatory' if b.confirmatory else ''}]: "
            f"{c.treated.x}/{c.treated.n} vs {c.control.x}/{c.control.n}; "
            f"difference {100 * (d.estimate or 0):.1f} points "
            f"(95% CI {100 * d.low:.1f} to {100 * d.high:.1f}); {b.test} "
            + ("p < 0.0001" if b.test_p < 0.0001 else f"p = {b.test_p:.4f}")
        )
    if data.synthetic:
        typer.echo("note: SYNTHETIC demo data, not patient data")


@trial_app.command("interim")
@handles_errors
def interim(ctx: typer.Context) -> None:
    """The design's interim look from the data so far (Simon's stage 1, or the predictive
    probability of success), with the decision its rule gives."""
    from pustula.analysis import build_analysis
    from pustula.report.interim import bayesian_look, simon_look
    from pustula.store.transfer.extract import read_study

    data = read_study(open_store(ctx))
    design = data.protocol.design
    if design is None or design.method not in ("simon_two_stage", "bayesian_predictive"):
        typer.echo("this study's design plans no interim look on the primary endpoint")
        return
    analysis = build_analysis(data)
    look = simon_look(analysis) if design.method == "simon_two_stage" else (
        bayesian_look(analysis))  # fmt: skip
    typer.echo(f"{look.decision}: {look.reason}")


@trial_app.command("dmc-report")
@handles_errors
def dmc(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="The PDF to write.")],
    closed: Annotated[
        bool, typer.Option("--closed", help="By arm, for the DMC only (reads the arms).")
    ] = False,
) -> None:
    """Write the data monitoring committee's report: open (arms pooled) or closed (by arm)."""
    from pustula.analysis import build_analysis
    from pustula.report.dmc import dmc_report, render_dmc_pdf
    from pustula.store.transfer.extract import read_study

    data = read_study(open_store(ctx), arms=closed)
    output.write_bytes(render_dmc_pdf(dmc_report(build_analysis(data), closed=closed)))
    typer.echo(f"wrote {output} ({'CLOSED: by arm, for the DMC only' if closed else 'open'})")


def register(app: typer.Typer, subject_app: typer.Typer) -> None:
    app.add_typer(randomization_app, name="randomization")
    app.add_typer(trial_app, name="trial")
    subject_app.command("randomize")(handles_errors(randomize))
    subject_app.command("deviation")(handles_errors(deviation))
