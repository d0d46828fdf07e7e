"""Files kept by SHA-256: written whole or not at all, once per content, checked by hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import make_url

from pustula.errors import ConfigurationError, StoreError
from pustula.store.files.blobs import FileStore, files_for


def test_a_file_is_kept_under_its_hash_in_a_folder_of_its_first_two_digits(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    digest, created = files.put(b"a palm")
    assert digest == hashlib.sha256(b"a palm").hexdigest() and created
    assert files.path(digest) == tmp_path / digest[:2] / digest
    assert files.read(digest) == b"a palm" and list(files.hashes()) == [digest]
    assert not list(tmp_path.glob("*/.incoming-*"))  # no temporary file left behind


def test_an_altered_file_no_longer_verifies_and_is_rewritten_by_the_next_put(
    tmp_path: Path,
) -> None:
    files = FileStore(tmp_path)
    digest, _ = files.put(b"a sole")
    files.path(digest).write_bytes(b"doctored")
    assert not files.verify(digest)
    assert files.put(b"a sole") == (digest, True) and files.verify(digest)


def test_a_name_that_is_not_a_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        FileStore(tmp_path).path("../../etc/passwd")


def test_where_the_files_live(tmp_path: Path) -> None:
    beside = files_for(make_url(f"sqlite:///{tmp_path / 'study.sqlite3'}"), None)
    assert beside.root == tmp_path / "study.sqlite3.files"
    assert files_for(make_url("postgresql+psycopg://u@h/db"), "/srv/photos").root == Path(
        "/srv/photos"
    )
    with pytest.raises(ConfigurationError, match="PUSTULA_FILES_DIR"):
        files_for(make_url("postgresql+psycopg://u@h/db"), None)
