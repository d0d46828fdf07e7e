"""Protocol files: the shipped one validates; bad ones fail with file, path and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pustula.errors import ProtocolError
from pustula.protocol import load_protocol, parse_protocol

SHIPPED = Path(__file__).parents[2] / "protocols" / "tofacitinib-ppp-case-series.yaml"


def _minimal() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text())


def test_the_shipped_protocol_models_the_seed_study() -> None:
    protocol = load_protocol(SHIPPED)
    assert [(v.code, v.day) for v in protocol.visits] == [
        ("W0", 0),
        ("W2", 14),
        ("W4", 28),
        ("W12", 84),
    ]
    endpoints = {
        (e.id, e.visit, e.threshold, protocol.analysis.operator)
        for e in protocol.endpoints
        if e.kind == "pppasi_reduction"
    }
    assert endpoints == {
        ("PPPASI50_W4", "W4", 50, ">="), ("PPPASI80_W4", "W4", 80, ">="),
        ("PPPASI50_W12", "W12", 50, ">="), ("PPPASI80_W12", "W12", 80, ">="),
    }  # fmt: skip
    start = {(r.test, r.below) for r in protocol.lab_rules if r.phase == "before_start"}
    assert start == {("lymphocytes", 500), ("neutrophils", 1000), ("haemoglobin", 9)}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.pop("visits"), "visits: this field is missing"),
        (
            lambda p: p["visits"][1].update(day=-1),
            "visits.1.day: must be greater than or equal to 0",
        ),
        (
            lambda p: p["visits"][1].update(colour="red"),
            "visits.1.colour: a protocol has no such field (a misspelling?)",
        ),
        (lambda p: p["visits"][2].update(code="W2"), "visits: code `W2` is used 2 times"),
        (
            lambda p: p["visits"][0].update(baseline=False),
            "exactly one visit must be the baseline; found 0",
        ),
        (
            lambda p: p["visits"][3].update(instruments=["pppasi", "pasi"]),
            "visits.3.instruments: unknown instrument `pasi`",
        ),
        (
            lambda p: p["endpoints"][0].update(visit="W8"),
            "endpoints.0.visit: `W8` is not a visit code",
        ),
        (
            lambda p: p.update(analysis={"operator": "=>"}),
            "analysis.operator: must be '>=' or '>'",
        ),
        (
            lambda p: p["endpoints"][0].update(threshold=None),
            "a pppasi_reduction endpoint needs instrument pppasi and a threshold",
        ),
        (lambda p: p["lab_rules"][0].pop("below"), "a lab rule needs at least one bound"),
        (lambda p: p["eligibility"]["inclusion"][0]["rule"].update(op="≥"), "inclusion.0.rule"),
    ],
)
def test_bad_protocols_name_the_path_and_reason(edit: Any, message: str) -> None:
    data = _minimal()
    edit(data)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(data, source="trial.yaml")
    assert str(caught.value).startswith("trial.yaml: ")
    assert message in str(caught.value)


def test_a_file_that_is_not_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(ProtocolError, match=r"broken.yaml: not valid YAML"):
        load_protocol(path)


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"nowhere.yaml: cannot read the protocol file"):
        load_protocol(tmp_path / "nowhere.yaml")
