"""Commands that exchange data with the field's tools: REDCap."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pustula.cli._common import StudyOpt, cli_user, handles_errors, open_store, progress_bar

redcap_app = typer.Typer(
    help="REDCap: data dictionary and events, records out and in.", no_args_is_help=True
)


@redcap_app.command("dictionary")
@handles_errors
def redcap_dictionary(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The dictionary CSV to write.")],
    study: StudyOpt = None,
) -> None:
    """Write the study's REDCap data dictionary (18 columns, calc fields for the scores),
    with its events and instrument-event mapping beside it (…_events.csv, …_mapping.csv)."""
    from pustula.interop.redcap import data_dictionary, project_files
    from pustula.store.services.clinical import study_protocol

    protocol = study_protocol(open_store(ctx), study)
    rows = data_dictionary(protocol)
    files = project_files(protocol, rows)
    output.write_text(files["data_dictionary.csv"], encoding="utf-8")
    written = [output]
    for name, suffix in (("events.csv", "events"), ("instrument_events.csv", "mapping")):
        path = output.with_name(f"{output.stem}_{suffix}.csv")
        path.write_text(files[name], encoding="utf-8")
        written.append(path)
    typer.echo(f"{len(rows)} fields in {len({r.form for r in rows})} forms: "
               + ", ".join(str(p) for p in written))  # fmt: skip


@redcap_app.command("export")
@handles_errors
def redcap_export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The records CSV to write.")],
) -> None:
    """Write every casebook as a REDCap longitudinal records export (raw values)."""
    from pustula.interop.redcap_records import export_records
    from pustula.store.services.clinical import casebooks, study_protocol

    store = open_store(ctx)
    protocol = study_protocol(store)
    books = casebooks(store)
    output.write_text(export_records(books, protocol), encoding="utf-8")
    typer.echo(f"{len(books)} records written to {output}")


@redcap_app.command("import")
@handles_errors
def redcap_import(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why the data are imported (audit trail).")],
    file: Annotated[Path | None, typer.Argument(help="A REDCap records export (CSV).")] = None,
    url: Annotated[str | None, typer.Option(help="A REDCap project's API address.")] = None,
    token_env: Annotated[
        str | None, typer.Option(help="The environment variable that holds the API token.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="YAML: `events:` REDCap event → visit code, `fields:` REDCap field → "
            "Pustula field. Not needed for a dictionary made by Pustula."
        ),
    ] = None,
) -> None:
    """Import a REDCap records export (a file, or a project through its API): every subject
    enrolled and every visit scored, all or nothing; an error names the record, event, field
    and value."""
    import os

    import yaml

    from pustula.errors import DataValidationError
    from pustula.interop.redcap_records import fetch_records

    if (file is None) == (url is None):
        raise DataValidationError("give either a FILE or --url with --token-env")
    if url is not None:
        token = os.environ.get(token_env or "")
        if not token:
            raise DataValidationError(
                "--token-env must name an environment variable that holds the API token"
            )
        content, source = fetch_records(url, token).encode("utf-8"), url
    else:
        assert file is not None
        content, source = file.read_bytes(), str(file)

    from pustula.interop.redcap_stream import stream_records
    from pustula.store.audit.sources import ImportSource
    from pustula.store.services.clinical import import_subjects, study_protocol

    store = open_store(ctx)
    protocol = study_protocol(store)
    given = yaml.safe_load(mapping.read_text(encoding="utf-8")) if mapping else None
    kept = ImportSource(source, content, "redcap-records", {"mapping": given} if given else {})
    # read a part at a time: a million rows are never all in memory as objects
    subjects = stream_records(kept.content, protocol, kept.options)
    with progress_bar("Importing", subjects.count) as step:
        count = import_subjects(
            store, cli_user(ctx), subjects, reason=reason, source=kept, progress=step
        )
    visits = subjects.visits
    typer.echo(f"imported {count} subjects with {visits} visits from {source}")


fhir_app = typer.Typer(help="HL7 FHIR (R5): a Bundle per subject.", no_args_is_help=True)


@fhir_app.command("export")
@handles_errors
def fhir_export(
    ctx: typer.Context,
    directory: Path,
    arms: Annotated[
        bool,
        typer.Option(
            "--arms",
            help="A blinded trial's arms as allocated (for the "
            "unblinded statistician); pooled as BLINDED otherwise.",
        ),
    ] = False,
) -> None:
    """Write one FHIR Bundle (JSON) per subject: pseudonymous Patient, ResearchStudy and
    ResearchSubject, Questionnaire(Response)s, score Observations, AdverseEvents and
    MedicationStatements, each validated by fhir.resources."""
    from pustula.interop.fhir import subject_bundle
    from pustula.store.services.clinical import casebooks
    from pustula.store.services.trial import arms_as_seen

    store = open_store(ctx)
    protocol, allocated = arms_as_seen(store, arms=arms)
    directory.mkdir(parents=True, exist_ok=True)
    books = casebooks(store)
    for book in books:
        bundle = subject_bundle(book, protocol, arm=allocated.get(book.subject.code))
        path = directory / f"Bundle-{book.subject.code}.json"
        path.write_text(bundle.model_dump_json(indent=2), encoding="utf-8")
    typer.echo(f"{len(books)} bundles written to {directory}")


def register(app: typer.Typer) -> None:
    from pustula.cli.cdisc import cdisc_app, odm_app

    app.add_typer(cdisc_app, name="cdisc")
    app.add_typer(odm_app, name="odm")
    app.add_typer(redcap_app, name="redcap")
    app.add_typer(fhir_app, name="fhir")
