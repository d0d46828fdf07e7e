"""REDCap out: the data dictionary's 18 columns, events, and calc fields that reproduce
pustula.scoring on thousands of random inputs (evaluated by tests/interop/redcap_eval.py)."""

from __future__ import annotations

import csv
import io
import random

import pytest

from pustula.interop.redcap import (
    COLUMNS,
    NOT_RELEVANT,
    YES,
    data_dictionary,
    events,
    instrument_events,
    to_csv,
)
from pustula.protocol import load_protocol
from pustula.scoring import PPPASI, get_instrument
from pustula.scoring.pppasi import area_score_from_percent
from tests.interop.redcap_eval import evaluate
from tests.store.helpers import PROTOCOL

ROWS = {r.name: r for r in data_dictionary(load_protocol(PROTOCOL))}
REGIONS = [r["code"] for r in PPPASI.metadata()["regions"]]
SIGNS = ("erythema", "pustules", "desquamation")


def test_the_dictionary_has_redcaps_columns_in_order_and_record_id_first() -> None:
    text = to_csv(list(ROWS.values()))
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == COLUMNS and len(COLUMNS) == 18
    assert table[1][0] == "record_id"
    assert all(len(row) == 18 for row in table)
    assert ROWS["sex"].choices == "female, Female | male, Male | other, Other | unknown, Unknown"
    assert ROWS["right_sole_pustules"].choices.startswith("0, 0 · None | 1, 1 · Slight")
    assert ROWS["dlqi_q7"].choices.startswith(f"{YES}, Yes (prevented working or studying)")


def test_events_follow_the_protocols_visits() -> None:
    protocol = load_protocol(PROTOCOL)
    assert [e["unique_event_name"] for e in events(protocol)] == [
        "week_0_arm_1", "week_2_arm_1", "week_4_arm_1", "week_12_arm_1"]  # fmt: skip
    forms = {(m["unique_event_name"], m["form"]) for m in instrument_events(protocol)}
    assert ("week_0_arm_1", "screening") in forms and ("week_4_arm_1", "pppasi") in forms
    assert ("week_4_arm_1", "screening") not in forms


@pytest.mark.parametrize("pct", [0, 0.1, 9.9, 10, 29.9, 30, 49.99, 50, 70, 89.9, 90, 100])
def test_the_area_band_calc_matches_the_scorer_at_every_edge(pct: float) -> None:
    got = evaluate(ROWS["right_palm_area_score"].choices, {"right_palm_area_pct": pct})
    assert got == area_score_from_percent(pct)


def _random_pppasi(rng: random.Random) -> dict[str, float | int | None]:
    items: dict[str, float | int | None] = {}
    for region in REGIONS:
        for sign in SIGNS:
            items[f"{region}_{sign}"] = rng.randint(0, 4)
        items[f"{region}_area_pct"] = rng.choice(
            [rng.randint(0, 100), rng.choice([0, 9.99, 10, 29.9, 30, 50, 89.9, 90, 100])]
        )
    if rng.random() < 0.1:  # sometimes one item is blank: no score, no total
        items[rng.choice(list(items))] = None
    return items


def test_pppasi_calcs_equal_the_scorer_on_5000_random_assessments() -> None:
    rng = random.Random(20261129)
    for _ in range(5000):
        items = _random_pppasi(rng)
        record = dict(items)
        for region in REGIONS:  # REDCap computes the area score field first
            name = f"{region}_area_score"
            record[name] = evaluate(ROWS[name].choices, record)
        total = evaluate(ROWS["pppasi_total"].choices, record)
        if any(v is None for v in items.values()):
            assert total == ""
            continue
        expected = PPPASI.score(items)
        assert total == expected.total, items
        for region in REGIONS:
            got = evaluate(ROWS[f"pppasi_{region}"].choices, record)
            assert got == pytest.approx(expected.subscores[region], abs=1e-9)


def test_dlqi_total_calc_equals_the_scorer_with_its_missing_item_rule() -> None:
    rng = random.Random(7)
    dlqi = get_instrument("dlqi")
    for _ in range(5000):
        record: dict[str, object] = {}
        items: dict[str, object] = {}
        for i in range(1, 11):
            name = f"dlqi_q{i}"
            options: list[object] = [0, 1, 2, 3, None]
            if i >= 3:
                options.append(NOT_RELEVANT)
            if i == 7:
                options = [YES, 0, 1, 2, None, NOT_RELEVANT]
            answer = rng.choice(options)
            record[name] = answer
            items[name] = {NOT_RELEVANT: "not_relevant"}.get(answer, answer)  # type: ignore[call-overload]
        got = evaluate(ROWS["dlqi_total"].choices, record)
        expected = dlqi.score(items).total
        assert got == ("" if expected is None else expected), record
