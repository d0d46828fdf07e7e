"""Helpers shared by the CLI commands."""

from __future__ import annotations

import functools
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
import yaml

from pustula.errors import ConfigurationError, DataValidationError, PustulaError
from pustula.settings import get_settings
from pustula.store import Store

__all__ = [
    "cli_user",
    "echo_json",
    "fail_on_pustula_error",
    "handles_errors",
    "open_store",
    "read_data",
]

P = ParamSpec("P")
T = TypeVar("T")


def fail_on_pustula_error(exc: PustulaError) -> int:
    """Print one line naming the error code and message; return the exit status."""
    message = " ".join(str(exc).split())
    typer.echo(f"error [{exc.code}]: {message}", err=True)
    return 1


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def handles_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn a PustulaError raised by a command into one line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except PustulaError as exc:
            raise typer.Exit(fail_on_pustula_error(exc)) from None

    return wrapper


def read_data(value: str) -> Any:
    """``--data`` accepts inline JSON (starting with ``{`` or ``[``) or a JSON/YAML file."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"--data is not valid JSON: {exc.msg} at {exc.pos}") from exc
    path = Path(value)
    if not path.is_file():
        raise DataValidationError(f"--data: {value} is neither JSON nor an existing file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataValidationError(f"--data: {path} is not valid JSON or YAML: {exc}") from exc


def cli_user(ctx: typer.Context) -> str:
    """Who to record in the audit trail: --user, PUSTULA_USER, or the login name."""
    user = ctx.obj.get("user") if ctx.obj else None
    return user or get_settings().user or getpass.getuser()


def open_store(ctx: typer.Context, *, migrate: bool = False) -> Store:
    url = (ctx.obj or {}).get("database") or get_settings().database_url
    store = Store.open(url)
    if migrate:
        store.create_schema()
    else:
        _require_current_schema(store)
    return store


def _require_current_schema(store: Store) -> None:
    from pustula.store.migrate import current_revision, head_revision

    current = current_revision(store.engine)
    if current != head_revision():
        state = "not initialised" if current is None else f"at revision {current}"
        raise ConfigurationError(f"the database {store.url} is {state}; run `pustula init` first")
