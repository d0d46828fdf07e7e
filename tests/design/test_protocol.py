"""A design becomes a runnable protocol: what `pustula design … --protocol` writes is
accepted by `pustula study add` as it is, and carries the design's numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pustula.cli import app
from pustula.design import simon_designs
from pustula.design.two_arm import two_arm_size
from pustula.protocol import load_protocol

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _added(tmp_path: Path, protocol: Path) -> str:
    db = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    _run("--database", db, "init")
    return _run("--database", db, "study", "add", str(protocol), "--site", "S1=Site one",
                "--site", "S2=Site two")  # fmt: skip


def test_a_two_arm_design_writes_a_randomized_protocol_that_a_study_is_made_from(
    tmp_path: Path,
) -> None:
    out = tmp_path / "trial.yaml"
    _run("design", "two-arm", "--p1", "0.6", "--p2", "0.25", "--protocol", str(out))
    protocol = load_protocol(out)
    size = two_arm_size(0.6, 0.25)
    # 36 per arm by the design, 40 after 10 % dropout: 80 subjects in all
    assert protocol.design is not None and protocol.design.parameters["n_per_arm"] == size.n_per_arm
    assert protocol.design.planned_subjects == 2 * math.ceil(size.n_per_arm / 0.9) == 80
    assert [a.ratio for a in protocol.arms] == [1, 1]
    assert protocol.randomization is not None
    assert protocol.randomization.blinding == "double"
    assert [s.factor for s in protocol.randomization.strata] == ["site", "smoking"]
    assert protocol.analysis.imputation == "NRI"
    assert [e.id for e in protocol.endpoints if e.primary] == ["PPPASI50_W16"]
    assert "created with 2 site(s)" in _added(tmp_path, out)


@pytest.mark.parametrize("choose", ["optimal", "minimax"])
def test_a_simon_design_writes_a_single_arm_protocol_with_its_stages(
    tmp_path: Path, choose: str
) -> None:
    out = tmp_path / "phase2.yaml"
    _run("design", "simon", "--p0", "0.2", "--p1", "0.4", "--nmax", "60", "--choose", choose,
         "--protocol", str(out))  # fmt: skip
    protocol = load_protocol(out)
    expected = getattr(simon_designs(0.2, 0.4, nmax=60), choose)
    assert protocol.randomization is None and len(protocol.arms) == 1
    assert protocol.design is not None
    assert {k: protocol.design.parameters[k] for k in ("r1", "n1", "r", "n")} == {
        "r1": expected.r1, "n1": expected.n1, "r": expected.r, "n": expected.n}  # fmt: skip
    assert protocol.design.planned_subjects == expected.n
    assert "created with 2 site(s)" in _added(tmp_path, out)


def test_a_bayesian_design_writes_a_protocol_with_its_monitoring_rule(tmp_path: Path) -> None:
    out = tmp_path / "bayes.yaml"
    _run("design", "predictive", "--a", "0.5", "--b", "0.5", "--responses", "0", "--n", "0",
         "--nmax", "40", "--p0", "0.2", "--theta-t", "0.95", "--theta-l", "0.05",
         "--runs", "200", "--protocol", str(out))  # fmt: skip
    data = yaml.safe_load(out.read_text())
    assert data["design"]["parameters"]["theta_l"] == 0.05
    assert load_protocol(out).design.planned_subjects == 40  # type: ignore[union-attr]
    assert "created with 2 site(s)" in _added(tmp_path, out)


def test_the_written_file_says_where_it_came_from_and_what_to_edit(tmp_path: Path) -> None:
    out = tmp_path / "trial.yaml"
    _run("design", "two-arm", "--p1", "0.5", "--p2", "0.2", "--protocol", str(out))
    assert out.read_text().startswith("# Written by `pustula design two-arm`")
    assert "edit them before use" in out.read_text()


def test_a_dropout_outside_its_range_is_refused() -> None:
    result = runner.invoke(app, ["design", "two-arm", "--p1", "0.5", "--p2", "0.2",
                                 "--dropout", "0.95", "--protocol", "x.yaml"])  # fmt: skip
    assert result.exit_code != 0 and "--dropout must be from 0 to 0.9" in result.output
