"""One run, every output: the same endpoint has the same numbers in the endpoint table, the
responder and PGA tables, the responder figure, `pustula endpoints`, the web API, the PDF
(rendered to PNG pages too) and the Word document."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader
from typer.testing import CliRunner

from pustula.analysis.settings import AnalysisSettings
from pustula.analysis.tables import fmt_ci
from pustula.cli import app
from pustula.report import build_report, render_pdf
from pustula.report.docx import render_docx
from pustula.store import Store
from pustula.store.transfer.extract import read_study
from tests.analysis.edge_study import build_edge_study

OPTIONS = {"imputation": "NRI", "pga_baseline_min": 3, "operator": ">"}
CLI_OPTIONS = ["--imputation", "NRI", "--pga-baseline-min", "3", "--operator", ">"]


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    path = tmp_path_factory.mktemp("edge") / "edge.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    build_edge_study(store)
    return store, f"sqlite:///{path}"


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_every_output_shows_the_same_numbers(edge: tuple[Store, str], tmp_path: Path) -> None:
    store, url = edge
    data = read_study(store)
    report = build_report(data, AnalysisSettings.from_protocol(data.protocol, **OPTIONS))
    endpoints = {e.endpoint: e for e in report.endpoints}
    # hand-derived: W4 > 50 %: E1 N (exactly 50), E3 N, E4 N (NRI), E5 Y; E2 not evaluable
    assert (endpoints["PPPASI50_W4"].responders, endpoints["PPPASI50_W4"].n) == (1, 4)
    # PGA 0/1 at W12, baseline ≥ 3: E1, E3, E5 Y; E4 N (NRI); E2 out (baseline 2)
    assert (endpoints["PGA01_W12"].responders, endpoints["PGA01_W12"].n) == (3, 4)

    responders = report.tables["PPPASI responders by visit"].set_index(["Visit", "Response"])
    figure = next(f for f in report.figures if f.key == "responders").data
    figure = figure.set_index(["AVISIT", "response"])
    label = {"W4": "Week 4", "W12": "Week 12"}
    for e in report.endpoints:
        if e.endpoint.startswith("PPPASI"):
            cut = int(e.endpoint.removeprefix("PPPASI").split("_")[0])
            row = responders.loc[(label[e.visit], f"PPPASI{cut} (reduction > {cut}%)")]
            assert row["n/N (%)"].startswith(f"{e.responders}/{e.n} ")
            assert tuple(figure.loc[(label[e.visit], f"PPPASI{cut}"), ["x", "n"]]) == (
                e.responders,
                e.n,
            )
    pga = report.tables["PPP PGA by visit"].set_index("Visit")
    pga_end = endpoints["PGA01_W12"]
    cell = fmt_ci(pga_end.responders, pga_end.n, pga_end.rate or 0, pga_end.ci_low or 0,
                  pga_end.ci_high or 0)  # fmt: skip
    assert pga.loc["Week 12", "PGA 0/1, n/N (%) [95% CI]"] == cell  # "3/4 (75.0%) [19.4–99.4]"

    result = CliRunner().invoke(app, ["--database", url, "endpoints", "--json", *CLI_OPTIONS])
    assert result.exit_code == 0, result.output
    cli = {e["endpoint"]: (e["responders"], e["n"]) for e in json.loads(result.output)["endpoints"]}
    assert cli == {k: (e.responders, e.n) for k, e in endpoints.items()}

    pdf = render_pdf(report)
    text = _text(pdf)
    docx = Document(io.BytesIO(render_docx(report)))
    cells = {c.text for t in docx.tables for row in t.rows for c in row.cells}
    for e in report.endpoints:
        numbers = f"{e.responders}/{e.n}"
        assert f"{e.endpoint} " in text and numbers in text, e.endpoint
        assert numbers in cells, e.endpoint
    assert cell in text and cell in cells

    # the PDF renders to pages a person can look at
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is needed to render the report's pages")
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 4
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)


def test_the_word_document_numbers_tables_then_figures(edge: tuple[Store, str]) -> None:
    store, _ = edge
    report = build_report(read_study(store))
    doc = Document(io.BytesIO(render_docx(report)))
    captions = [p.text for p in doc.paragraphs if p.text.startswith(("Table ", "Figure "))]
    tables = [c for c in captions if c.startswith("Table ")]
    figures = [c for c in captions if c.startswith("Figure ")]
    assert [t.split(".")[0] for t in tables] == [f"Table {i}" for i in range(1, len(tables) + 1)]
    assert [f.split(".")[0] for f in figures] == [f"Figure {i}" for i in range(1, 7)]
    assert captions == tables + figures  # tables first, then figures, as journals ask
    assert len(doc.inline_shapes) == 6


def test_the_web_api_serves_the_same_endpoints(edge: tuple[Store, str]) -> None:
    from fastapi.testclient import TestClient

    from pustula.settings import Settings
    from pustula.store.accounts.users import add_user, issue_api_token
    from pustula.web import create_app

    store, _ = edge
    with store.transaction(user="t") as tx:
        add_user(tx, username="stat", password="a-long-password-1", role="statistician",
                 sites=("*",))  # fmt: skip
    with store.transaction(user="t", reason="API token for the cross-check") as tx:
        token = issue_api_token(tx, "stat")
    client = TestClient(create_app(Settings(secret_key="k" * 32), store=store))
    response = client.get("/api/v1/endpoints", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    served = {e["endpoint"]: (e["responders"], e["n"]) for e in response.json()}
    data = read_study(store)
    report = build_report(data, figures=False)
    assert served == {e.endpoint: (e.responders, e.n) for e in report.endpoints}
