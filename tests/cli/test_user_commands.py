"""``pustula user add`` and ``pustula user token``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app
from pustula.store import Store
from pustula.store.accounts.users import authenticate, user_by_token

runner = CliRunner()


def _study(db: list[str], *, site: str = "A") -> None:
    from pustula.demo import demo_protocol_file

    protocol = str(demo_protocol_file())
    runner.invoke(app, [*db, "study", "add", protocol, "--site", f"{site}=Site {site}"])


def test_add_a_user_and_issue_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    db = ["--database", url, "--user", "admin-cli"]
    runner.invoke(app, [*db, "init"])
    monkeypatch.setenv("PUSTULA_NEW_PASSWORD", "a long enough secret")
    # a role is held in a study: none yet, so the study comes first
    early = runner.invoke(
        app, [*db, "user", "add", "dr.k", "--role", "investigator", "--site", "SITE1"]
    )
    assert "create it first (pustula study add)" in early.output and early.exit_code == 1
    _study(db, site="SITE1")
    result = runner.invoke(
        app, [*db, "user", "add", "dr.k", "--role", "investigator", "--site", "SITE1"]
    )
    assert result.output == "user dr.k created (investigator; sites SITE1)\n"
    token = runner.invoke(app, [*db, "user", "token", "dr.k"]).output.strip()
    store = Store.open(url)
    with store.reader() as session:
        assert authenticate(session, "dr.k", "a long enough secret") is not None
        found = user_by_token(session, token)
        assert found is not None
        assert found.username == "dr.k"
    store.dispose()


def test_weak_passwords_and_unknown_roles_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'u.sqlite3'}"]
    runner.invoke(app, [*db, "init"])
    monkeypatch.setenv("PUSTULA_NEW_PASSWORD", "short")
    result = runner.invoke(app, [*db, "user", "add", "x1", "--role", "investigator", "--site", "A"])
    assert result.output == "error [data_invalid]: password: at least 10 characters\n"
    monkeypatch.setenv("PUSTULA_NEW_PASSWORD", "a long enough secret")
    result = runner.invoke(app, [*db, "user", "add", "x1", "--role", "boss", "--site", "A"])
    assert result.output.startswith(
        "error [data_invalid]: role: must be one of admin, investigator"
    )


def test_the_app_needs_a_secret_key_outside_demo_mode() -> None:
    from pustula.errors import ConfigurationError
    from pustula.settings import Settings
    from pustula.web import create_app

    store = Store.open("sqlite://")
    store.create_schema()
    with pytest.raises(ConfigurationError, match="PUSTULA_SECRET_KEY"):
        create_app(Settings(secret_key=None), store=store)


def test_serve_refuses_a_weak_secret_before_saying_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSTULA_SECRET_KEY", "a")
    result = runner.invoke(app, ["--database", f"sqlite:///{tmp_path / 's.sqlite3'}", "serve"])
    assert result.exit_code == 1
    assert "running" not in result.output
    assert result.output.startswith("error [configuration]: PUSTULA_SECRET_KEY is 1 bytes")


def test_deactivate_revoke_and_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    db = ["--database", url, "--user", "admin-cli"]
    runner.invoke(app, [*db, "init"])
    _study(db)
    monkeypatch.setenv("PUSTULA_NEW_PASSWORD", "a long enough secret")
    runner.invoke(app, [*db, "user", "add", "dr.k", "--role", "investigator", "--site", "A"])
    token = runner.invoke(app, [*db, "user", "token", "dr.k", "--expires", "30"]).output.strip()
    store = Store.open(url)
    with store.reader() as session:
        assert user_by_token(session, token) is not None
    assert runner.invoke(app, [*db, "user", "token-revoke", "dr.k"]).exit_code == 0
    with store.reader() as session:
        assert user_by_token(session, token) is None
    result = runner.invoke(app, [*db, "user", "deactivate", "dr.k", "--reason", "left the study"])
    assert result.exit_code == 0
    with store.reader() as session:
        assert authenticate(session, "dr.k", "a long enough secret") is None
    assert runner.invoke(app, [*db, "user", "token", "dr.k"]).output.startswith(
        "error [data_invalid]: user dr.k is deactivated"
    )
    store.dispose()


def test_roles_per_study_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two studies: a user added in one, granted a role in the other, then revoked."""
    import yaml

    from pustula.demo import demo_protocol_file
    from pustula.store.accounts.studies import studies_of
    from pustula.store.db.models import User

    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    db = ["--database", url, "--user", "admin-cli"]
    runner.invoke(app, [*db, "init"])
    _study(db)
    second = yaml.safe_load(Path(demo_protocol_file()).read_text()) | {"id": "FOLLOW-UP"}
    (tmp_path / "second.yaml").write_text(yaml.safe_dump(second))
    runner.invoke(app, [*db, "study", "add", str(tmp_path / "second.yaml"), "--site", "Z=Site Z"])
    monkeypatch.setenv("PUSTULA_NEW_PASSWORD", "a long enough secret")
    several = runner.invoke(app, [*db, "user", "add", "dr.k", "--role", "monitor", "--site", "A"])
    assert "several studies: name one with --study" in several.output
    added = runner.invoke(app, [*db, "user", "add", "dr.k", "--role", "monitor", "--site", "A",
                                "--study", "TOFA-PPP"])  # fmt: skip
    assert added.exit_code == 0, added.output
    granted = runner.invoke(app, [*db, "--study", "FOLLOW-UP", "user", "grant", "dr.k",
                                  "--role", "investigator", "--site", "Z",
                                  "--reason", "investigator of the follow-up"])  # fmt: skip
    assert granted.output == "dr.k is now investigator in study FOLLOW-UP\n"
    store = Store.open(url)

    def held() -> list[tuple[str, str, tuple[str, ...]]]:
        with store.reader() as session:
            user = session.query(User).filter(User.username == "dr.k").one()
            return [(s.code, s.role, s.sites) for s in studies_of(session, user.id)]

    assert held() == [("TOFA-PPP", "monitor", ("A",)), ("FOLLOW-UP", "investigator", ("Z",))]
    revoked = runner.invoke(app, [*db, "user", "revoke", "dr.k", "--study", "TOFA-PPP",
                                  "--reason", "left the case series"])  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert held() == [("FOLLOW-UP", "investigator", ("Z",))]
    store.dispose()
