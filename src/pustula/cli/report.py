"""``pustula report`` and ``pustula endpoints``: analysis settings are options, never guesses.

An option left out keeps the protocol's analysis plan; one given overrides it, validated by
:class:`pustula.analysis.settings.AnalysisSettings` (a misspelt value is an error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pustula.cli._common import StudyOpt, echo_json, handles_errors, open_store, progress_bar
from pustula.errors import DataValidationError

__all__ = ["register"]

OperatorOpt = Annotated[
    str | None, typer.Option("--operator", help="Responder cut-off: '>=' or '>'.")
]
ImputationOpt = Annotated[
    str | None, typer.Option(help="Missing data: OC, LOCF, LOCF_BASELINE or NRI.")
]
CIOpt = Annotated[str | None, typer.Option("--ci", help="clopper-pearson, wilson or jeffreys.")]
AlphaOpt = Annotated[float | None, typer.Option(help="Two-sided alpha (0.05 gives 95% CIs).")]
PgaMinOpt = Annotated[
    int | None, typer.Option(help="PGA 0/1 only in subjects with baseline PGA >= this.")
]
PgaImproveOpt = Annotated[
    int | None, typer.Option(help="PGA 0/1 also needs this many grades of improvement.")
]
BaselineZeroOpt = Annotated[
    str | None,
    typer.Option(help="A baseline PPPASI of 0: not_evaluable or non_responder."),
]
WindowsOpt = Annotated[
    str | None,
    typer.Option(help="nominal (analyse at the nominal visit, flagged) or protocol (leave "
                      "out-of-window values out)."),
]  # fmt: skip
RoundingOpt = Annotated[str | None, typer.Option(help="Table rounding: half_up or half_even.")]


def _overrides(**options: Any) -> dict[str, Any]:
    names = {"ci": "ci_method", "pga_min": "pga_baseline_min", "pga_improve": "pga_min_improvement"}
    return {names.get(k, k): v for k, v in options.items() if v is not None}


@handles_errors
def report(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="report.html, report.pdf or report.docx")
    ],
    study: StudyOpt = None,
    operator: OperatorOpt = None,
    imputation: ImputationOpt = None,
    ci: CIOpt = None,
    alpha: AlphaOpt = None,
    pga_baseline_min: PgaMinOpt = None,
    pga_min_improvement: PgaImproveOpt = None,
    baseline_zero: BaselineZeroOpt = None,
    visit_windows: WindowsOpt = None,
    rounding: RoundingOpt = None,
    figures: Annotated[
        Path | None,
        typer.Option(help="Also write each figure to this folder (vector PDF, SVG, 300-dpi PNG)."),
    ] = None,
) -> None:
    """Write the study report as HTML, PDF or Word (by the output's suffix)."""
    from pustula.report import write_report
    from pustula.report.write import SUFFIXES

    if output.suffix.lower() not in SUFFIXES:
        raise DataValidationError(
            f"-o must end in .html, .pdf or .docx; got `{output.name}`", field="output"
        )
    if not output.parent.is_dir():
        raise DataValidationError(
            f"the folder `{output.parent}` does not exist; create it first", field="output"
        )
    overrides = _overrides(
        operator=operator, imputation=imputation, ci=ci, alpha=alpha,
        pga_min=pga_baseline_min, pga_improve=pga_min_improvement,
        baseline_zero=baseline_zero, visit_windows=visit_windows, rounding=rounding,
    )  # fmt: skip
    with progress_bar("writing the report", 3) as step:
        path = write_report(
            open_store(ctx), output, study=study, settings=overrides, figures_dir=figures,
            progress=step,
        )  # fmt: skip
    typer.echo(f"report written to {path}")


@handles_errors
def endpoints(
    ctx: typer.Context,
    study: StudyOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the default and only format).")
    ] = True,
    operator: OperatorOpt = None,
    imputation: ImputationOpt = None,
    ci: CIOpt = None,
    alpha: AlphaOpt = None,
    pga_baseline_min: PgaMinOpt = None,
    pga_min_improvement: PgaImproveOpt = None,
    baseline_zero: BaselineZeroOpt = None,
    visit_windows: WindowsOpt = None,
) -> None:
    """Print the protocol's endpoints: responders, N, rate and CI, as JSON."""
    from pustula.analysis.datasets import build_analysis
    from pustula.analysis.endpoints import compute_endpoints
    from pustula.analysis.settings import AnalysisSettings
    from pustula.store.transfer.extract import read_study

    data = read_study(open_store(ctx), study)
    overrides = _overrides(
        operator=operator, imputation=imputation, ci=ci, alpha=alpha,
        pga_min=pga_baseline_min, pga_improve=pga_min_improvement,
        baseline_zero=baseline_zero, visit_windows=visit_windows,
    )  # fmt: skip
    settings = AnalysisSettings.from_protocol(data.protocol, **overrides)
    results = compute_endpoints(build_analysis(data, settings))
    echo_json(
        {
            "study": data.code,
            "synthetic": data.synthetic,
            "settings": settings.model_dump(mode="json"),
            "endpoints": [r.to_dict() for r in results],
        }
    )


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("endpoints")(endpoints)
