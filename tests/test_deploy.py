"""The example deployment files (deploy/) say only what the app reads: every setting they
name is documented in docs/operations.md, every file the container image copies exists,
and the commands they run take the options they pass."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from pustula.cli import app
from pustula.settings import Settings

ROOT = Path(__file__).parents[1]
CONTAINER = ROOT / "deploy" / "container" / "Containerfile"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def _settings_table() -> set[str]:
    section = OPERATIONS.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(PUSTULA_[A-Z_]+|PROMETHEUS_[A-Z_]+)`", section))


def test_every_setting_of_the_app_is_documented() -> None:
    documented = _settings_table()
    missing = {f"PUSTULA_{name.upper()}" for name in Settings.model_fields} - documented
    assert not missing


def test_every_variable_the_deployment_files_set_is_documented() -> None:
    named = set()
    for path in (ROOT / "deploy").rglob("*"):
        if path.is_file():
            named |= set(re.findall(r"\bPUSTULA_[A-Z_]+[A-Z]\b", path.read_text()))
    assert named and named <= _settings_table(), named - _settings_table()


def test_the_container_image_copies_files_that_exist() -> None:
    text = CONTAINER.read_text()
    copies = [line.split()[1:-1] for line in text.splitlines()
              if line.startswith("COPY ") and "--from=" not in line]  # fmt: skip
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_commands_the_deployment_files_run_take_their_options() -> None:
    text = CONTAINER.read_text() + (ROOT / "deploy/systemd/pustula.service").read_text()
    runner = CliRunner()
    calls = re.findall(r"pustula (init|serve)((?: --[a-z-]+(?: [^ \"$&]+)?)*)", text)
    assert {c for c, _ in calls} == {"init", "serve"}
    for command, options in calls:
        helped = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        for option in shlex.split(options):
            if option.startswith("--"):
                assert option in helped, (command, option)
