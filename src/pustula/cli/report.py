"""``pustula report`` and ``pustula endpoints``: analysis settings are options, never guesses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pustula.cli._common import echo_json, handles_errors, open_store
from pustula.errors import DataValidationError

__all__ = ["register"]

StudyOpt = Annotated[str | None, typer.Option("--study", help="Study id (default: the only one).")]
OperatorOpt = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Responder cut-off '>=' or '>' (default: '>=' in tables, "
        "each endpoint's own from the protocol).",
    ),
]
ImputationOpt = Annotated[str, typer.Option(help="Missing data: OC (default), LOCF or NRI.")]
CIOpt = Annotated[str, typer.Option("--ci", help="clopper-pearson (default), wilson or jeffreys.")]
PgaMinOpt = Annotated[
    int | None, typer.Option(help="PGA 0/1 only in subjects with baseline PGA >= this.")
]
PgaImproveOpt = Annotated[
    int | None, typer.Option(help="PGA 0/1 also needs this many grades of improvement.")
]


def _settings(
    operator: str | None, imputation: str, ci: str, pga_min: int | None, pga_improve: int | None
) -> Any:
    from pustula.analysis.datasets import AnalysisSettings

    choices = {
        "operator": (operator or ">=", (">=", ">")),
        "imputation": (imputation.upper(), ("OC", "LOCF", "NRI")),
        "ci": (ci.lower(), ("clopper-pearson", "wilson", "jeffreys")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise DataValidationError(
                f"--{name} must be one of {', '.join(allowed)}; got `{value}`", field=name
            )
    return AnalysisSettings(
        operator=operator or ">=",  # type: ignore[arg-type]
        endpoint_operator=operator,  # type: ignore[arg-type]
        imputation=imputation.upper(),  # type: ignore[arg-type]
        ci_method=ci.lower(),  # type: ignore[arg-type]  # checked against the choices above
        pga_baseline_min=pga_min,
        pga_min_improvement=pga_improve,
    )


@handles_errors
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="report.html or report.pdf")],
    study: StudyOpt = None,
    operator: OperatorOpt = None,
    imputation: ImputationOpt = "OC",
    ci: CIOpt = "clopper-pearson",
    pga_baseline_min: PgaMinOpt = None,
    pga_min_improvement: PgaImproveOpt = None,
) -> None:
    """Write the study report as HTML or PDF (by the output's suffix)."""
    from pustula.report import write_report

    settings = _settings(operator, imputation, ci, pga_baseline_min, pga_min_improvement)
    if output.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise DataValidationError(
            f"-o must end in .html or .pdf; got `{output.name}`", field="output"
        )
    path = write_report(open_store(ctx), output, study=study, settings=settings)
    typer.echo(f"report written to {path}")


@handles_errors
def endpoints(
    ctx: typer.Context,
    study: StudyOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the default and only format).")
    ] = True,
    operator: OperatorOpt = None,
    imputation: ImputationOpt = "OC",
    ci: CIOpt = "clopper-pearson",
    pga_baseline_min: PgaMinOpt = None,
    pga_min_improvement: PgaImproveOpt = None,
) -> None:
    """Print the protocol's endpoints: responders, N, rate and CI, as JSON."""
    from pustula.analysis.datasets import build_analysis
    from pustula.analysis.endpoints import compute_endpoints
    from pustula.store.extract import read_study

    settings = _settings(operator, imputation, ci, pga_baseline_min, pga_min_improvement)
    data = read_study(open_store(ctx), study)
    results = compute_endpoints(build_analysis(data, settings))
    echo_json(
        {
            "study": data.code,
            "synthetic": data.synthetic,
            "endpoints": [r.to_dict() for r in results],
        }
    )


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("endpoints")(endpoints)
