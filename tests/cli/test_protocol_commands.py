"""Amending the protocol from the command line: a draft with its review, a refused file,
and a signed approval (decision 0020)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pustula.cli import app
from pustula.demo import DEMO_PASSWORD, create_demo_study, create_demo_users
from pustula.store import Store
from tests.store.helpers import PROTOCOL

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    store = Store.open(url)
    store.create_schema()
    create_demo_study(store)
    create_demo_users(store)
    store.dispose()
    return ["--database", url, "--user", "admin"]


def _amended(tmp_path: Path, version: str) -> Path:
    stated = yaml.safe_load(PROTOCOL.read_text())
    stated["version"] = version
    next(v for v in stated["visits"] if v["code"] == "W12")["window_after"] = 3
    path = tmp_path / f"amended-{version}.yaml"
    path.write_text(yaml.safe_dump(stated, sort_keys=False))
    return path


def test_a_draft_is_kept_reviewed_and_approved_with_a_password(
    db: list[str], tmp_path: Path
) -> None:
    drafted = runner.invoke(app, [*db, "protocol", "amend", str(_amended(tmp_path, "1.1")),
                                  "--summary", "W12 window +3 days", "--effective-on",
                                  "2024-08-01"])  # fmt: skip
    assert drafted.exit_code == 0, drafted.output
    review = json.loads(drafted.output)
    assert review["changes"] == [
        "Window of W12 changed: day 84, −7 to +7 days → day 84, −7 to +3 days"
    ]
    # S05's week 12 (21 Aug 2024, day 93) was late before and stays late; S06's (26 Aug,
    # day 84) stays in window: nothing is re-flagged
    assert review["reflagged_visits"] == []
    refused = runner.invoke(app, [*db, "protocol", "approve", "1.1", "--reason", "EC",
                                  "--reconsent"], env={"PUSTULA_PASSWORD": "wrong"})  # fmt: skip
    assert refused.exit_code != 0 and "nothing was approved" in refused.output
    approved = runner.invoke(app, [*db, "protocol", "approve", "1.1", "--reason", "EC",
                                   "--no-reconsent"], env={"PUSTULA_PASSWORD": DEMO_PASSWORD})  # fmt: skip
    assert approved.exit_code == 0, approved.output
    versions = json.loads(runner.invoke(app, [*db, "protocol", "versions"]).output)
    assert [(v["version"], v["status"], v["reconsent"]) for v in versions] == [
        ("1.0", "approved", False),
        ("1.1", "approved", False),
    ]


def test_a_draft_with_a_problem_is_refused_by_line(db: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*db, "protocol", "amend", str(_amended(tmp_path, "1.0")),
                                 "--summary", "x", "--effective-on", "2024-08-01"])  # fmt: skip
    assert result.exit_code != 0
    # the file as written above: id, title, then version on line 3
    assert "line 3, version: version 1.0 is already a version of this study" in result.output
