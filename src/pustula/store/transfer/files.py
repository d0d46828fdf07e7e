"""The photographs' files in bundles and backups, checked by hash both ways.

A bundle holds them in ``files/`` (the same ``ab/abcdef…`` layout as the store), and its
signed manifest lists each one's SHA-256 and size; a backup keeps them in
``<backup>.files``. On the way in, every file must hash to its name, every photograph's
files must be there, and only then are they copied into the store: nothing of a bad
bundle lands, and the files a failed import copied are removed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from pustula.errors import ImportBundleError, StoreError
from pustula.store.db.models import Photograph
from pustula.store.files.blobs import FileStore

__all__ = ["FILES", "check_bundle_files", "copy_files_in", "referenced", "write_files"]

FILES = "files"


def referenced(connection: Connection) -> set[str]:
    """The hashes of every photograph's picture and thumbnail, removed ones included."""
    rows = connection.execute(select(Photograph.sha256, Photograph.thumbnail_sha256)).all()
    return {digest for row in rows for digest in row}


def referenced_in(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(r[c]) for r in rows for c in ("sha256", "thumbnail_sha256")}


def write_files(source: FileStore, digests: Iterable[str], folder: Path) -> dict[str, int]:
    """Copy the files into ``folder`` (checked on the way); their sizes by hash."""
    target = FileStore(folder)
    sizes = {}
    for digest in sorted(digests):
        target.copy_from(source, digest)
        sizes[digest] = target.path(digest).stat().st_size
    return sizes


def check_bundle_files(bundle: Path, listed: Mapping[str, int], needed: set[str]) -> None:
    """Every file the manifest lists is in the bundle and hashes to its name, and every
    photograph's files are listed."""
    folder = FileStore(bundle / FILES)
    missing = sorted(needed - set(listed))
    if missing:
        raise ImportBundleError(
            f"manifest.json: the photograph file {missing[0][:12]}… is not in the bundle",
            file="manifest.json",
        )
    for digest in sorted(listed):
        try:
            intact = folder.verify(digest)
        except StoreError as exc:  # a name that is no hash
            raise ImportBundleError(f"manifest.json: {digest!r} is not a file's SHA-256",
                                    file="manifest.json") from exc  # fmt: skip
        if not intact:
            raise ImportBundleError(
                f"{FILES}/{digest[:2]}/{digest}: missing, or not the file the manifest lists "
                "(its SHA-256 differs)",
                file=f"{FILES}/{digest[:2]}/{digest}",
            )


def copy_files_in(target: FileStore, bundle: Path, digests: Iterable[str]) -> list[str]:
    """Copy the bundle's files into the store; the hashes this call added (to remove
    again if the import then fails)."""
    source = FileStore(bundle / FILES)
    return [digest for digest in sorted(digests) if target.copy_from(source, digest)]
