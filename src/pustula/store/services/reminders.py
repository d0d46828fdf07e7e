"""Daily diary reminders by e-mail, through the SMTP server named in the settings.

Run once a day (``pustula reminders send``, from cron or a systemd timer): each patient
with an open diary link, reminders on, an address on file and no diary yet today gets one
e-mail with a link of the day (it works once, for a day and a half). The e-mail names no
study drug, no disease and no subject code; the address is read from its own table and
never logged. A second run on the same day sends nothing new.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from pustula.errors import ConfigurationError, StoreError
from pustula.settings import Settings
from pustula.store.db.models import PatientInvitation, Subject, Visit
from pustula.store.db.uow import Store
from pustula.store.monitoring.on_save import refuse_if_locked
from pustula.store.records import patient
from pustula.store.records.contacts import address_of

__all__ = ["Reminder", "Sent", "send_diary_reminders", "smtp_sender"]

log = logging.getLogger(__name__)

#: The reminder's words by the diary's language (the patient pages' own catalogue is for
#: the web; an e-mail is two sentences).
_TEXT = {
    "en": ("Your skin diary for today",
           "Please answer today's two questions about your itch and pain:\n\n{link}\n\n"
           "The link works once, until {until}. If you did not expect this e-mail, tell "
           "your study team."),
    "de": ("Ihr Hauttagebuch für heute",
           "Bitte beantworten Sie die zwei Fragen von heute zu Juckreiz und Schmerz:\n\n"
           "{link}\n\nDer Link funktioniert einmal, bis {until}. Wenn Sie diese E-Mail "
           "nicht erwartet haben, sagen Sie es Ihrem Studienteam."),
}  # fmt: skip


@dataclass(frozen=True)
class Reminder:
    """One e-mail to send: the address is only in memory, never stored with the study."""

    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Sent:
    sent: int
    skipped: int


def smtp_sender(settings: Settings) -> Callable[[Reminder], None]:
    """Send through ``settings.smtp_host`` (STARTTLS and login when set)."""
    host, sender = settings.smtp_host, settings.mail_from
    if not host or not sender:
        raise ConfigurationError(
            "reminders need an SMTP server: set PUSTULA_SMTP_HOST and PUSTULA_MAIL_FROM"
        )

    def send(reminder: Reminder) -> None:
        message = EmailMessage()
        message["From"], message["To"] = sender, reminder.to
        message["Subject"] = reminder.subject
        message.set_content(reminder.body)
        with smtplib.SMTP(host, settings.smtp_port, timeout=30) as server:
            if settings.smtp_starttls:
                server.starttls()
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password or "")
            server.send_message(message)

    return send


def _due(store: Store, today: date) -> list[int]:
    """Diary invitations with reminders that are still open and not answered today."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.reader() as session:
        diaries = session.scalars(select(PatientInvitation).where(
            PatientInvitation.kind == "diary", PatientInvitation.reminders.is_(True),
            PatientInvitation.deleted_at.is_(None), PatientInvitation.expires_at > now,
        )).all()  # fmt: skip
        reminded = set(session.scalars(select(PatientInvitation.parent_id).where(
            PatientInvitation.kind == "diary_day",
            PatientInvitation.created_at >= today.isoformat(),
        )))  # fmt: skip
        return [
            d.id
            for d in diaries
            if d.id not in reminded and not patient.diary_done(session, d.subject_id, today)
        ]


def send_diary_reminders(
    store: Store, *, base_url: str, send: Callable[[Reminder], None], today: date | None = None,
) -> Sent:  # fmt: skip
    """Issue each due patient a link of the day and e-mail it; returns what was sent."""
    today = today or date.today()
    sent = skipped = 0
    for diary_id in _due(store, today):
        try:
            with store.transaction(user="reminders", reason="daily diary reminder") as tx:
                diary = tx.session.get_one(PatientInvitation, diary_id)
                subject = tx.session.get_one(Subject, diary.subject_id)
                refuse_if_locked(tx.session.connection(), {subject.id})
                address = address_of(tx.session, subject.id)
                if address is None:
                    skipped += 1
                    continue
                visit = tx.session.get_one(Visit, diary.visit_id)
                day, token = patient.issue_diary(
                    tx, subject, visit, language=diary.language, parent=diary,
                    lifetime=timedelta(hours=36),
                )  # fmt: skip
                title, text = _TEXT.get(diary.language, _TEXT["en"])
                until = day.expires_at.replace("T", " ")[:16] + " UTC"
                link = f"{base_url.rstrip('/')}/p/{token}"
                # sent inside the save: a failed e-mail leaves no link of the day behind,
                # and the next run tries again
                send(Reminder(address, title, text.format(link=link, until=until)))
                sent += 1
        except (StoreError, OSError, smtplib.SMTPException) as exc:
            # the address and the link stay out of the log: the invitation's number says which
            log.warning("diary reminder for invitation %s not sent: %s", diary_id,
                        type(exc).__name__)  # fmt: skip
            skipped += 1
    return Sent(sent, skipped)
