"""ADaM traced to SDTM, and Define-XML 2.1 that the schema accepts and that describes what
the files hold: every dataset, variable, codelist, method and QS test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pustula.analysis.datasets import build_analysis
from pustula.demo import create_demo_study
from pustula.interop.adam import AdamPackage, build_adam
from pustula.interop.cdisc import write_adam, write_sdtm
from pustula.interop.cdisc_check import check_folder
from pustula.interop.sdtm import SdtmPackage, build_sdtm
from pustula.interop.xpt import read_xpt
from pustula.store.extract import read_exchange, read_study
from tests.interop.helpers import new_store

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> tuple[SdtmPackage, AdamPackage, Path]:
    store = new_store(tmp_path_factory.mktemp("adam") / "demo.sqlite3")
    create_demo_study(store)
    data = read_study(store)
    sdtm = build_sdtm(data, read_exchange(store))
    adam = build_adam(build_analysis(data), sdtm)
    out = tmp_path_factory.mktemp("out")
    write_sdtm(sdtm, out / "sdtm", title=data.title)
    write_adam(adam, out / "adam", title=data.title)
    return sdtm, adam, out


def test_every_observed_adqs_record_points_at_the_qs_record_it_came_from(packages) -> None:
    sdtm, adam, _ = packages
    adqs, qs = adam.datasets["ADQS"], sdtm.datasets["QS"]
    observed = adqs[adqs["DTYPE"].isna()]
    assert len(observed) and (observed["SRCDOM"] == "QS").all()
    assert (observed["SRCVAR"] == "QSSTRESN").all()
    source = qs.set_index(["USUBJID", "QSSEQ"])["QSSTRESN"]
    for row in observed.itertuples():
        assert source[(row.USUBJID, row.SRCSEQ)] == row.AVAL


def test_adam_files_read_back_with_dates_labels_and_flags(packages) -> None:
    _, adam, out = packages
    adsl, labels, label = read_xpt(out / "adam" / "adsl.xpt")
    assert label == "Subject-Level Analysis Dataset"
    assert labels["TRTSDT"] == "Date of First Exposure to Treatment"
    assert str(adsl.loc[0, "TRTSDT"]) == "2024-03-04"
    assert list(adsl["FASFL"]) == list(adam.datasets["ADSL"]["FASFL"])
    adqs, _, _ = read_xpt(out / "adam" / "adqs.xpt")
    assert list(adqs["AVAL"]) == list(adam.datasets["ADQS"]["AVAL"])


def test_both_packages_pass_the_check(packages) -> None:
    _, _, out = packages
    assert check_folder(out / "sdtm") == []
    assert check_folder(out / "adam") == []


def _define(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_define_describes_every_dataset_and_variable_written(packages) -> None:
    sdtm, _, out = packages
    root = _define(out / "sdtm" / "define.xml")
    groups = root.findall(".//odm:ItemGroupDef", NS)
    assert [g.get("Name") for g in groups] == list(sdtm.datasets)
    defined = {i.get("OID") for i in root.findall(".//odm:ItemDef", NS)}
    for group in groups:
        leaf = group.find("def:leaf", NS)
        assert (out / "sdtm" / leaf.get(f"{{{NS['xlink']}}}href")).exists()
        refs = [r.get("ItemOID") for r in group.findall("odm:ItemRef", NS)]
        assert set(refs) <= defined
        assert [r.split(".")[-1] for r in refs] == list(sdtm.datasets[group.get("Name")].columns)


def test_define_has_qs_value_level_metadata_and_the_pppasi_method(packages) -> None:
    sdtm, _, out = packages
    root = _define(out / "sdtm" / "define.xml")
    where = root.findall(".//def:WhereClauseDef", NS)
    tested = {w.find(".//odm:CheckValue", NS).text for w in where}
    assert tested == set(sdtm.datasets["QS"].query("QSSTAT == ''")["QSTESTCD"])
    method = root.find(".//odm:MethodDef[@OID='MT.PPPASI']", NS)
    assert "0.2" in "".join(method.itertext()) and "0.3" in "".join(method.itertext())
    total = root.find(
        ".//def:ValueListDef[@OID='VL.QS.QSSTRESN']/odm:ItemRef[@ItemOID='IT.QS.QSSTRESN.PPPASI']",
        NS,
    )
    assert total.get("MethodOID") == "MT.PPPASI"


def test_sponsor_defined_test_codes_are_marked_as_extensions(packages) -> None:
    _, _, out = packages
    root = _define(out / "sdtm" / "define.xml")
    codes = root.find(".//odm:CodeList[@OID='CL.QSTESTCD']", NS)
    items = {
        i.get("CodedValue"): i.get(f"{{{NS['def']}}}ExtendedValue")
        for i in codes.findall("odm:EnumeratedItem", NS)
    }
    assert items["PPPASI"] == "Yes" and items["RPERY"] == "Yes" and items["PPPPGA"] == "Yes"
    sex = root.find(".//odm:CodeList[@OID='CL.SEX']", NS)
    assert {i.get("CodedValue") for i in sex.findall("odm:CodeListItem", NS)} >= {"F", "M"}


def test_adam_define_names_its_predecessors_and_methods(packages) -> None:
    _, _, out = packages
    root = _define(out / "adam" / "define.xml")
    assert root.find(".//def:Standard", NS).get("Name") == "ADaMIG"
    age = root.find(".//odm:ItemDef[@OID='IT.ADSL.AGE']/def:Origin", NS)
    assert age.get("Type") == "Predecessor" and "DM.AGE" in "".join(age.itertext())
    chg = root.find(".//odm:ItemGroupDef[@OID='IG.ADQS']/odm:ItemRef[@ItemOID='IT.ADQS.CHG']", NS)
    assert chg.get("MethodOID") == "MT.CHG"
