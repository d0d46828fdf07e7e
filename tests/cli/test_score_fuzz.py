"""`pustula score` on 500 fuzzed files: every one ends in scores or one error line with
its code, never a traceback, and a refused file (errors='raise') writes no output."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pustula.cli import app

INSTRUMENTS = ["pppasi", "pga", "pga_composite", "dlqi", "pain_nrs", "itch_nrs"]
COLUMNS = [
    *(f"{r}_{s}" for r in ("right_palm", "left_palm", "right_sole", "left_sole")
      for s in ("erythema", "pustules", "desquamation", "area_pct", "area_score")),
    "pga", "pga_erythema", "pga_pustules", "pga_scaling", *(f"dlqi_q{i}" for i in range(1, 11)),
    "pain_nrs", "itch_nrs", "subject", "", "unknown",
]  # fmt: skip
VALUES = ["0", "1", "2", "3", "4", "10", "25", "100", "", " ", "-1", "5", "2.5", "nan", "inf",
          "1e400", "true", "yes", "no", "a lot", "very much", "not relevant", "x", "é", "😀",
          '"', '"unclosed', ",", "\x00", "9" * 400]  # fmt: skip
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "utf-16", "garbage", "empty"]

runner = CliRunner()


@st.composite
def score_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    instrument = draw(st.sampled_from(INSTRUMENTS))
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=20))
    rows = draw(
        st.lists(st.lists(st.sampled_from(VALUES), min_size=len(header), max_size=len(header)),
                 max_size=6)
    )  # fmt: skip
    text = "\n".join(",".join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "empty":
        data = b""
    elif encoding == "garbage":
        data = text.encode("utf-8", "replace") + bytes(
            draw(st.lists(st.integers(128, 255), max_size=8))
        )
    else:
        data = text.encode(encoding, "replace")
    return instrument, data, draw(st.sampled_from(["raise", "collect"]))


@settings(max_examples=500, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(case=score_files())
def test_a_fuzzed_file_gets_scores_or_one_error_line(case: tuple[str, bytes, str]) -> None:
    instrument, data, mode = case
    folder = Path(tempfile.mkdtemp(prefix="pustula-score-fuzz-"))
    try:
        (folder / "in.csv").write_bytes(data)
        out = folder / "out.csv"
        result = runner.invoke(
            app, ["score", instrument, str(folder / "in.csv"), "-o", str(out), "--errors", mode]
        )
        assert result.exit_code in (0, 1), (result.output, result.exception)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if result.exit_code == 0:
            assert out.is_file() and result.output.startswith("scored ")
        else:
            assert result.output.startswith("error [") and result.output.count("\n") == 1
            assert not out.exists()  # a refused file writes nothing
    finally:
        shutil.rmtree(folder, ignore_errors=True)
