"""Files kept outside the database, each under its SHA-256: ``<root>/ab/abcdef…``.

A file is written to a temporary name in the same folder and moved into place in one
step, so its hash name never shows a partial file; the same content is kept once. The
database holds the hash (and the audit trail with it), so a file changed on disk is
found by hashing it again (``verify``).

Where the files live: ``PUSTULA_FILES_DIR`` when set; beside a SQLite database file,
``<database>.files``; for an in-memory database, a temporary folder that goes with it.
PostgreSQL needs the setting.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import URL

from pustula.errors import ConfigurationError, StoreError

__all__ = ["FileStore", "files_for"]

_HASH = re.compile(r"[0-9a-f]{64}")


class FileStore:
    """Content-addressed files under ``root``.

    Examples
    --------
    >>> files = FileStore(Path("photos"))
    >>> digest, created = files.put(b"pixels")
    >>> created, files.read(digest), files.verify(digest)
    (True, b'pixels', True)
    >>> files.put(b"pixels")[1]  # the same content is kept once
    False
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _HASH.fullmatch(sha256):
            raise StoreError(f"{sha256!r} is not a SHA-256 in hexadecimal")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> tuple[str, bool]:
        """Keep ``data``; returns its SHA-256 and whether this call created the file."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file() and self.verify(digest):
            return digest, False
        _place(target, lambda out: out.write(data))
        return digest, True

    def read(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"the file {sha256[:12]}… is missing from {self.root}") from exc

    def verify(self, sha256: str) -> bool:
        """Whether the file is there and still hashes to its name."""
        path = self.path(sha256)
        if not path.is_file():
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256

    def discard(self, sha256: str) -> None:
        """Remove a file this process just created and nothing refers to (a failed save)."""
        self.path(sha256).unlink(missing_ok=True)

    def hashes(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*")):
            if _HASH.fullmatch(path.name):
                yield path.name

    def copy_from(self, other: FileStore, sha256: str) -> bool:
        """Copy one file from ``other``, checking its hash on the way; whether it was
        copied (False: an intact copy was here already)."""
        if not other.verify(sha256):
            raise StoreError(f"the file {sha256[:12]}… in {other.root} is missing or altered")
        target = self.path(sha256)
        if target.is_file() and self.verify(sha256):
            return False
        with other.path(sha256).open("rb") as source:
            _place(target, lambda out: shutil.copyfileobj(source, out))
        return True


def _place(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file under a temporary name in its folder and move it into place whole, so
    that its hash name never shows a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def files_for(url: URL, setting: str | None) -> FileStore:
    """Where the store at ``url`` keeps its files (see the module's docstring)."""
    if setting:
        return FileStore(Path(setting))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            return FileStore(Path(f"{url.database}.files"))
        return FileStore(Path(tempfile.mkdtemp(prefix="pustula-files-")))
    raise ConfigurationError(
        "photographs are kept in a folder outside the database: set PUSTULA_FILES_DIR "
        "to a folder the web app can write and the backups can read"
    )
