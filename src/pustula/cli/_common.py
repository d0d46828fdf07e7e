"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
from typing import Any

import typer

from pustula.errors import PustulaError

__all__ = ["echo_json", "fail_on_pustula_error"]


def fail_on_pustula_error(exc: PustulaError) -> int:
    """Print one line naming the error code and message; return the exit status."""
    message = " ".join(str(exc).split())
    typer.echo(f"error [{exc.code}]: {message}", err=True)
    return 1


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
