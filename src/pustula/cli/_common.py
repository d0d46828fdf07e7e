"""Helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from pustula.errors import ConfigurationError, DataValidationError, PustulaError

if TYPE_CHECKING:  # the store pulls in SQLAlchemy: imported when a command needs it
    from pustula.store import Store

__all__ = [
    "StudyOpt",
    "cli_user",
    "echo_json",
    "fail_on_pustula_error",
    "fail_on_unexpected",
    "handles_errors",
    "open_store",
    "progress_bar",
    "read_data",
]

P = ParamSpec("P")
log = logging.getLogger(__name__)
T = TypeVar("T")


def fail_on_pustula_error(exc: PustulaError) -> int:
    """Print one line naming the error code and message (every wrong field's, when a
    form had several); return the exit status."""
    message = " ".join(str(exc).split())
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and len(errors) > 1:
        message = "; ".join(f"{field}: {text}" for field, text in errors.items())
    typer.echo(f"error [{exc.code}]: {message}", err=True)
    return 1


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


#: Exit statuses: 1 for an error the command explains, 3 for one it did not expect.
EXIT_ERROR, EXIT_INTERNAL = 1, 3


def fail_on_unexpected(exc: BaseException) -> int:
    """One line for an error no command anticipated; the traceback only on request."""
    if os.environ.get("PUSTULA_DEBUG") == "1":
        raise exc
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        typer.echo(f"error [os_error]: {exc.strerror or type(exc).__name__}{where}", err=True)
        return EXIT_ERROR
    log.debug("unexpected error in a command", exc_info=exc)
    typer.echo(
        f"error [internal]: the command stopped on an unexpected {type(exc).__name__}; what it "
        "had saved before is kept, and a failed save saves nothing. Run it again with "
        "PUSTULA_DEBUG=1 for the details, and report them.",
        err=True,
    )
    return EXIT_INTERNAL


def handles_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn any error raised by a command into one line with its code and exit status:
    a PustulaError (or an operating-system error such as a missing folder) exits 1, an
    unexpected error 3. No traceback reaches the user."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except PustulaError as exc:
            raise typer.Exit(fail_on_pustula_error(exc)) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the one place every other error is caught
            raise typer.Exit(fail_on_unexpected(exc)) from None

    return wrapper


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on standard error for a long command; each call is one step done.

    Drawn only on a terminal, so scripts and logs see just the command's own output.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"))
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(label, total=total, step="")

        def advance(step: str) -> None:
            bar.update(task, advance=1, step=step)

        yield advance


def read_data(value: str) -> Any:
    """``--data`` accepts inline JSON (starting with ``{`` or ``[``) or a JSON/YAML file."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"--data is not valid JSON: {exc.msg} at {exc.pos}") from exc
    import yaml

    path = Path(value)
    if not path.is_file():
        raise DataValidationError(f"--data: {value} is neither JSON nor an existing file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataValidationError(f"--data: {path} is not valid JSON or YAML: {exc}") from exc


def cli_user(ctx: typer.Context, *, default: str | None = None) -> str:
    """Who to record in the audit trail: --user, PUSTULA_USER, else ``default`` or the login
    name (the demo's synthetic records are the demo's, not those of whoever ran it)."""
    from pustula.settings import get_settings

    user = ctx.obj.get("user") if ctx.obj else None
    return user or get_settings().user or default or getpass.getuser()


def open_store(ctx: typer.Context, *, migrate: bool = False) -> Store:
    """The store at --database (or the setting): a bad URL, or a SQLite file that does not
    exist when the command does not create the database, is one line, not a new file."""
    from pustula.settings import get_settings
    from pustula.store import Store

    url = (ctx.obj or {}).get("database") or get_settings().database_url
    store = Store.open(url, must_exist=not migrate)
    if migrate:
        store.create_schema()
    else:
        _require_current_schema(store)
    # --study: every "the study" of the command is that one
    return store.for_study((ctx.obj or {}).get("study"))


def _require_current_schema(store: Store) -> None:
    from pustula.store.db.migrate import current_revision, head_revision

    current = current_revision(store.engine)
    if current != head_revision():
        state = "not initialised" if current is None else f"at revision {current}"
        raise ConfigurationError(f"the database {store.url} is {state}; run `pustula init` first")


#: The --study option of the commands that work on one study.
StudyOpt = Annotated[str | None, typer.Option("--study", help="Study id (default: the only one).")]
