"""The files imports read, kept content-addressed as the audit trail's evidence: every
imported value can be replayed from them (decision 0007).

An import names its file as an :class:`ImportSource`: the bytes, the reader that parses
them and the reader's options (a REDCap field mapping, for example). The store keeps the
bytes compressed in the database, so they travel with backups and bundles, and each
imported casebook's audit entry names the file's SHA-256. Readers are found by name among
the ``pustula.import_readers`` entry points: the formats live in :mod:`pustula.interop`,
above the store, and are plugged in, not imported.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import Connection, insert, select

from pustula.errors import AuditError
from pustula.protocol import Protocol
from pustula.store.db.models import ImportSource as SourceRow
from pustula.store.db.models import ImportSourceChunk

__all__ = [
    "PART", "ImportSource", "Reader", "in_parts", "keep_source", "kept_bytes", "kept_source",
    "load_sources", "reader_named",
]  # fmt: skip

#: Bytes of the file per stored chunk (before compression).
CHUNK = 1 << 20
#: Reads a kept file: (bytes, protocol, options, line spans or None) -> the subjects to
#: enrol. With spans, only those lines (and the header) are read: one casebook's rows.
ReadFile = Callable[
    [bytes, Protocol, Mapping[str, Any], Sequence[tuple[int, int]] | None], list[Any]
]
#: Reads a kept file a part at a time: (bytes, protocol, options) -> an object whose
#: ``parts()`` gives the subjects in the order the file has them.
StreamFile = Callable[[bytes, Protocol, Mapping[str, Any]], Any]
#: Subjects read, built, checked and written together by an import (and its replay).
PART = 5_000


def in_parts(items: Sequence[Any], size: int = PART) -> Iterator[Sequence[Any]]:
    """``items`` cut into consecutive parts of ``size``.

    Examples
    --------
    >>> [list(part) for part in in_parts([1, 2, 3], 2)]
    [[1, 2], [3]]
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Reader:
    """How a kind of import file is read: whole or by lines, and, for large files, a part
    at a time (a ``pustula.import_readers`` entry point names one).

    Examples
    --------
    >>> reader = Reader(lambda content, protocol, options, lines: list(content.split()))
    >>> [list(part) for part in reader.parts(b"a b c", None, {}, size=2)]
    [[b'a', b'b'], [b'c']]
    """

    read: ReadFile
    stream: StreamFile | None = None

    def parts(
        self, content: bytes, protocol: Any, options: Mapping[str, Any], *, size: int = PART
    ) -> Iterator[Sequence[Any]]:
        """The file's subjects, a part at a time, in the order the file has them."""
        if self.stream is not None:
            yield from self.stream(content, protocol, options).parts()
            return
        yield from in_parts(self.read(content, protocol, options, None), size)


@dataclass(frozen=True)
class ImportSource:
    """A file an import reads: its name (or address), bytes, reader and options.

    Examples
    --------
    >>> source = ImportSource("records.csv", b"record_id\\n", "redcap-records")
    >>> source.sha256[:12], source.size
    ('8c7784e06705', 10)
    """

    name: str
    content: bytes = field(repr=False)
    reader: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


def keep_source(connection: Connection, source: ImportSource, *, at: str, user: str) -> str:
    """Store ``source``'s bytes unless a file with the same hash is kept already; its hash.

    Examples
    --------
    >>> store = demo_store()
    >>> source = ImportSource("records.csv", b"record_id\\nS99\\n", "redcap-records")
    >>> with store.engine.begin() as connection:
    ...     digest = keep_source(connection, source, at="2026-12-04T10:00:00", user="dm")
    ...     again = keep_source(connection, source, at="2026-12-04T11:00:00", user="dm")
    >>> digest == again == source.sha256
    True
    >>> with store.engine.connect() as connection:
    ...     kept_source(*load_sources(connection), digest).content
    ...     kept_bytes(connection, digest, [(0, 10), (10, 14)])
    b'record_id\\nS99\\n'
    b'record_id\\nS99\\n'
    """
    digest = source.sha256
    if connection.scalar(select(SourceRow.id).where(SourceRow.sha256 == digest)) is not None:
        return digest
    source_id = connection.execute(
        insert(SourceRow).returning(SourceRow.id),
        {"sha256": digest, "name": source.name[:500], "reader": source.reader,
         "options": dict(source.options), "size": source.size, "imported_at": at,
         "imported_by": user},
    ).scalar_one()  # fmt: skip
    content = source.content
    connection.execute(insert(ImportSourceChunk), [
        {"source_id": source_id, "seq": seq,
         "data": base64.b64encode(zlib.compress(content[start : start + CHUNK], 6)).decode()}
        for seq, start in enumerate(range(0, max(len(content), 1), CHUNK))
    ])  # fmt: skip
    return digest


def kept_source(
    sources: Mapping[str, Mapping[str, Any]],
    chunks: Mapping[int, Sequence[str]],
    digest: str,
) -> ImportSource:
    """The kept file with hash ``digest``, from the ``import_source`` rows (by hash) and
    their chunks (by source id, in order); refused if it is missing or its bytes changed.

    Examples
    --------
    >>> kept_source({}, {}, "ab" * 32)
    Traceback (most recent call last):
    pustula.errors.AuditError: the file an import read (SHA-256 abababababab…) is not kept ...
    """
    row = sources.get(digest)
    if row is None:
        raise AuditError(f"the file an import read (SHA-256 {digest[:12]}…) is not kept in "
                         "the database")  # fmt: skip
    try:
        content = b"".join(zlib.decompress(base64.b64decode(c)) for c in chunks[row["id"]])
    except (KeyError, ValueError, zlib.error):
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != digest:
        raise AuditError(f"the kept file {row['name']} (SHA-256 {digest[:12]}…) was changed "
                         "after it was imported")  # fmt: skip
    return ImportSource(row["name"], content, row["reader"], row["options"] or {})


def load_sources(
    connection: Connection, digest: str | None = None
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """The kept files' rows (by hash) and chunks (by source id), every file's or only the
    one with hash ``digest``, for :func:`kept_source`."""
    query = select(SourceRow)
    if digest is not None:
        query = query.where(SourceRow.sha256 == digest)
    sources = {r.sha256: dict(r._mapping) for r in connection.execute(query)}
    chunks: dict[int, list[str]] = {}
    pieces = select(ImportSourceChunk.source_id, ImportSourceChunk.data).order_by(
        ImportSourceChunk.source_id, ImportSourceChunk.seq
    )
    if digest is not None:
        pieces = pieces.where(ImportSourceChunk.source_id.in_([r["id"] for r in sources.values()]))
    for source_id, data in connection.execute(pieces):
        chunks.setdefault(source_id, []).append(data)
    return sources, chunks


def kept_bytes(connection: Connection, digest: str, spans: Sequence[Sequence[int]]) -> bytes:
    """The bytes of a kept file at ``spans`` ((start, end) offsets), joined, reading only
    the pieces that hold them: one casebook of a large file, not the whole file.

    They are not checked against the file's hash (only the whole file can be): a caller
    checks what it builds from them against the hash of the values the import stored.
    """
    needed = sorted({k for start, end in spans if end > start
                     for k in range(start // CHUNK, (end - 1) // CHUNK + 1)})  # fmt: skip
    query = (
        select(ImportSourceChunk.seq, ImportSourceChunk.data)
        .join(SourceRow, SourceRow.id == ImportSourceChunk.source_id)
        .where(SourceRow.sha256 == digest, ImportSourceChunk.seq.in_(needed))
    )
    try:
        pieces = {seq: zlib.decompress(base64.b64decode(data))
                  for seq, data in connection.execute(query)}  # fmt: skip
        return b"".join(
            pieces[k][max(start - k * CHUNK, 0) : end - k * CHUNK]
            for start, end in spans
            for k in range(start // CHUNK, (end - 1) // CHUNK + 1)
            if end > start
        )
    except (KeyError, ValueError, zlib.error):
        raise AuditError(f"the kept file (SHA-256 {digest[:12]}…) is damaged") from None


def reader_named(name: str) -> Reader:
    """The reader registered as ``name`` (a ``pustula.import_readers`` entry point).

    Examples
    --------
    >>> reader_named("redcap-records").stream is not None   # large files, a part at a time
    True
    """
    found = entry_points(group="pustula.import_readers", name=name)
    if not found:
        raise AuditError(f"no reader for imports of kind `{name}` is installed")
    reader = next(iter(found)).load()
    if not isinstance(reader, Reader):
        raise AuditError(f"the reader installed for `{name}` is not a pustula Reader")
    return reader
