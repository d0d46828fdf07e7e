"""The ``pustula`` command line: thin Typer commands over the packages below it.

Every command turns a :class:`~pustula.errors.PustulaError` into one line on standard error
and exit status 1, so scripts can rely on the status and people can read the reason.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pustula.cli import data as data_commands
from pustula.cli import evidence as evidence_commands
from pustula.cli import interop as interop_commands
from pustula.cli import report as report_commands
from pustula.cli import score as score_commands
from pustula.cli import serve as serve_commands
from pustula.cli import study as study_commands
from pustula.cli import trial as trial_commands
from pustula.cli._common import fail_on_pustula_error, fail_on_unexpected
from pustula.errors import PustulaError

__all__ = ["app", "main"]

app = typer.Typer(
    name="pustula",
    help="Pustula: run and analyse treatment studies in palmoplantar pustulosis (PPP).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(help="Database URL (default: PUSTULA_DATABASE_URL or ./pustula.sqlite3)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Who to record in the audit trail (default: login name).")
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(help="The study to work in, by id (default: the only study)."),
    ] = None,
) -> None:
    ctx.obj = {"database": database, "user": user, "study": study}


score_commands.register(app)
data_commands.register(app)
study_commands.register(app)
report_commands.register(app)
serve_commands.register(app)
interop_commands.register(app)
evidence_commands.register(app)
trial_commands.register(app, study_commands.subject_app)


def main() -> None:
    """Entry point of the ``pustula`` script: whatever happens, one line, never a traceback."""
    try:
        app()
    except PustulaError as exc:  # each command handles its own; this is the last net
        sys.exit(fail_on_pustula_error(exc))
    except Exception as exc:  # the top-level handler: never a traceback
        sys.exit(fail_on_unexpected(exc))
