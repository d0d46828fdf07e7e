"""Commands for CDISC: SDTM and ADaM packages with Define-XML, their check, and ODM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pustula.cli._common import cli_user, handles_errors, open_store, progress_bar

cdisc_app = typer.Typer(
    help="CDISC: SDTM and ADaM as SAS XPT v5 with Define-XML 2.1, and a conformance check.",
    no_args_is_help=True,
)
odm_app = typer.Typer(help="CDISC ODM 1.3.2: metadata and clinical data.", no_args_is_help=True)


def _package(ctx: typer.Context, standard: str, directory: Path, steps: int) -> list[Path]:
    from pustula.interop.cdisc import cdisc_package
    from pustula.store.transfer.extract import read_study

    store = open_store(ctx)
    with progress_bar(standard.upper(), steps) as step:
        step("reading the study")
        return cdisc_package(store, read_study(store), standard, directory, progress=step)


def _written(paths: list[Path], directory: Path) -> None:
    datasets = [p.stem.upper() for p in paths if p.suffix == ".xpt"]
    typer.echo(f"{len(datasets)} datasets ({', '.join(datasets)}) and define.xml written to "
               f"{directory}")  # fmt: skip
    if any(p.name == "SYNTHETIC-DATA.txt" for p in paths):
        typer.echo("note: SYNTHETIC demo data, not patient data (see SYNTHETIC-DATA.txt)")


@cdisc_app.command("sdtm")
@handles_errors
def cdisc_sdtm(ctx: typer.Context, directory: Path) -> None:
    """Write the study as SDTM (SDTMIG 3.4): DM, DS, SV, EX, CM, MH, AE, LB, QS, SUPPDM,
    SUPPAE, SUPPCM, TS, TA, TE, TV, TI as XPT v5, with define.xml checked against the
    Define-XML 2.1 schema."""
    _written(_package(ctx, "sdtm", directory, 19), directory)


@cdisc_app.command("adam")
@handles_errors
def cdisc_adam(ctx: typer.Context, directory: Path) -> None:
    """Write ADSL and ADQS as XPT v5, each ADQS record traced to its SDTM QS record (SRCDOM,
    SRCVAR, SRCSEQ), with define.xml checked against the Define-XML 2.1 schema."""
    _written(_package(ctx, "adam", directory, 4), directory)


@cdisc_app.command("check")
@handles_errors
def cdisc_check(directory: Path) -> None:
    """Check a folder of SDTM or ADaM XPT files and its define.xml; exit 0 only when clean.
    Each finding names dataset, row and variable."""
    from pustula.interop.cdisc_check import check_folder

    findings = check_folder(directory)
    for finding in findings:
        typer.echo(str(finding))
    if findings:
        typer.echo(f"{len(findings)} findings in {directory}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{directory}: no findings")


@odm_app.command("export")
@handles_errors
def odm_export(ctx: typer.Context, file: Path) -> None:
    """Write the study's ODM 1.3.2 (forms, fields, codelists, events and every subject's
    data), checked against the ODM 1.3.2 schema."""
    from pustula.interop.odm import export_odm
    from pustula.store.services.clinical import casebooks, study_protocol

    store = open_store(ctx)
    books = casebooks(store)
    export_odm(books, study_protocol(store), file)
    typer.echo(f"{len(books)} subjects written to {file}")


@odm_app.command("import")
@handles_errors
def odm_import(
    ctx: typer.Context,
    file: Path,
    reason: Annotated[str, typer.Option(help="Why the data are imported (audit trail).")],
) -> None:
    """Import an ODM 1.3.2 file written from this study's forms: every subject enrolled and
    every visit scored, all or nothing; an error names subject, event, field and value."""
    from pustula.interop.odm import read_odm
    from pustula.store.audit.sources import ImportSource
    from pustula.store.services.clinical import import_subjects, study_protocol

    store = open_store(ctx)
    protocol = study_protocol(store)
    subjects = read_odm(file, protocol)
    kept = ImportSource(str(file), file.read_bytes(), "odm")
    with progress_bar("Importing", len(subjects)) as step:
        count = import_subjects(
            store, cli_user(ctx), subjects, reason=reason, source=kept, progress=step
        )
    typer.echo(
        f"imported {count} subjects with {sum(len(s.visits) for s in subjects)} visits from {file}"
    )
