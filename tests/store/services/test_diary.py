"""The patient's daily diary between visits, and its e-mail reminders: a day is answered
once and is the patient's own; reminders go through a real SMTP server (aiosmtpd) with a
link of the day, once a day; the address stays out of the audit trail and every export."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError, InvitationError, PatientAnswerError
from pustula.settings import Settings
from pustula.store import Store, export_bundle, remove, update_record, verify_store
from pustula.store.db.models import AuditLog, DiaryEntry, PatientInvitation
from pustula.store.services.patient import invite_diary, open_patient_visit, submit_answers
from pustula.store.services.reminders import send_diary_reminders, smtp_sender

DAY = {"itch_nrs": {"itch_nrs": 6}, "pain_nrs": {"pain_nrs": 3}}
ADDRESS = "patient.s01@example.org"


@pytest.fixture
def demo(store: Store) -> Store:
    create_demo_study(store)
    return store


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    yield inbox, port
    server.stop()


def test_a_day_of_the_diary_is_answered_once_and_then_shows_done(demo: Store) -> None:
    issued = invite_diary(demo, "coordinator", "S01", language="en", days=28)
    assert issued.kind == "diary" and issued.visit_label == "Week 12"  # from the latest visit
    page = open_patient_visit(demo, issued.token)
    assert page.diary and page.diary_day == date.today()
    assert page.instruments == ("itch_nrs", "pain_nrs")
    submit_answers(demo, issued.token, DAY, device="phone")
    assert open_patient_visit(demo, issued.token).instruments == ()  # done for today
    with pytest.raises(InvitationError) as again:
        submit_answers(demo, issued.token, DAY, device="phone")
    assert again.value.reason == "answered"
    with demo.reader() as session:
        entry = session.scalars(select(DiaryEntry)).one()
        who = session.scalars(
            select(AuditLog.user).where(AuditLog.table_name == "diary_entry")
        ).all()
    assert (entry.itch_nrs, entry.pain_nrs, entry.entry_date) == (6, 3, date.today())
    assert who == ["patient S01"] * len(who) and who


def test_a_diary_day_outside_0_to_10_is_refused(demo: Store) -> None:
    issued = invite_diary(demo, "coordinator", "S01", language="en", days=7)
    with pytest.raises(DataValidationError):
        submit_answers(demo, issued.token, {"itch_nrs": {"itch_nrs": 11},
                                            "pain_nrs": {"pain_nrs": 2}}, device="x")  # fmt: skip


def test_staff_cannot_change_or_remove_a_diary_day(demo: Store) -> None:
    issued = invite_diary(demo, "coordinator", "S01", language="en", days=7)
    submit_answers(demo, issued.token, DAY, device="phone")
    with pytest.raises(PatientAnswerError), demo.transaction(user="dm", reason="typo") as tx:
        entry = tx.session.scalars(select(DiaryEntry)).one()
        update_record(tx, entry, {"itch_nrs": 2}, expected_version=entry.version)
    with pytest.raises(PatientAnswerError), demo.transaction(user="dm", reason="x") as tx:
        entry = tx.session.scalars(select(DiaryEntry)).one()
        remove(tx, entry, expected_version=entry.version)
    with demo.transaction(user="dm", reason="the patient's child answered") as tx:
        entry = tx.session.scalars(select(DiaryEntry)).one()
        update_record(tx, entry, {"not_used_reason": "the patient's child answered"},
                      expected_version=entry.version)  # fmt: skip


def test_reminders_need_a_real_address(demo: Store) -> None:
    with pytest.raises(DataValidationError) as refused:
        invite_diary(demo, "coordinator", "S01", language="en", days=7, reminders=True,
                     email="patient@example.org\nBcc: everyone@example.org")  # fmt: skip
    assert refused.value.field == "email"


def test_a_reminder_sends_a_link_of_the_day_once_and_the_address_stays_apart(
    demo: Store, smtp: tuple[_Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    invite_diary(demo, "coordinator", "S01", language="de", days=28, reminders=True,
                 email=ADDRESS)  # fmt: skip
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="study@example.org")
    done = send_diary_reminders(demo, base_url="https://pustula.example.org",
                                send=smtp_sender(settings))  # fmt: skip
    assert done.sent == 1
    for _ in range(50):  # the SMTP server hands the message over on its own thread
        if inbox.messages:
            break
        time.sleep(0.05)
    mail = message_from_bytes(inbox.messages[0], policy=email_policy)
    assert mail["To"] == ADDRESS and mail["Subject"] == "Ihr Hauttagebuch für heute"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    link = next(w for w in body.split() if w.startswith("https://pustula.example.org/p/"))
    assert "S01" not in body and "tofacitinib" not in body.lower()
    # the same day: nothing more is sent
    assert send_diary_reminders(demo, base_url="https://x", send=smtp_sender(settings)).sent == 0
    token = link.rsplit("/", 1)[1]
    assert open_patient_visit(demo, token).kind == "diary_day"
    submit_answers(demo, token, DAY, device="phone")
    with pytest.raises(InvitationError):  # a link of the day works once
        open_patient_visit(demo, token)
    # the address: in its own table, nowhere in the audit trail, in no bundle
    with demo.reader() as session:
        trail = " ".join(str(r) for r in session.execute(select(AuditLog)).all())
    assert ADDRESS not in trail
    export_bundle(demo, tmp_path / "bundle")
    for file in (tmp_path / "bundle").iterdir():
        assert ADDRESS.encode() not in file.read_bytes(), file.name
    assert not (tmp_path / "bundle" / "patient_contact.csv").exists()
    assert verify_store(demo).ok  # the address table is outside the audited tables


def test_a_reminder_the_server_refuses_leaves_no_link_behind(demo: Store) -> None:
    invite_diary(demo, "coordinator", "S02", language="en", days=7, reminders=True,
                 email=ADDRESS)  # fmt: skip
    closed = Settings(smtp_host="127.0.0.1", smtp_port=_free_port(), mail_from="s@example.org")
    done = send_diary_reminders(demo, base_url="https://x", send=smtp_sender(closed))
    assert (done.sent, done.skipped) == (0, 1)
    with demo.reader() as session:
        kinds = session.scalars(select(PatientInvitation.kind)).all()
    assert kinds == ["diary"]
