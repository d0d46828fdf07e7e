"""One bad date in the database never takes the analysis down for everyone.

The gate refuses such dates on the way in (tests/checks/test_values.py); these rows are
written past it, as an old database or a direct edit would hold them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pustula.analysis import build_analysis, compute_endpoints
from pustula.cli import app
from pustula.demo import create_demo_study
from pustula.report import build_report, render_pdf
from pustula.store import Store
from pustula.store.transfer.extract import read_study

BAD = [
    "UPDATE lab SET sample_date = '0001-01-01' WHERE id = 1",
    "UPDATE lab SET sample_date = '9999-12-31' WHERE id = 2",
    "UPDATE adverse_event SET start_date = '9999-12-31' WHERE id = 1",
    "UPDATE adverse_event SET end_date = '0001-01-01' WHERE id = 2",
    "UPDATE subject SET screened_on = '0001-01-01' WHERE id = 1",
    "UPDATE exposure SET end_date = '9999-12-31' WHERE id = 2",
]


@pytest.fixture
def spoiled(sqlite_store: Store) -> Store:
    create_demo_study(sqlite_store)
    with sqlite_store.engine.begin() as connection:
        for statement in BAD:
            connection.execute(text(statement))
    return sqlite_store


def test_the_analysis_and_report_still_run(spoiled: Store) -> None:
    data = read_study(spoiled)
    assert str(data.labs["sample_date"].min().date()) == "0001-01-01"
    endpoints = {e.endpoint: (e.responders, e.n) for e in compute_endpoints(build_analysis(data))}
    assert endpoints["PPPASI80_W12"] == (5, 6)  # the efficacy data are untouched
    assert render_pdf(build_report(data)).startswith(b"%PDF")


def test_pustula_endpoints_still_answers(spoiled: Store) -> None:
    url = spoiled.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["--database", url, "endpoints", "--json"])
    assert result.exit_code == 0, result.output
