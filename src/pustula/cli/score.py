"""``pustula instruments`` and ``pustula score``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pustula.cli._common import echo_json, fail_on_pustula_error, fail_on_unexpected
from pustula.errors import BulkScoringError, PustulaError, RowError, ScoringInputError

if TYPE_CHECKING:  # NumPy, pandas and the scorers load when a command scores something
    import pandas as pd

    from pustula.scoring.instrument import Instrument, OnError

__all__ = ["register", "score_file"]

#: Files with more rows than this are scored in chunks of this size with a progress bar.
PROGRESS_ROWS = 100_000


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise ScoringInputError(f"input file {path} does not exist", field="input")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise ScoringInputError(
            f"input file {path} is not UTF-8 text; save it as CSV UTF-8", field="input"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise ScoringInputError(
            f"input file {path} is empty; it needs a header row and one row per assessment",
            field="input",
        ) from exc
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise ScoringInputError(
            f"input file {path} cannot be read as {kind} ({type(exc).__name__})", field="input"
        ) from exc
    raise ScoringInputError(
        f"input file {path} must end in .csv or .parquet; got {suffix or 'no suffix'}",
        field="input",
    )


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from pustula.checks.spreadsheet import inert_frame  # importing checks loads numpy

        inert_frame(frame).to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        raise ScoringInputError(
            f"output file {path} must end in .csv or .parquet; got {suffix or 'no suffix'}",
            field="output",
        )


def score_file(
    instrument: Instrument, frame: pd.DataFrame, *, errors: OnError, progress: bool
) -> pd.DataFrame:
    """Score a whole table; return it with ``{instrument}_*`` score columns appended.

    In ``raise`` mode every row is checked before anything is returned, so a file with
    one bad row produces no output at all.
    """
    import numpy as np
    import pandas as pd
    from rich.progress import Progress

    from pustula.scoring.instrument import column_array

    names = instrument.required_columns([str(c) for c in frame.columns])
    n_rows = len(frame)
    chunk = PROGRESS_ROWS if n_rows > PROGRESS_ROWS else max(n_rows, 1)
    parts: list[pd.DataFrame] = []
    row_errors: list[RowError] = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"scoring {instrument.name}", total=n_rows)
        for start in range(0, max(n_rows, 1), chunk):
            piece = frame.iloc[start : start + chunk]
            arrays = {n: column_array(piece, n) for n in names}
            result = instrument.score_arrays(arrays, errors="collect")
            row_errors += [replace(e, row=e.row + start) for e in result.errors]
            parts.append(result.to_pandas())
            bar.advance(task, len(piece))
    if row_errors and errors == "raise":
        raise BulkScoringError(row_errors, n_rows=n_rows)
    scores = pd.concat(parts, ignore_index=True) if n_rows else parts[0].iloc[:0]
    scores.columns = [f"{instrument.name}_{c}" for c in scores.columns]
    if errors == "collect":
        reasons = np.full(n_rows, None, dtype=object)
        for e in row_errors:
            text = f"{e.column}: {e.reason}"
            reasons[e.row - 1] = (
                text if reasons[e.row - 1] is None else f"{reasons[e.row - 1]}; {text}"
            )
        scores[f"{instrument.name}_error"] = reasons
    return pd.concat([frame.reset_index(drop=True), scores], axis=1)


def _instruments() -> None:
    """List the registered scoring instruments."""
    from pustula.scoring import list_instruments

    for inst in list_instruments():
        low, high = inst.total_range
        typer.echo(f"{inst.name:<14} {inst.title} (v{inst.version}, {low:g}-{high:g})")
        typer.echo(f"{'':<14} {inst.reference}")


def _score(
    instrument: Annotated[str, typer.Argument(help="Instrument name; see `pustula instruments`.")],
    input_file: Annotated[
        Path | None, typer.Argument(help="CSV or Parquet file, one assessment per row.")
    ] = None,
    json_input: Annotated[
        str | None, typer.Option("--json", help="One assessment as a JSON object.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write scores (.csv/.parquet).")
    ] = None,
    errors: Annotated[
        str, typer.Option(help="'raise': one bad row fails the file; 'collect': per-row errors.")
    ] = "raise",
) -> None:
    """Score one assessment (--json) or a whole file (INPUT -o OUTPUT)."""
    from pustula.scoring import get_instrument

    try:
        inst = get_instrument(instrument)
        if (input_file is None) == (json_input is None):
            raise ScoringInputError("give either INPUT_FILE or --json, not both and not neither")
        if json_input is not None:
            echo_json(inst.score(_parse_json(json_input)).to_dict())
            return
        assert input_file is not None
        if output is None:
            raise ScoringInputError("scoring a file needs --output/-o OUTPUT.csv or .parquet")
        if errors not in ("raise", "collect"):
            raise ScoringInputError(f"--errors must be 'raise' or 'collect'; got {errors!r}")
        frame = _read_table(input_file)
        scored = score_file(inst, frame, errors=errors, progress=len(frame) > PROGRESS_ROWS)  # type: ignore[arg-type]
        _write_table(scored, output)
        failed = int(scored[f"{inst.name}_error"].notna().sum()) if errors == "collect" else 0
        done = (
            f"scored {len(scored) - failed} of {len(scored)} rows"
            if failed
            else (f"scored {len(scored)} rows")
        )
        tail = f"; {failed} rows have errors (column {inst.name}_error)" if failed else ""
        typer.echo(f"{done} with {inst.name} v{inst.version} -> {output}{tail}")
    except PustulaError as exc:
        raise typer.Exit(fail_on_pustula_error(exc)) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # no traceback reaches the user
        raise typer.Exit(fail_on_unexpected(exc)) from None


def _parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScoringInputError(
            f"--json is not valid JSON: {exc.msg} at position {exc.pos}"
        ) from exc
    if not isinstance(data, dict):
        raise ScoringInputError(f"--json must be a JSON object; got {type(data).__name__}")
    return data


def register(app: typer.Typer) -> None:
    app.command("instruments")(_instruments)
    app.command("score")(_score)
