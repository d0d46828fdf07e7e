"""The one place where commits happen: ``Store.transaction()``, a unit of work per save."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, inspect, select
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from pustula.checks.values import check_text
from pustula.errors import ConflictError, DataValidationError, RecordNotFoundError, StoreError
from pustula.settings import get_settings
from pustula.store.db.engine import WRITE, is_sqlite, make_engine
from pustula.store.db.hooks import SAVE_HOOKS, UPGRADE_STEPS, now_iso
from pustula.store.db.models import Record
from pustula.store.files.blobs import FileStore, files_for
from pustula.store.keys.audit_key import AuditKey, resolve_audit_key
from pustula.store.keys.signing import SigningKey, resolve_signing_key

__all__ = ["AuditedSession", "Store", "Transaction", "get_record", "remove", "update_record"]

R = TypeVar("R", bound=Record)
log = logging.getLogger(__name__)
NO_TABLES = (
    "the database has no tables: run `pustula init` (or `Store.create_schema()` from Python) "
    "to create them; nothing was saved"
)


class AuditedSession(Session):
    """A session whose flushes write audit rows: :mod:`pustula.store.audit.chain` and
    :mod:`pustula.store.monitoring.on_save` listen to its events."""


@dataclass
class Transaction:
    """One unit of work: what it saves, with its audit rows, commits together or not at all.

    Examples
    --------
    >>> from pustula.store import add_site, get_study
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     site = add_site(tx, get_study(tx.session), code="SITE3", name="Third site")
    >>> site.code
    'SITE3'
    """

    session: Session
    user: str
    reason: str | None
    editing: str | None = None

    def flush(self) -> None:
        self.session.flush()


class Store:
    """A study store on one database.

    Examples
    --------
    >>> store = Store.open("sqlite://")
    >>> store.create_schema()
    >>> with store.transaction(user="demo") as tx:
    ...     pass
    """

    def __init__(
        self, engine: Engine, *, audit_key: AuditKey | None = None,
        signing_key: SigningKey | None = None, files: FileStore | None = None,
    ) -> None:  # fmt: skip
        self.engine = engine
        self._sessions = sessionmaker(engine, class_=AuditedSession, expire_on_commit=False)
        # resolved once, on first use, and shared with every copy made by for_study
        self._resources: dict[str, Any] = {
            "audit_key": audit_key, "signing_key": signing_key, "files": files,
        }  # fmt: skip
        #: The study its sessions work in (None: the only study); see :meth:`for_study`.
        self.study: str | None = None

    def for_study(self, code: str | None) -> Store:
        """This store with every session scoped to study ``code``: the services' "the study"
        is that one. Same engine, keys and files; cheap enough for every request."""
        scoped = copy.copy(self)
        scoped.study = code
        return scoped

    def _resource(self, name: str, resolve: Any) -> Any:
        if self._resources[name] is None:
            self._resources[name] = resolve()
        return self._resources[name]

    @property
    def files(self) -> FileStore:
        """Where photographs are kept, by SHA-256 (:mod:`pustula.store.files.blobs`)."""
        files: FileStore = self._resource(
            "files", lambda: files_for(self.engine.url, get_settings().files_dir)
        )
        return files

    @property
    def signing_key(self) -> SigningKey:
        """The installation's private key that signs bundles and backups
        (:mod:`pustula.store.keys.signing`)."""
        key: SigningKey = self._resource(
            "signing_key", lambda: resolve_signing_key(self.engine.url)
        )
        return key

    @property
    def audit_key(self) -> AuditKey:
        """The key the audit chain is signed with (:mod:`pustula.store.keys.audit_key`)."""
        key: AuditKey = self._resource("audit_key", lambda: resolve_audit_key(self.engine.url))
        return key

    @classmethod
    def open(
        cls, url: str | None = None, *, must_exist: bool = False, files_dir: Path | None = None
    ) -> Store:
        """The store at ``url`` (default: the setting); ``must_exist`` refuses a SQLite
        file that does not exist instead of creating an empty one; ``files_dir`` is where
        its photographs are kept (default: :func:`pustula.store.files.blobs.files_for`)."""
        engine = make_engine(url or get_settings().database_url, must_exist=must_exist)
        return cls(engine, files=None if files_dir is None else FileStore(files_dir))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def create_schema(self) -> None:
        """Create or migrate the schema to the newest revision (Alembic)."""
        from pustula.store.db.migrate import upgrade

        upgrade(self.engine, audit_key=lambda: self.audit_key)
        for step in UPGRADE_STEPS:
            step(self)

    @contextmanager
    def transaction(self, *, user: str, reason: str | None = None) -> Iterator[Transaction]:
        """Open a unit of work as ``user``; ``reason`` is required to change saved data.

        Raises
        ------
        ConflictError
            Another writer saved the same record first (optimistic lock).
        DataValidationError
            The database refused the data (a constraint).
        """
        if not user.strip():
            raise StoreError("every save needs a user to record in the audit trail")
        check_text(user, field="user", max_length=80)
        if reason is not None:
            check_text(reason, field="reason", max_length=2000, multiline=True)
        info = {"user": user, "reason": reason, "at": now_iso(), "audit_key": self.audit_key,
                "study": self.study}  # fmt: skip
        session = self._sessions(info=info)
        tx = Transaction(session, user, reason)
        try:
            with session.begin():
                session.connection(execution_options={WRITE: True})
                yield tx
                session.flush()
                SAVE_HOOKS.run(session, user=user, at=str(info["at"]), reason=reason)
        except StaleDataError as exc:
            what = tx.editing or "a record"
            raise ConflictError(
                f"{what} was changed by someone else while you edited it; reload and save again"
            ) from exc
        except IntegrityError as exc:
            raise DataValidationError(_refusal(exc)) from exc
        except (OperationalError, ProgrammingError, DataError) as exc:
            if self._without_tables():
                raise StoreError(NO_TABLES) from exc
            # the driver's text can quote the values saved: log the kind, show plain words
            log.warning("save refused by the database: %s", type(exc.orig).__name__)
            raise StoreError(
                "the database could not complete the save; nothing was saved. Try again, "
                "and tell the study's data manager if it happens again"
            ) from exc
        finally:
            session.close()

    def _without_tables(self) -> bool:
        return without_tables(self.engine)

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session (a flush raises) for pages and answers.

        On PostgreSQL each statement runs on its own (autocommit): READ COMMITTED would
        give every statement its own snapshot anyway, and this saves the BEGIN and
        ROLLBACK round trips on every request. Use :meth:`snapshot` when several
        statements must agree with each other.
        """
        with self._read_session({"isolation_level": "AUTOCOMMIT"}) as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for the few quick reads of one request, without an ORM session.

        Autocommit on PostgreSQL, as :meth:`reader`; the pages every user hits most
        (the access check, a subject's timeline) read through it.
        """
        with self.engine.connect() as connection:
            if not is_sqlite(self.engine):
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session whose statements all see the database as of one moment.

        For exports and analyses: PostgreSQL runs a REPEATABLE READ, READ ONLY transaction;
        SQLite's read transaction keeps the WAL snapshot of its first read.
        """
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with self._read_session(options) as session:
            yield session

    @contextmanager
    def snapshot_connection(self) -> Iterator[Connection]:
        """The connection of a :meth:`snapshot`, for reads written as SQL (audit, exports)."""
        with self.snapshot() as session:
            yield session.connection()

    @contextmanager
    def _read_session(self, postgres_options: dict[str, Any]) -> Iterator[Session]:
        session = self._sessions(info={"study": self.study})
        try:
            if not is_sqlite(self.engine):
                session.connection(execution_options=postgres_options)
            yield session
        finally:
            # close() ends the transaction without expiring what was read, so the
            # records stay readable (detached) after the block.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


#: Record ids are 64-bit integers; a larger number in a path is simply not a record.
MAX_ID = 2**63 - 1


def without_tables(bind: Engine | Connection) -> bool:
    """Whether the database has none of Pustula's tables (never initialised)."""
    try:
        return not inspect(bind).has_table("audit_head")
    except SQLAlchemyError:
        return False


def _refusal(exc: IntegrityError) -> str:
    """The database's refusal in plain words; its own text (which quotes values) is logged
    by kind only, never shown."""
    text = str(exc.orig).lower()
    log.warning("save refused by a database constraint: %s", type(exc.orig).__name__)
    if "not null" in text or "null value" in text:
        reason = "a required value is missing"
    elif "unique" in text or "duplicate" in text:
        reason = "the same record already exists"
    elif "foreign key" in text:
        reason = "it refers to a record that does not exist"
    else:
        reason = "a value is not allowed"
    return f"the database refused the save because {reason}; nothing was saved"


def get_record(session: Session, model: type[R], record_id: int) -> R:
    """Load one record that has not been removed, or raise :class:`RecordNotFoundError`.

    Examples
    --------
    >>> from pustula.store import Visit
    >>> with demo_store().reader() as session:
    ...     visit = get_record(session, Visit, 1)
    >>> visit.visit_code
    'W0'
    >>> with demo_store().reader() as session:
    ...     get_record(session, Visit, 999)
    Traceback (most recent call last):
    ...
    pustula.errors.RecordNotFoundError: visit 999 does not exist
    """
    if isinstance(record_id, bool) or not 0 < record_id <= MAX_ID:
        raise RecordNotFoundError(f"{model.__tablename__} {record_id} does not exist")
    obj = session.get(model, record_id)
    if obj is None or obj.deleted_at is not None:
        raise RecordNotFoundError(f"{model.__tablename__} {record_id} does not exist")
    return obj


def active(model: type[R]) -> Any:
    return select(model).where(model.deleted_at.is_(None))


def update_record(
    tx: Transaction, record: R, changes: Mapping[str, Any], *, expected_version: int
) -> R:
    """Apply ``changes`` to ``record`` if nobody saved it since ``expected_version``.

    The check here gives a clear message; the ``WHERE version = ...`` of the UPDATE
    closes the race between this check and the write.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Site
    >>> store = demo_store()
    >>> with store.transaction(user="dm", reason="site renamed") as tx:
    ...     site = tx.session.scalars(select(Site).where(Site.code == "SITE2")).one()
    ...     site = update_record(tx, site, {"name": "Demo site B (new building)"},
    ...                          expected_version=site.version)
    >>> site.name, site.version
    ('Demo site B (new building)', 2)
    """
    tx.editing = record.label
    if record.version != expected_version:
        raise ConflictError(
            f"{record.label} was changed by someone else (now version {record.version}, "
            f"you edited version {expected_version}); reload it and apply your change again"
        )
    columns = set(record.__mapper__.column_attrs.keys())
    for key, value in changes.items():
        if key not in columns or key in ("id", "version", "created_at", "created_by"):
            raise DataValidationError(f"{key}: not a field of {record.__tablename__}", field=key)
        setattr(record, key, value)
    tx.flush()
    return record


def remove(tx: Transaction, record: Record, *, expected_version: int) -> None:
    """Soft-delete ``record``: it stays in the database, marked removed, with the reason.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import AdverseEvent
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k", reason="entered for the wrong subject") as tx:
    ...     event = tx.session.scalars(select(AdverseEvent)).first()
    ...     remove(tx, event, expected_version=event.version)
    >>> event.deleted_at is not None
    True
    """
    if record.deleted_at is not None:
        raise RecordNotFoundError(f"{record.label} is already removed")
    update_record(
        tx, record, {"deleted_at": tx.session.info["at"]}, expected_version=expected_version
    )
