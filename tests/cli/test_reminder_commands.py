"""``pustula reminders send`` as cron runs it: settings from the environment, a real SMTP
server (aiosmtpd), one e-mail per patient due, a clear line without the settings."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app
from pustula.demo import create_demo_study
from pustula.store import Store
from pustula.store.services.patient import invite_diary
from tests.store.services.test_diary import _free_port, _Inbox

runner = CliRunner()


def test_reminders_are_sent_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.controller import Controller

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    store = Store.open(url)
    store.create_schema()
    create_demo_study(store)
    invite_diary(store, "coordinator", "S03", language="en", days=14, reminders=True,
                 email="s03@example.org")  # fmt: skip
    store.dispose()
    missing = runner.invoke(app, ["--database", url, "reminders", "send"])
    assert missing.exit_code == 1 and "PUSTULA_PUBLIC_URL" in missing.output
    inbox, port = _Inbox(), _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("PUSTULA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PUSTULA_SMTP_PORT", str(port))
        monkeypatch.setenv("PUSTULA_MAIL_FROM", "study@example.org")
        monkeypatch.setenv("PUSTULA_PUBLIC_URL", "https://pustula.example.org")
        sent = runner.invoke(app, ["--database", url, "reminders", "send"])
        assert sent.exit_code == 0 and sent.output.startswith("1 reminder(s) sent"), sent.output
        for _ in range(50):
            if inbox.messages:
                break
            time.sleep(0.05)
        assert b"https://pustula.example.org/p/" in inbox.messages[0]
        assert "s03@example.org" not in sent.output
    finally:
        server.stop()
