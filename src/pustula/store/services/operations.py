"""What operations ask of a running installation: is it ready to take requests?

Readiness is more than liveness (``/health``): the database answers, its schema is the
one this Pustula expects (a half-finished upgrade is not ready), and the photographs'
folder can be written. The answers name the problem and what to do, never a password,
a URL or a path outside the installation's own settings.
"""

from __future__ import annotations

import logging
import tempfile

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pustula.errors import ConfigurationError
from pustula.store.db.migrate import current_revision, head_revision
from pustula.store.db.uow import Store

__all__ = ["readiness"]

log = logging.getLogger(__name__)


def readiness(store: Store) -> list[str]:
    """What stops the installation from taking requests now; empty when it is ready.

    Examples
    --------
    >>> readiness(demo_store())
    []
    """
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        at = current_revision(store.engine)
    except SQLAlchemyError as exc:
        log.warning("readiness: the database does not answer (%s)", type(exc).__name__)
        return ["the database does not answer"]
    problems = []
    if at != head_revision():
        problems.append(
            f"the database schema is at {at or 'nothing'}, this Pustula needs "
            f"{head_revision()}: run `pustula init` to migrate it"
        )
    try:
        root = store.files.root
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-"):
            pass
    except ConfigurationError as exc:
        problems.append(exc.message)
    except OSError:
        problems.append("the photographs' folder cannot be written (PUSTULA_FILES_DIR)")
    return problems
