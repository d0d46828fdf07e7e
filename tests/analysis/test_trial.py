"""A randomized trial analysed by arm (the SYNTHETIC demo trial, 90 subjects): the
populations with their reasons, the endpoints compared between arms from counts a reader
can check, the testing order, safety by arm, and the refusal of a blinded read."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pustula.analysis import build_analysis
from pustula.analysis.compare import compare_proportions
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.trial import BinaryEndpointResult, _confirm, analyse_trial
from pustula.demo_trial import create_trial_study
from pustula.errors import AnalysisError
from pustula.store import Store
from pustula.store.records.study import get_study
from pustula.store.transfer.extract import read_study


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("trial") / "trial.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_trial_study(store)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def analysis(store: Store) -> AnalysisData:
    return build_analysis(read_study(store, arms=True))


def test_itt_is_every_randomized_subject_and_mitt_leaves_out_the_undosed(
    analysis: AnalysisData,
) -> None:
    adsl = analysis.adsl.set_index("SUBJID")
    assert (adsl["ITTFL"] == "Y").sum() == len(analysis.study.allocation) == 90
    assert adsl.loc["T031", "MITTFL"] == "N"  # withdrew before the first dose
    assert adsl.loc["T031", "MITTRSN"] == "no dose of study drug"
    assert adsl.loc["T031", "SAFFL"] == "N"
    dosed = adsl["TRTSDT"].notna()
    assert ((adsl["MITTFL"] == "Y") == (dosed & (adsl["ITTFL"] == "Y"))).all()


def test_per_protocol_leaves_out_the_deviations_the_protocol_names_only(
    analysis: AnalysisData,
) -> None:
    adsl = analysis.adsl.set_index("SUBJID")
    deviations = analysis.study.deviations.set_index("subject")["category"]
    assert adsl.loc["T005", "PPROTFL"] == "N"
    assert adsl.loc["T005", "PPROTRSN"].startswith("deviation: took fewer study drug doses")
    assert deviations["T017"] == "randomization stratum"  # not a per-protocol exclusion
    assert adsl.loc["T017", "PPROTFL"] == "Y"
    assert adsl.loc["T031", "PPROTRSN"] == "not in the modified ITT set (no dose of study drug)"


def test_a_subject_never_randomized_is_in_no_trial_population(store: Store) -> None:
    from pustula.store import enrol_subject

    with store.transaction(user="test") as tx:
        study = get_study(tx.session)
        enrol_subject(tx, study, code="T999", site="SITE1", screened_on=date(2025, 6, 1),
                      baseline={"age": 40, "sex": "female", "disease_duration_months": 12,
                                "eraspen_ppp": True, "smoking": "never", "pack_years": None,
                                "triggers": [], "comorbidities": [],
                                "screening": {"tuberculosis": "negative",
                                              "hepatitis": "negative"}},
                      prior_therapies=[
                          {"category": "topical", "drug": "clobetasol propionate",
                           "response": "none"},
                          {"category": "systemic", "drug": "acitretin", "response": "none"}],
                      screening_labs={"lymphocytes": 1800, "neutrophils": 4000,
                                      "haemoglobin": 13.5})  # fmt: skip
    adsl = build_analysis(read_study(store, arms=True)).adsl.set_index("SUBJID")
    assert adsl.loc["T999", ["RANDFL", "ITTFL", "MITTFL", "PPROTFL"]].tolist() == ["N"] * 4
    assert adsl.loc["T999", "MITTRSN"] == "not randomized"


def _hand_count(analysis: AnalysisData, visit: str, crit: str, arm: str) -> tuple[int, int]:
    """Responders by the ADQS flag, with every ITT subject without a flag a non-responder."""
    adsl = analysis.adsl
    itt = adsl[(adsl["ITTFL"] == "Y") & (adsl["ARMCD"] == arm)]["USUBJID"]
    rows = analysis.adqs[(analysis.adqs["VISITCD"] == visit)
                         & (analysis.adqs["PARAMCD"] == "PPPASI")]  # fmt: skip
    responders = set(rows.loc[rows[crit] == "Y", "USUBJID"])
    return sum(s in responders for s in itt), len(itt)


def test_the_primary_endpoint_compares_counts_a_reader_can_recount(
    analysis: AnalysisData,
) -> None:
    trial = analyse_trial(analysis)
    primary = trial.binary[0]
    assert (primary.endpoint, primary.role) == ("PPPASI50_W16", "primary")
    crit = f"CRIT{analysis.crit(50)}FL"
    x1, n1 = _hand_count(analysis, "W16", crit, "TOFA5")
    x0, n0 = _hand_count(analysis, "W16", crit, "PLCB")
    c = primary.comparison
    assert (c.treated.x, c.treated.n, c.control.x, c.control.n) == (x1, n1, x0, n0)
    assert c == compare_proportions(x1, n1, x0, n0)
    assert "non-responses" in trial.missing_rule


def test_the_stratified_test_uses_the_strata_as_randomized(analysis: AnalysisData) -> None:
    from pustula.analysis.compare import stratified_comparison

    trial = analyse_trial(analysis)
    primary = trial.binary[0]
    crit = f"CRIT{analysis.crit(50)}FL"
    adsl = analysis.adsl[analysis.adsl["ITTFL"] == "Y"].set_index("SUBJID")
    strata = analysis.study.allocation.set_index("subject")["strata"]
    rows = analysis.adqs[(analysis.adqs["VISITCD"] == "W16")
                         & (analysis.adqs["PARAMCD"] == "PPPASI")]  # fmt: skip
    responders = set(rows.loc[rows[crit] == "Y", "SUBJID"])
    tables: dict[tuple[str, str], list[int]] = {}
    for subject, arm in adsl["ARMCD"].items():
        key = (strata[subject]["site"], strata[subject]["smoking"])
        cell = tables.setdefault(key, [0, 0, 0, 0])
        offset = 0 if arm == "TOFA5" else 2
        cell[offset] += subject in responders
        cell[offset + 1] += 1
    expected = stratified_comparison([tuple(v) for _, v in sorted(tables.items())])
    assert primary.stratified is not None
    assert primary.stratified.cmh_p == pytest.approx(expected.cmh_p)
    assert primary.test_p == primary.stratified.cmh_p
    assert primary.stratified.strata_used == len(tables) == 4


def _result(endpoint: str, role: str, p: float) -> BinaryEndpointResult:
    comparison = compare_proportions(1, 2, 1, 2)  # the procedure reads only test_p
    return BinaryEndpointResult(endpoint, endpoint, "W16", "", role, comparison,  # type: ignore[arg-type]
                                None, None, test_p=p)  # fmt: skip


def test_fixed_sequence_confirms_key_secondaries_in_order_until_one_fails() -> None:
    results = [_result("P", "primary", 0.001), _result("K1", "key secondary", 0.01),
               _result("K2", "key secondary", 0.2), _result("K3", "key secondary", 0.001),
               _result("S", "secondary", 0.0001)]  # fmt: skip
    confirmed = {r.endpoint for r in _confirm(results, "fixed_sequence", 0.05) if r.confirmatory}
    assert confirmed == {"P", "K1"}  # K3 after the failed K2 is not; a secondary never is


def test_holm_confirms_key_secondaries_against_alpha_over_the_rest() -> None:
    """Hand calculation: p sorted 0.01, 0.02, 0.04 against 0.05/3, 0.05/2, 0.05/1."""
    results = [_result("P", "primary", 0.001), _result("K1", "key secondary", 0.04),
               _result("K2", "key secondary", 0.01), _result("K3", "key secondary", 0.02)]  # fmt: skip
    confirmed = {r.endpoint for r in _confirm(results, "holm", 0.05) if r.confirmatory}
    assert confirmed == {"P", "K1", "K2", "K3"}
    results[2] = dataclasses.replace(results[2], test_p=0.03)  # 0.02 < 0.0167? no: stop
    confirmed = {r.endpoint for r in _confirm(results, "holm", 0.05) if r.confirmatory}
    assert confirmed == {"P"}


def test_nothing_secondary_is_confirmatory_when_the_primary_fails() -> None:
    results = [_result("P", "primary", 0.2), _result("K1", "key secondary", 0.001)]
    assert not any(r.confirmatory for r in _confirm(results, "fixed_sequence", 0.05))


def test_safety_by_arm_counts_subjects_with_treatment_emergent_events(
    analysis: AnalysisData,
) -> None:
    trial = analyse_trial(analysis)
    safety = trial.safety
    any_teae = safety[(safety["table"] == "ae_overview") & (safety["variable"] == "Any TEAE")
                      & (safety["stat"] == "n")].set_index("group")["value"]  # fmt: skip
    ae = analysis.study.adverse_events
    te = ae[ae["treatment_emergent"].astype(bool)]
    arm = analysis.adsl.set_index("SUBJID")["ARMCD"]
    by_arm = te.drop_duplicates("subject")["subject"].map(arm).value_counts()
    assert any_teae["Tofacitinib 5 mg twice daily"] == by_arm["TOFA5"]
    assert any_teae["Placebo twice daily"] == by_arm["PLCB"]
    serious = safety[(safety["variable"] == "Serious TEAE") & (safety["stat"] == "n")]
    assert serious.set_index("group")["value"].sum() == te[te["serious"].astype(bool)][
        "subject"].nunique()  # fmt: skip


def test_continuous_endpoints_and_the_mmrm_are_there_for_pppasi_and_dlqi(
    analysis: AnalysisData,
) -> None:
    trial = analyse_trial(analysis)
    measures = {(c.parameter, c.measure) for c in trial.continuous if c.result is not None}
    assert measures == {("PPPASI", "change"), ("PPPASI", "percent change"), ("DLQI", "change")}
    pppasi = trial.mmrm["PPPASI"]
    assert not isinstance(pppasi, str)
    assert pppasi.visits == ("W2", "W4", "W8", "W12", "W16")


def test_a_blinded_read_is_refused_not_compared(store: Store) -> None:
    with pytest.raises(AnalysisError, match="blinded"):
        analyse_trial(build_analysis(read_study(store)))


def test_per_protocol_analysis_has_fewer_subjects(analysis: AnalysisData) -> None:
    itt = analyse_trial(analysis).binary[0].comparison
    pp = analyse_trial(analysis, population="PPROTFL").binary[0].comparison
    assert pp.treated.n + pp.control.n == (analysis.adsl["PPROTFL"] == "Y").sum()
    assert pp.treated.n + pp.control.n < itt.treated.n + itt.control.n


def test_an_unknown_arm_is_a_clear_error(analysis: AnalysisData) -> None:
    with pytest.raises(AnalysisError, match="not in the protocol"):
        analyse_trial(analysis, treated="TOFA10")


def test_a_case_series_has_no_arms_to_compare() -> None:
    from pustula.demo import create_demo_study

    store = Store.open("sqlite://")
    store.create_schema()
    create_demo_study(store)
    with pytest.raises(AnalysisError, match="not randomized"):
        analyse_trial(build_analysis(read_study(store)))
    assert "ITTFL" not in build_analysis(read_study(store)).adsl
