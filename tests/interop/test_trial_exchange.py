"""A randomized trial in the exchange formats: SDTM DM and DS, ADSL, FHIR ResearchSubject
and the REDCap dictionary carry the allocation for unblinded readers, and a pooled
``BLINDED`` arm for everyone else (the SYNTHETIC demo trial, 12 subjects)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pustula.analysis import build_analysis
from pustula.demo_trial import create_trial_study
from pustula.interop.adam import build_adam
from pustula.interop.fhir import subject_bundle
from pustula.interop.redcap import data_dictionary, instrument_events
from pustula.interop.sdtm import build_sdtm
from pustula.store import Store
from pustula.store.services.clinical import casebooks
from pustula.store.services.trial import allocation_list_with_arms, arms_as_seen
from pustula.store.transfer.extract import read_exchange, read_study


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('x') / 'trial.sqlite3'}")
    store.create_schema()
    create_trial_study(store, subjects=12)
    yield store
    store.dispose()


def _allocated(store: Store) -> dict[str, str]:
    return {r["subject"]: r["arm"] for r in allocation_list_with_arms(store) if r["subject"]}


@pytest.mark.parametrize("arms", [True, False])
def test_dm_and_ds_carry_the_arm_for_unblinded_readers_and_blinded_for_the_others(
    trial: Store, arms: bool
) -> None:
    data = read_study(trial, arms=arms)
    sdtm = build_sdtm(data, read_exchange(trial))
    dm = sdtm.datasets["DM"].set_index("SUBJID")
    expected = _allocated(trial) if arms else dict.fromkeys(_allocated(trial), "BLINDED")
    assert dm["ARMCD"].drop("X01").to_dict() == expected
    assert dm["ACTARMCD"].drop("X01").to_dict() == expected  # every one of them was dosed
    assert (dm.loc["X01", "ARMCD"], dm.loc["X01", "ARMNRS"]) == ("", "SCREEN FAILURE")
    ds = sdtm.datasets["DS"]
    randomized = ds[ds["DSDECOD"] == "RANDOMIZED"]
    assert len(randomized) == 12 and set(randomized["DSCAT"]) == {"PROTOCOL MILESTONE"}
    assert sorted(sdtm.datasets["TA"]["ARMCD"].unique()) == (
        ["PLCB", "TOFA5"] if arms else ["BLINDED"])  # fmt: skip


def test_adsl_has_the_randomized_flag_date_and_strata(trial: Store) -> None:
    data = read_study(trial, arms=True)
    adam = build_adam(build_analysis(data), build_sdtm(data, read_exchange(trial)))
    adsl = adam.datasets["ADSL"].set_index("SUBJID")
    allocation = data.allocation.set_index("subject")
    assert adsl["RANDFL"].to_dict() == {s: "Y" if s in allocation.index else "N"
                                        for s in adsl.index}  # fmt: skip
    assert adsl.loc["X01", "RANDFL"] == "N"  # screened, not eligible
    adsl = adsl[adsl["RANDFL"] == "Y"]
    assert (adsl["RANDDT"] == allocation["randomized_on"].reindex(adsl.index)).all()
    assert adsl["STRAT1R"].to_dict() == {s: v["site"] for s, v in allocation["strata"].items()}
    assert adsl["STRAT2R"].to_dict() == {s: v["smoking"] for s, v in allocation["strata"].items()}
    labels = {a.code: a.label for a in data.protocol.arms}
    assert adsl["TRT01P"].to_dict() == {s: labels[a] for s, a in _allocated(trial).items()}


@pytest.mark.parametrize("arms", [True, False])
def test_fhir_research_subject_names_its_comparison_group(trial: Store, arms: bool) -> None:
    protocol, seen = arms_as_seen(trial, arms=arms)
    book = next(b for b in casebooks(trial) if b.subject.code == "T001")
    bundle = subject_bundle(book, protocol, arm=seen["T001"])
    resources = {e.resource.get_resource_type(): e.resource for e in bundle.entry}
    subject, study = resources["ResearchSubject"], resources["ResearchStudy"]
    expected = _allocated(trial)["T001"] if arms else "BLINDED"
    assert subject.assignedComparisonGroup == subject.actualComparisonGroup == expected
    assert expected in [g.linkId for g in study.comparisonGroup]


def test_the_redcap_dictionary_has_the_randomization_form(trial: Store) -> None:
    protocol, _ = arms_as_seen(trial, arms=True)
    rows = {r.name: r for r in data_dictionary(protocol) if r.form == "randomization"}
    assert list(rows) == ["rand_date", "rand_kit", "rand_site", "rand_smoking", "rand_group"]
    assert rows["rand_smoking"].choices == "1, never | 2, ever"
    assert rows["rand_group"].choices == "1, Tofacitinib 5 mg twice daily | 2, Placebo twice daily"
    baseline = [r["form"] for r in instrument_events(protocol) if r["unique_event_name"]
                == "week_0_arm_1"]  # fmt: skip
    assert "randomization" in baseline
    blinded, _ = arms_as_seen(trial)
    group = next(r for r in data_dictionary(blinded) if r.name == "rand_group")
    assert group.choices == "1, Blinded treatment (arms pooled)"


def test_a_case_series_dictionary_has_no_randomization_form(tmp_path: Path) -> None:
    from pustula.demo import demo_protocol_file
    from pustula.protocol import load_protocol

    assert all(r.form != "randomization" for r in data_dictionary(load_protocol(
        demo_protocol_file())))  # fmt: skip


def test_define_xml_gives_the_strata_and_flags_their_codelists(
    trial: Store, tmp_path: Path
) -> None:
    from lxml import etree

    from pustula.interop.cdisc import cdisc_package

    written = cdisc_package(trial, read_study(trial), "adam", tmp_path)
    assert (tmp_path / "define.xml") in written
    tree = etree.parse(str(tmp_path / "define.xml"))
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    codelists = {
        c.get("OID"): [i.get("CodedValue") for i in c.findall("odm:CodeListItem", ns)]
        for c in tree.iterfind(".//odm:CodeList", ns)
    }
    assert codelists["CL.NY"] == ["N", "Y"]
    sites = sorted(read_study(trial).subjects["site"].unique())
    assert codelists["CL.STRAT1R"] == sites
    assert codelists["CL.STRAT2R"] == ["never", "ever"]  # the protocol's order, not the data's
    refs = {
        i.get("Name"): i.find("odm:CodeListRef", ns)
        for i in tree.iterfind(".//odm:ItemDef", ns)
        if i.get("OID", "").startswith("IT.ADSL.")
    }
    assert refs["STRAT2R"].get("CodeListOID") == "CL.STRAT2R"
    assert refs["RANDFL"].get("CodeListOID") == "CL.NY"
    decode = tree.find(".//odm:CodeList[@OID='CL.STRAT2R']/odm:CodeListItem/odm:Decode", ns)
    assert "".join(decode.itertext()).strip() == "Smoking status: never"


def test_the_demo_trial_exports_say_invented_subjects_not_published_aggregates(
    trial: Store, tmp_path: Path
) -> None:
    from pustula.interop.cdisc import cdisc_package
    from pustula.interop.tidy import build_tidy, write_tidy
    from pustula.store.transfer.extract import read_items

    cdisc_package(trial, read_study(trial), "sdtm", tmp_path / "sdtm")
    tidy = build_tidy(build_analysis(read_study(trial)), read_items(trial))
    write_tidy(tidy, tmp_path / "tidy", "csv")
    for folder in ("sdtm", "tidy"):
        note = (tmp_path / folder / "SYNTHETIC-DATA.txt").read_text()
        assert "invented subjects" in note and "published aggregates" not in note


@pytest.mark.parametrize("arms", [True, False])
def test_the_trial_summary_gives_the_design_and_masks_what_a_blinded_reader_may_not_see(
    trial: Store, arms: bool
) -> None:
    # the demo trial's protocol: tofacitinib 5 mg twice daily against placebo, 2:1,
    # double-blind, stratified by site and smoking (CDISC CT: TBLIND, TCNTRL, NY)
    ts = build_sdtm(read_study(trial, arms=arms), read_exchange(trial)).datasets["TS"]
    values = {(r.TSPARMCD, r.TSVAL or r.TSVALNF) for r in ts.itertuples()}

    assert {("STYPE", "INTERVENTIONAL"), ("TBLIND", "DOUBLE BLIND"), ("RANDOM", "Y"),
            ("STRATFCT", "SITE"), ("STRATFCT", "SMOKING STATUS")} <= values  # fmt: skip
    if arms:
        assert {("TCNTRL", "PLACEBO"), ("NARMS", "2"), ("TRT", "TOFACITINIB"),
                ("DOSE", "5"), ("COMPTRT", "PLACEBO")} <= values  # fmt: skip
        assert ("TRT", "PLACEBO") not in values  # a comparator, not an investigational drug
    else:
        # masked (ISO 21090 MSK), not the one pooled arm's "1 arm, no control"
        assert {("TCNTRL", "MSK"), ("NARMS", "MSK"), ("TRT", "MSK")} <= values
        assert not {p for p, _ in values} & {"COMPTRT", "DOSE", "DOSU", "ROUTE"}


def test_the_planned_number_of_subjects_is_the_designs() -> None:
    import pandas as pd

    from pustula.demo import trial_protocol
    from pustula.interop.sdtm_design import trial_design
    from pustula.protocol.model import DesignRecord

    design = DesignRecord(method="two_arm", planned_subjects=98, parameters={"p1": 0.6})
    protocol = trial_protocol().model_copy(update={"design": design})
    ts = trial_design(protocol, pd.DataFrame({"screened_on": []}))["TS"].set_index("TSPARMCD")

    assert (ts.loc["PLANSUB", "TSVAL"], ts.loc["PLANSUB", "TSVALNF"]) == ("98", "")
