"""The shipped published results: every row of the evidence table kept with its verification
status, and pooling that never mixes strata silently."""

from __future__ import annotations

import pandas as pd
import pytest

from pustula.errors import DataValidationError
from pustula.evidence import escalc, rma
from pustula.evidence.published import load_published, pool_published, select


def test_every_row_is_kept_with_its_source_and_verification() -> None:
    table = load_published()
    assert table["row"].is_unique
    assert set(table["verification"]) == {"verified", "derived", "partly verified", "unverified"}
    # the model case series: 6/6 PPPASI50 and 3/6 PPPASI80 (">80%") at week 4, 5/6 at week 12
    xu = table[table["study"] == "Xu2023-TOFA"].set_index("row")
    assert list(xu["responders"]) == [6, 3, 5] and list(xu["operator"]) == [">=", ">", ">"]
    assert (xu["doi"] == "10.2147/IDR.S421299").all()
    # unverified rows stay, without invented counts
    assert table.loc[table["verification"] == "unverified", "responders"].isna().all()


def test_different_designs_are_not_pooled_unless_asked() -> None:
    rows = select(load_published(), index="PPPASI", cutoff=50, weeks=(12, 24))
    with pytest.raises(DataValidationError, match="randomised arms and uncontrolled series"):
        pool_published(rows)
    pooled = pool_published(rows, allow_mixed=True)
    assert "mixed strata, as asked" in pooled.description
    assert {r for r, _ in pooled.excluded} == {"2a", "3", "7", "16"}


def test_different_cutoffs_are_not_pooled_unless_asked() -> None:
    rows = select(load_published(), index="PPPASI", weeks=(4, 24), designs=["single_arm"])
    with pytest.raises(DataValidationError, match="endpoint definitions differ"):
        pool_published(rows)


def test_a_clean_stratum_pools_like_a_direct_analysis() -> None:
    rows = select(load_published(), index="PPPASI", cutoff=50, weeks=(16, 24),
                  designs=["single_arm"])  # fmt: skip
    pooled = pool_published(rows)
    assert sorted(pooled.included["study"]) == ["APLANTUS", "GAP"]
    # APLANTUS 13/21 and GAP 33/50, pooled directly
    direct = rma(escalc("PLO", [13, 33], [21, 50]), "REML")
    assert pooled.result.estimate == pytest.approx(direct.estimate)


def test_users_add_their_own_rows() -> None:
    own = pd.DataFrame([{"row": "U1", "study": "Our series", "design": "case_series",
                         "drug": "tofacitinib", "drug_class": "JAK", "region": "Europe",
                         "arm": "treatment", "index": "PPPASI", "operator": ">=", "cutoff": 50,
                         "week": 12, "responders": 7, "n": 9}])  # fmt: skip
    table = load_published(own)
    assert table.iloc[-1]["verification"] == "user"
    with pytest.raises(DataValidationError, match="lack column"):
        load_published(own.drop(columns=["week"]))


def test_completers_only_rows_are_pooled_with_the_randomised_denominator_by_default() -> None:
    """BRODA-JP's 54 % (PPPASI50, week 16) fits 27 of 50 completers; 63 were randomised per
    arm. Pooled against ITT studies, the completers' rate overstates the arm's response, so
    the default takes 27/63 (non-responders imputed) and --completers the published 27/50."""
    from pustula.evidence.published import load_published, select

    table = load_published()
    broda = "BRODA-JP (NCT04061252)"
    default = select(table, index="PPPASI", cutoff=50, weeks=(16, 16))
    rows = default[default["study"] == broda]
    assert list(zip(rows["responders"], rows["n"], strict=True)) == [(27, 63)]
    sensitivity = select(table, index="PPPASI", cutoff=50, weeks=(16, 16), completers=True)
    rows = sensitivity[sensitivity["study"] == broda]
    assert list(zip(rows["responders"], rows["n"], strict=True)) == [(27, 50)]
    # every other study is the same in both
    others = default[default["study"] != broda]["row"].tolist()
    assert sensitivity[sensitivity["study"] != broda]["row"].tolist() == others


def test_a_placebo_arm_switched_to_active_drug_is_not_a_treatment_arm() -> None:
    from pustula.evidence.published import load_published, select

    table = load_published()
    assert table.set_index("row").loc["11d", "arm"] == "crossover"
    assert "11d" not in set(select(table)["row"])
