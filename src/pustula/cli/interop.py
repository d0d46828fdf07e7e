"""Commands that exchange data with the field's tools: REDCap."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pustula.cli._common import StudyOpt, handles_errors, open_store

redcap_app = typer.Typer(help="REDCap: data dictionary and events.", no_args_is_help=True)


@redcap_app.command("dictionary")
@handles_errors
def redcap_dictionary(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The dictionary CSV to write.")],
    study: StudyOpt = None,
) -> None:
    """Write the study's REDCap data dictionary (18 columns, calc fields for the scores),
    with its events and instrument-event mapping beside it (…_events.csv, …_mapping.csv)."""
    import csv

    from pustula.interop.redcap import data_dictionary, events, instrument_events, to_csv
    from pustula.store import get_study
    from pustula.store.study import protocol_of

    with open_store(ctx).reader() as session:
        protocol = protocol_of(get_study(session, study))
    rows = data_dictionary(protocol)
    output.write_text(to_csv(rows), encoding="utf-8")
    written = [output]
    for suffix, table in (("events", events(protocol)), ("mapping", instrument_events(protocol))):
        path = output.with_name(f"{output.stem}_{suffix}.csv")
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        written.append(path)
    typer.echo(f"{len(rows)} fields in {len({r.form for r in rows})} forms: "
               + ", ".join(str(p) for p in written))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(redcap_app, name="redcap")
