"""From the demo study in the store to the seed paper's endpoints, datasets and figures."""

from __future__ import annotations

import pytest

from pustula.analysis.datasets import AnalysisSettings, build_analysis
from pustula.analysis.endpoints import compute_endpoints
from pustula.analysis.plots import all_figures
from pustula.demo import create_demo_study
from pustula.store import Store, Visit, get_record, remove
from pustula.store.transfer.extract import read_study


@pytest.fixture
def demo(sqlite_store: Store) -> Store:
    create_demo_study(sqlite_store)
    return sqlite_store


def _by_id(
    store: Store, **settings: object
) -> dict[str, tuple[int, int, float | None, float | None]]:
    data = read_study(store)
    analysis = build_analysis(data, AnalysisSettings.from_protocol(data.protocol, **settings))
    return {
        e.endpoint: (e.responders, e.n, None if e.ci_low is None else round(100 * e.ci_low, 1),
                     None if e.ci_high is None else round(100 * e.ci_high, 1))
        for e in compute_endpoints(analysis)
    }  # fmt: skip


def test_the_demo_reproduces_the_published_endpoints(demo: Store) -> None:
    endpoints = _by_id(demo)
    assert endpoints["PPPASI50_W4"] == (6, 6, 54.1, 100.0)
    assert endpoints["PPPASI80_W4"][:2] == (3, 6)
    assert endpoints["PPPASI80_W12"] == (5, 6, 35.9, 99.6)
    assert _by_id(demo, operator=">") == endpoints  # no subject sits on a cut-off


def test_adqs_has_the_adam_variables(demo: Store) -> None:
    analysis = build_analysis(read_study(demo))
    for column in (
        "PARAMCD",
        "AVAL",
        "BASE",
        "ABLFL",
        "CHG",
        "PCHG",
        "AVISIT",
        "AVISITN",
        "DTYPE",
        "CRIT1",
        "CRIT1FL",
    ):
        assert column in analysis.adqs.columns
    assert len(analysis.adsl) == 6
    assert set(analysis.adqs["PARAMCD"]) == {"PPPASI", "PGA"}
    assert (analysis.adqs.loc[analysis.adqs["ABLFL"] == "Y", "AVISIT"] == "Week 0").all()


def _miss_week_4_of_s06(store: Store) -> None:
    with store.reader() as session:
        from sqlalchemy import select

        from pustula.store import Subject

        subject = session.scalars(select(Subject).where(Subject.code == "S06")).one()
        visit = session.scalars(
            select(Visit).where(Visit.subject_id == subject.id, Visit.visit_code == "W4")
        ).one()
        visit_id, version = visit.id, visit.version
    with store.transaction(user="t", reason="entered for the wrong subject") as tx:
        remove(tx, get_record(tx.session, Visit, visit_id), expected_version=version)


def test_imputation_changes_the_denominator_as_stated(demo: Store) -> None:
    _miss_week_4_of_s06(demo)
    assert _by_id(demo)["PPPASI50_W4"][:2] == (5, 5)  # observed cases
    assert _by_id(demo, imputation="NRI")["PPPASI50_W4"][:2] == (5, 6)  # missing = non-responder
    # LOCF carries S06's week-2 value (24.3 from 29.7: 18 %), not a response
    assert _by_id(demo, imputation="LOCF")["PPPASI50_W4"][:2] == (5, 6)


def test_figures_are_drawn_with_a_missing_visit(demo: Store) -> None:
    _miss_week_4_of_s06(demo)
    figures = all_figures(
        build_analysis(read_study(demo), AnalysisSettings.build(imputation="NRI"))
    )
    assert [f.key for f in figures] == [
        "spaghetti",
        "mean_change",
        "waterfall",
        "responders",
        "swimmer",
    ]
    for figure in figures:
        assert figure.svg.lstrip().startswith("<?xml") and "<svg" in figure.svg
        assert figure.png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_snapshot_hash_follows_the_data(demo: Store) -> None:
    first = read_study(demo).snapshot_hash()
    assert read_study(demo).snapshot_hash() == first
    _miss_week_4_of_s06(demo)
    assert read_study(demo).snapshot_hash() != first
