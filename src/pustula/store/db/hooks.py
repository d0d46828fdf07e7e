"""What a save runs besides its own writes, registered by the layer that owns each step.

The unit of work (:mod:`pustula.store.db.uow`) sits below the audit trail and monitoring,
so it cannot import them: they register here when :mod:`pustula.store` is imported (any
import of a store module imports the package first). A save then runs, in order, every
``before_record`` step (monitoring's edit checks), then the ``recorder`` (the audit
chain), which calls every ``under_head_lock`` step (monitoring's locks) while it holds the
chain's head, so that no other save can slip in between the check and the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pustula.errors import StoreError

__all__ = ["REPLAYS", "SAVE_HOOKS", "UPGRADE_STEPS", "SaveHooks", "now_iso"]

BeforeRecord = Callable[[Session, str, str, "str | None"], None]
UnderHeadLock = Callable[[Connection, Session], None]
Recorder = Callable[[Session, Callable[[Connection], None]], None]


def now_iso() -> str:
    """The time a save is stamped with: UTC, to the microsecond, ISO 8601.

    Examples
    --------
    >>> stamp = now_iso()
    >>> stamp.endswith("+00:00"), len(stamp.split(".")[1])
    (True, 12)
    """
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class SaveHooks:
    """The steps registered for every save (see the module's text for their order).

    Examples
    --------
    >>> from pustula.store.db.hooks import SAVE_HOOKS
    >>> SAVE_HOOKS.recorder is not None   # the audit chain registered itself
    True
    >>> len(SAVE_HOOKS.before_record) >= 1   # and monitoring its edit checks
    True
    """

    before_record: list[BeforeRecord] = field(default_factory=list)
    under_head_lock: list[UnderHeadLock] = field(default_factory=list)
    recorder: Recorder | None = None

    def run(self, session: Session, *, user: str, at: str, reason: str | None) -> None:
        """Run a save's steps after its last flush, before its commit."""
        if self.recorder is None:
            # a save without its audit rows must never commit
            raise StoreError("the audit trail is not set up: import pustula.store first")
        for step in self.before_record:
            step(session, user, at, reason)

        def locked(connection: Connection) -> None:
            for step in self.under_head_lock:
                step(connection, session)

        self.recorder(session, locked)


SAVE_HOOKS = SaveHooks()


#: Replays of audit entries that hold a reference instead of their values, by entry kind,
#: registered by the layer that can compute them: an imported casebook's entry holds the
#: hash of its kept file, and :mod:`pustula.store.transfer.replay` reads the file again.
REPLAYS: dict[str, Any] = {}


#: Audited data steps run after the schema is upgraded (each does nothing once done), by
#: the layer that owns the data: rows written by a migration itself would have no entry in
#: the audit trail. Each takes the :class:`~pustula.store.db.uow.Store`.
UPGRADE_STEPS: list[Callable[[Any], None]] = []
