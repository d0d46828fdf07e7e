"""Settings read from the environment (prefix ``PUSTULA_``) by :func:`get_settings`.

Settings are read when asked for, never at import time, so tests and tools can set the
environment first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_FILE", "Settings", "get_settings"]

DEFAULT_DATABASE_FILE = "pustula.sqlite3"


class Settings(BaseSettings):
    """Pustula's settings.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of the study store. Default: a SQLite file ``pustula.sqlite3`` in
        the working directory. PostgreSQL: ``postgresql+psycopg://user:pw@host/db``.
    user
        Who the CLI records in the audit trail when ``--user`` is not given.
    secret_key
        Signs web sessions; required outside demo mode.
    secure_cookies
        Send session cookies only over HTTPS.
    web_threads
        Threads per web worker process for page views and API reads. Pages are CPU-bound
        Python: more threads only queue on the interpreter lock, and one gave the most
        pages and the shortest saves (see benchmarks/README.md). Reports and exports run
        on a thread of their own besides these.
    web_save_threads
        Further threads per worker kept for saves (POST, PUT), so that page views waiting
        for a thread never queue ahead of someone saving.
    web_throughput
        Schedule requests for throughput (saves first, read slots, one database visit per
        subject page: :mod:`pustula.web.throughput`); off, every request runs plainly.
    dlqi_wording_file
        A licensed site's full DLQI wording (JSON or YAML, ``dlqi_q1`` … ``dlqi_q10`` to
        text). Without it the visit form shows the CDISC short item names.
    files_dir
        The folder where photographs are kept, each file under its SHA-256. Default:
        ``<database file>.files`` beside a SQLite database; PostgreSQL needs it set.
    photo_max_mb
        The largest photograph file taken, in megabytes.
    smtp_host, smtp_port, smtp_starttls, smtp_user, smtp_password, mail_from
        The SMTP server that sends patients' diary reminders, and the sender's address.
        Without a host, no reminder is sent.
    log_format
        ``text`` or ``json`` (one object per line, for a log collector) for the server's
        logs; an access line names the route, never the path or the client.
    public_url
        The address patients reach the web app at (``https://pustula.example.org``), for
        the links in reminders.
    session_idle_minutes, session_hours
        A web session ends after this long without a request, and this long after sign-in
        whatever happens (it also ends at sign-out, deactivation and a password change).
    """

    model_config = SettingsConfigDict(env_prefix="PUSTULA_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"
    )
    user: str | None = None
    secret_key: str | None = None
    secure_cookies: bool = False
    web_threads: int = Field(default=1, ge=1, le=200)
    web_save_threads: int = Field(default=2, ge=1, le=200)
    web_throughput: bool = True
    session_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    dlqi_wording_file: str | None = None
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    files_dir: str | None = None
    photo_max_mb: float = Field(default=25.0, gt=0, le=200)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str | None = None
    public_url: str | None = None
    log_format: Literal["text", "json"] = "text"


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
