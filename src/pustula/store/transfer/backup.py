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
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pustula.errors import AuditError, StoreError
from pustula.store.db.uow import Store
from pustula.store.files.blobs import FileStore
from pustula.store.keys.signing import trusted_keys, verify_signed
from pustula.store.transfer.files import referenced, write_files

__all__ = ["backup", "restore"]


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
