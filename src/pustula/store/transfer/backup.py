"""Consistent online backups: SQLite's backup API, or ``pg_dump`` for PostgreSQL.

A backup never carries a secret beside it: the audit key stays with the installation
(a backup restores where it was made, or is moved as a signed bundle), and what goes
beside the backup is ``<backup>.sig``, the backup's SHA-256 signed with the
installation's Ed25519 key, which anyone can check and no one without the private key
can forge.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pustula.errors import AuditError, StoreError
from pustula.store.db.uow import Store
from pustula.store.files.blobs import FileStore
from pustula.store.keys.signing import trusted_keys, verify_signed
from pustula.store.transfer.files import referenced, write_files

__all__ = ["Drill", "backup", "backup_into", "restore", "restore_drill", "scheduled_backups"]


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sign_beside(store: Store, out: Path) -> Path:
    """``<backup>.sig``: the backup's name, SHA-256 and audit key id, signed."""
    document = {"backup": out.name, "sha256": _digest(out), "audit_key_id": store.audit_key.key_id}
    sig = out.with_name(out.name + ".sig")
    sig.write_text(json.dumps(store.signing_key.sign(document), indent=2) + "\n", "utf-8")
    return sig


def _check_beside(store: Store, path: Path, trust: Iterable[Path], accept_unverified: bool) -> str:
    """The backup's signature, checked before the backup is opened; returns the verdict's
    words for the audit trail."""
    sig = path.with_name(path.name + ".sig")
    try:
        document = json.loads(sig.read_text("utf-8")) if sig.is_file() else {}
    except (OSError, ValueError):
        document = {}  # unreadable: as good as no signature
    if not isinstance(document, dict):
        document = {}
    verdict = verify_signed(document, trusted_keys(store.signing_key, trust))
    if verdict.verified and document.get("sha256") != _digest(path):
        raise AuditError(f"{path} is not the file its signature covers: it changed since")
    if not verdict.verified and not accept_unverified:
        why = "it has no signature file beside it" if not sig.is_file() else verdict.reason
        raise AuditError(
            f"{path} cannot be verified: {why}. Restore a backup this installation signed, "
            "trust its writer's public key (--trust-key FILE), or accept it unverified "
            "(--accept-unverified; recorded in the audit trail)"
        )
    return verdict.reason


def backup(store: Store, target: str | Path) -> Path:
    """Write a backup of ``store`` to ``target`` while it stays in use.

    SQLite: a page-by-page copy through SQLite's online backup API, which is consistent
    even while others write. PostgreSQL: ``pg_dump`` in its custom format (restore with
    ``pg_restore``).

    Examples
    --------
    >>> written = backup(demo_store(), "before-lock.sqlite3")
    >>> written.name, written.with_suffix(".sqlite3.sig").exists()
    ('before-lock.sqlite3', True)
    """
    out = Path(target)
    if out.exists():
        raise StoreError(f"{out} already exists; choose a new file for the backup")
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise StoreError("an in-memory SQLite database cannot be backed up")
        with sqlite3.connect(url.database) as source, sqlite3.connect(out) as copy:
            source.backup(copy)
        copy.close()
        _copy_files(store, out)
        _sign_beside(store, out)
        return out
    if shutil.which("pg_dump") is None:
        raise StoreError("pg_dump is not installed; install PostgreSQL's client tools")
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    completed = subprocess.run(
        ["pg_dump", "--format=custom", f"--file={out}", f"--dbname={libpq_url}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise StoreError(f"pg_dump failed: {completed.stderr.strip().splitlines()[-1]}")
    _copy_files(store, out)
    _sign_beside(store, out)
    return out


def files_beside(backup_file: Path) -> FileStore:
    """Where a backup's photograph files are: ``<backup>.files``."""
    return FileStore(backup_file.with_name(backup_file.name + ".files"))


def _copy_files(store: Store, out: Path) -> None:
    """The photographs' files, read after the database copy: photographs are never deleted
    from the database, so every row in the copy finds its files (one saved meanwhile only
    adds a file the copy does not need)."""
    with store.engine.connect() as connection:
        digests = referenced(connection)
    if digests:
        write_files(store.files, digests, files_beside(out).root)


def restore(
    store: Store,
    source: str | Path,
    *,
    user: str,
    reason: str,
    trust: Iterable[Path] = (),
    accept_unverified: bool = False,
) -> dict[str, int]:
    """Restore a backup into the empty database of ``store``, after verifying it whole.

    ``source`` is a bundle folder (``pustula export``) or a SQLite backup file
    (``pustula backup``). A SQLite backup must carry a valid signature (``<backup>.sig``)
    by a trusted key, unless ``accept_unverified``, and must pass :func:`verify_store`
    with this installation's audit key before anything is written; a bundle passes every
    check of :func:`import_bundle`. The restore is audited with the reason. A PostgreSQL
    backup is restored with ``pg_restore`` into an empty database and checked with
    ``pustula audit verify``.

    Examples
    --------
    >>> from pustula.store import Store, backup
    >>> _ = backup(demo_store(), "nightly.sqlite3")
    >>> empty = Store.open("sqlite:///restored.sqlite3")
    >>> empty.create_schema()
    >>> counts = restore(empty, "nightly.sqlite3", user="dm", reason="restore drill")
    >>> counts["subject"]
    6
    """
    from pustula.errors import AuditError
    from pustula.store.audit.integrity import verify_store
    from pustula.store.transfer.bundle import export_bundle, import_bundle

    path = Path(source)
    if path.is_dir():
        return import_bundle(store, path, user=user, reason=reason, trust=trust,
                             accept_unverified=accept_unverified, action="restore")  # fmt: skip
    if not path.is_file():
        raise StoreError(f"{path} does not exist; give a backup file or a bundle folder")
    if path.read_bytes()[:16] != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} is not a SQLite backup; a PostgreSQL backup is restored with pg_restore "
            "into an empty database, then checked with `pustula audit verify`"
        )
    verdict = _check_beside(store, path, trust, accept_unverified)
    # the backup's chain is checked with this installation's key: no key travels with it
    backup_store = Store(
        Store.open(f"sqlite:///{path.resolve()}", must_exist=True).engine,
        audit_key=store.audit_key, signing_key=store.signing_key, files=files_beside(path),
    )  # fmt: skip
    try:
        report = verify_store(backup_store)
        if not report.ok:
            raise AuditError(
                f"the backup does not verify, so nothing was restored: {report.problem}"
            )
        with tempfile.TemporaryDirectory() as folder:
            export_bundle(backup_store, folder)
            return import_bundle(store, folder, user=user, reason=f"{reason} (backup: {verdict})",
                                 action="restore")  # fmt: skip
    finally:
        backup_store.dispose()


#: A scheduled backup's name: the time it was taken, in UTC, so that names sort by age.
_STAMP = "%Y%m%dT%H%M%SZ"
_SCHEDULED = re.compile(r"pustula-\d{8}T\d{6}Z\.(sqlite3|pgdump)")


def scheduled_backups(folder: Path) -> list[Path]:
    """The scheduled backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _SCHEDULED.fullmatch(p.name))


def backup_into(store: Store, folder: str | Path, *, keep: int) -> tuple[Path, list[Path]]:
    """A new backup in ``folder``, named by the time; then only the ``keep`` newest are
    kept (each with its signature and its photographs' files). Returns the new backup and
    the ones removed.

    Examples
    --------
    >>> store = demo_store()
    >>> written, removed = backup_into(store, "nightly", keep=7)
    >>> written.name.startswith("pustula-"), removed
    (True, [])
    """
    if keep < 1:
        raise StoreError("keep at least one backup")
    out_folder = Path(folder)
    out_folder.mkdir(parents=True, exist_ok=True)
    suffix = "sqlite3" if store.engine.url.get_backend_name() == "sqlite" else "pgdump"
    name = f"pustula-{datetime.now(UTC).strftime(_STAMP)}.{suffix}"
    if (out_folder / name).exists():  # two runs in one second: the second waits its turn
        time.sleep(1.1)
        name = f"pustula-{datetime.now(UTC).strftime(_STAMP)}.{suffix}"
    written = backup(store, out_folder / name)
    removed = []
    for old in scheduled_backups(out_folder)[:-keep]:
        old.unlink()
        old.with_name(old.name + ".sig").unlink(missing_ok=True)
        shutil.rmtree(files_beside(old).root, ignore_errors=True)
        removed.append(old)
    return written, removed


@dataclass(frozen=True)
class Drill:
    """What a restore drill did: the backup it took, what it restored, the verdict."""

    backup: Path
    audit_entries: int
    subjects: int
    photographs: int
    seconds: float
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_drill(store: Store, folder: str | Path, *, scratch_url: str | None = None) -> Drill:
    """Restore the newest scheduled backup in ``folder`` into a scratch database and verify
    it (chain, tables, photographs' files), as an auditor would ask to see done.

    A SQLite backup is restored into a temporary SQLite file; a ``pg_dump`` backup into
    ``scratch_url``, an empty PostgreSQL database that the drill may fill. Nothing is
    written to ``store``.
    """
    found = scheduled_backups(Path(folder))
    if not found:
        raise StoreError(f"{folder} holds no scheduled backup (pustula-<time>.sqlite3 or .pgdump)")
    latest, start = found[-1], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pustula-drill-") as scratch_dir:
        files = FileStore(Path(scratch_dir) / "files")
        if latest.suffix == ".sqlite3":
            scratch = Store(Store.open(f"sqlite:///{Path(scratch_dir) / 'drill.sqlite3'}").engine,
                            audit_key=store.audit_key, signing_key=store.signing_key,
                            files=files)  # fmt: skip
            try:
                scratch.create_schema()
                restore(scratch, latest, user="restore drill", reason="restore drill")
                return _drilled(scratch, latest, start)
            finally:
                scratch.dispose()
        if not scratch_url:
            raise StoreError(
                f"{latest.name} is a pg_dump backup: give an empty scratch PostgreSQL database "
                "(--scratch-url) to restore it into"
            )
        _pg_restore(latest, scratch_url)
        scratch = Store(Store.open(scratch_url, must_exist=True).engine,
                        audit_key=store.audit_key, signing_key=store.signing_key,
                        files=files_beside(latest))  # fmt: skip
        try:
            return _drilled(scratch, latest, start)
        finally:
            scratch.dispose()


def _pg_restore(dump: Path, url: str) -> None:
    if shutil.which("pg_restore") is None:
        raise StoreError("pg_restore is not installed; install PostgreSQL's client tools")
    from sqlalchemy.engine import make_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq}",
                           str(dump)], capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise StoreError(f"pg_restore failed: {done.stderr.strip().splitlines()[-1]}")


def _drilled(scratch: Store, latest: Path, start: float) -> Drill:
    from sqlalchemy import func, select

    from pustula.store.audit.integrity import verify_store
    from pustula.store.db.models import Photograph, Subject

    report = verify_store(scratch)
    with scratch.reader() as session:
        subjects = int(session.scalar(select(func.count()).select_from(Subject)) or 0)
        photographs = int(session.scalar(select(func.count()).select_from(Photograph)) or 0)
    return Drill(latest, report.entries, subjects, photographs, time.perf_counter() - start,
                 report.problems)  # fmt: skip
