"""Settings read from the environment (prefix ``PUSTULA_``) by :func:`get_settings`.

Settings are read when asked for, never at import time, so tests and tools can set the
environment first.
"""

from __future__ import annotations

from pathlib import Path

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


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
