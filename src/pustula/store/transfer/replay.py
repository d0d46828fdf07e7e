"""An imported casebook, replayed from the file its import kept (decision 0007).

The audit entry of a casebook imported from a kept file holds the file's hash, the
reader, the subject's code and source lines, the ids its records were given and the hash
of every value stored. Replaying it reads the kept file again with the same reader,
builds the casebook with the same checks, scores and automatic queries, gives the records
the same ids, and compares the hash: the values it gives are then what the audit trail
holds for those records, and the integrity check compares the tables with them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from pustula.errors import PustulaError
from pustula.protocol import Protocol
from pustula.store.audit.chain import CASEBOOK, part_records
from pustula.store.audit.sources import ImportSource, kept_source, reader_named
from pustula.store.db.hooks import REPLAYS
from pustula.store.records.study import protocol_from_text
from pustula.store.transfer.bulk import TABLE_ORDER, finish, stored_parts
from pustula.store.transfer.casebook_rows import build_casebook

__all__ = ["CasebookReplay"]

Records = list[tuple[str, dict[str, Any]]]
_DONE = object()


class _RefusedError(Exception):
    """The replay cannot give this casebook's values; the message says why."""


class CasebookReplay:
    """Replays imported casebooks' entries, reading each kept file once.

    ``sources`` and ``chunks`` are the kept files' rows by hash and their chunks by
    source id (:func:`pustula.store.audit.sources.load_sources`, or a bundle's tables).

    Examples
    --------
    >>> replay = CasebookReplay({}, {})
    >>> records, problems = replay.records(
    ...     {"id": 7, "at": "2026-01-01", "user": "dr.k", "new_value": '{"subject": '
    ...      '{"columns": ["id", "code"], "json": [], "rows": [[1, "S01"]]}}'}, {})
    >>> records, problems
    ([('subject', {'id': 1, 'code': 'S01'})], [])
    """

    def __init__(self, sources: Mapping[str, Any], chunks: Mapping[int, Any]) -> None:
        self._sources, self._chunks = sources, chunks
        self._files: dict[str, ImportSource] = {}
        self._read: dict[tuple[str, str], dict[str, Any]] = {}
        self._digests: dict[str, str] = {}
        self._site_ids: dict[int, dict[str, int]] = {}
        self._failed: dict[tuple[str, str], str] = {}
        #: the imported casebooks' entries by import (file, time), in order (prepare())
        self._members: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        self._running: dict[tuple[str, str], Iterator[None]] = {}
        self._ready: dict[int, Records | str] = {}

    def records(
        self, row: Mapping[str, Any], state: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> tuple[Records, list[str]]:
        """The (table, values) of each record a casebook entry ``row`` brought in, and the
        problems found; ``state`` is every record as the trail replays it up to ``row``."""
        entry = json.loads(row["new_value"]) if row["new_value"] else {}
        if "source" not in entry:  # an import that kept no file holds its values
            return part_records(entry), []
        try:
            group = (entry["source"], row["at"])
            if group in self._members:
                return self._from_group(group, row["id"], state), []
            return self._replayed(row, entry, state), []
        except _RefusedError as refusal:
            # the records are known to the trail, their values cannot be vouched for: one
            # problem for the casebook, not one more per record ("has no insert")
            known = [(table, {"id": i}) for table, runs in entry.get("ids", {}).items()
                     for i in _ids(runs)]  # fmt: skip
            return known, [f"audit entry {row['id']} (subject {entry.get('code')}'s imported "
                           f"casebook): {refusal}"]  # fmt: skip

    def prepare(self, rows: Iterable[Any]) -> None:
        """Note every imported casebook's entry of ``rows`` (the audit trail, in order), so
        that each import is replayed a part at a time, scored in bulk as it was imported,
        instead of casebook by casebook."""
        for row in rows:
            if row.action != CASEBOOK or not row.new_value or '"source"' not in row.new_value:
                continue
            entry = json.loads(row.new_value)
            self._members.setdefault((entry["source"], row.at), []).append((row.id, entry))

    def _from_group(
        self, group: tuple[str, str], entry_id: int,
        state: Mapping[tuple[str, int], Mapping[str, Any]],
    ) -> Records:  # fmt: skip
        """One entry's records from its import's replay, which advances a part at a time."""
        if group not in self._running:
            self._running[group] = self._replay_group(group, state)
        while entry_id not in self._ready:
            if next(self._running[group], _DONE) is _DONE and entry_id not in self._ready:
                raise _RefusedError("the kept file has fewer records than the import brought in")
        found = self._ready.pop(entry_id)
        if isinstance(found, str):
            raise _RefusedError(found)
        return found

    def _replay_group(
        self, group: tuple[str, str], state: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> Iterator[None]:
        """Replay one import from its kept file, a part of the file at a time."""
        members = self._members[group]
        first = members[0][1]
        try:
            protocol, study = self._protocol(first, state)
            source = self._source(first["source"])
            reader = reader_named(source.reader)
            parts = reader.parts(source.content, protocol, source.options)
            entries = iter(members)
            for part in parts:
                batch = list(itertools.islice(entries, len(part)))
                self._replay_part(part, batch, protocol, study, group[1], state)
                yield
        except (PustulaError, _RefusedError) as exc:
            reason = exc.message if isinstance(exc, PustulaError) else str(exc)
            for entry_id, _ in members:
                self._ready.setdefault(entry_id, reason)

    def _replay_part(
        self, part: Sequence[Any], batch: list[tuple[int, dict[str, Any]]], protocol: Protocol,
        study: int, at: str, state: Mapping[tuple[str, int], Mapping[str, Any]],
    ) -> None:  # fmt: skip
        """A part of the file against the entries of the same casebooks, in the same order."""
        if len(batch) < len(part):
            raise _RefusedError("the kept file has more records than the import brought in")
        for (entry_id, entry), item in zip(batch, part, strict=True):
            if item.code != entry["code"]:
                self._ready[entry_id] = f"the kept file has record {item.code} where the " \
                                        f"import had {entry['code']}"  # fmt: skip
        pairs = [(b, item) for b, item in zip(batch, part, strict=True) if b[0] not in self._ready]
        try:
            books = [build_casebook(item, protocol, self._sites(state, study, item))
                     for _, item in pairs]  # fmt: skip
            runs = {t: [r for (_, e), _ in pairs for r in e["ids"].get(t, [])] for t in TABLE_ORDER}
            ids = {table: _ids(r) for table, r in runs.items()}
            finish(books, protocol, study, at, lambda t, n: _take(ids, t, n))
        except (PustulaError, _RefusedError):
            # one casebook spoils the part: replay each alone to name it
            for (entry_id, entry), _ in pairs:
                row = {"id": entry_id, "at": at, "new_value": None}
                try:
                    self._ready[entry_id] = self._replayed(row, entry, state)
                except _RefusedError as refusal:
                    self._ready[entry_id] = str(refusal)
            return
        for ((entry_id, entry), _), stored in zip(pairs, stored_parts(books), strict=True):
            self._ready[entry_id] = self._checked(stored, entry)

    def _checked(self, stored: dict[str, Any], entry: Mapping[str, Any]) -> Records | str:
        if hashlib.sha256(orjson.dumps(stored)).hexdigest() != entry["values"]:
            return "the kept file, read again, gives other values than were stored"
        return part_records(json.loads(orjson.dumps(stored)))

    def _protocol(
        self, entry: Mapping[str, Any], state: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> tuple[Protocol, int]:
        study = state.get(("study", entry["study"]))
        if study is None:
            raise _RefusedError("its study is not in the audit trail")
        text = study["protocol_yaml"]
        if self._digest_of(text) != entry["protocol"]:
            raise _RefusedError("the study's protocol then is not the one the import used")
        return protocol_from_text(text, study["code"]), entry["study"]

    def _source(self, digest: str) -> ImportSource:
        if digest not in self._files:
            self._files[digest] = kept_source(self._sources, self._chunks, digest)
        return self._files[digest]

    def _replayed(
        self, row: Mapping[str, Any], entry: Mapping[str, Any],
        state: Mapping[tuple[str, int], Mapping[str, Any]],
    ) -> Records:  # fmt: skip
        protocol, _ = self._protocol(entry, state)
        subjects = self._subjects(entry["source"], protocol, entry["protocol"], entry.get("lines"))
        item = subjects.get(entry["code"])
        if item is None:
            raise _RefusedError(f"the kept file has no record {entry['code']}")
        try:
            book = build_casebook(item, protocol, self._sites(state, entry["study"], item))
            ids = {table: _ids(runs) for table, runs in entry["ids"].items()}
            finish([book], protocol, entry["study"], row["at"], lambda t, n: _take(ids, t, n))
        except PustulaError as exc:
            raise _RefusedError(
                f"the kept file no longer reads as it did ({exc.message})"
            ) from None
        checked = self._checked(stored_parts([book])[0], entry)
        if isinstance(checked, str):
            raise _RefusedError(checked)
        return checked

    def _digest_of(self, text: str) -> str:
        """The protocol's hash, computed once per protocol text, not once per casebook."""
        if text not in self._digests:
            self._digests[text] = hashlib.sha256(text.encode()).hexdigest()
        return self._digests[text]

    def _sites(
        self, state: Mapping[tuple[str, int], Mapping[str, Any]], study: int, item: Any
    ) -> dict[str, int]:
        """The study's sites by code; looked up again only when a casebook names a site
        not seen yet (the trail holds millions of records: one scan per casebook is too many)."""
        site = item.enrolment.get("site")
        known = self._site_ids.get(study, {})
        if site not in known:
            known = {v["code"]: key[1] for key, v in state.items()
                     if key[0] == "site" and v.get("study_id") == study}  # fmt: skip
            self._site_ids[study] = known
        return known

    def _subjects(
        self, digest: str, protocol: Protocol, protocol_digest: str, lines: list[list[int]] | None
    ) -> dict[str, Any]:
        """The kept file's subjects by code: all of them, read once per file, unless only
        one casebook is replayed (``lines`` given and the file not read yet)."""
        key = (digest, protocol_digest)
        if key in self._read:
            return self._read[key]
        if key in self._failed:  # a doctored file is read once, not once per casebook
            raise _RefusedError(self._failed[key])
        try:
            if self._partial is not None:  # one casebook's bytes: read them all
                source, spans = self._partial, None
            else:
                source = self._source(digest)
                spans = [(a, b) for a, b in lines] if lines and self._single else None
            read = reader_named(source.reader).read
            found = {s.code: s for s in read(source.content, protocol, source.options, spans)}
        except PustulaError as exc:
            self._failed[key] = exc.message
            raise _RefusedError(exc.message) from None
        if spans is None:
            self._read[key] = found
        return found

    #: Replaying one casebook (a record's history): read only its lines of the file.
    _single = False
    #: ... or only its bytes, already read (:meth:`from_bytes`).
    _partial: ImportSource | None = None

    @classmethod
    def from_bytes(cls, source: Mapping[str, Any], content: bytes) -> CasebookReplay:
        """A replay of a single casebook from its own bytes of the kept file (the header
        and its rows, :func:`~pustula.store.audit.sources.kept_bytes`); ``source`` is the
        file's ``import_source`` row. What it builds is checked against the hash of the
        values the import stored.

        Examples
        --------
        >>> replay = CasebookReplay.from_bytes(
        ...     {"name": "r.csv", "reader": "redcap-records", "options": {}}, b"record_id\\n")
        >>> replay._partial.name, replay._single
        ('r.csv', True)
        """
        replay = cls({}, {})
        replay._single = True
        replay._partial = ImportSource(source["name"], content, source["reader"],
                                       source["options"] or {})  # fmt: skip
        return replay

    @classmethod
    def for_one(cls, sources: Mapping[str, Any], chunks: Mapping[int, Any]) -> CasebookReplay:
        """A replay of a single casebook, which reads only its lines of the kept file.

        Examples
        --------
        >>> CasebookReplay.for_one({}, {})._single
        True
        """
        replay = cls(sources, chunks)
        replay._single = True
        return replay


def _ids(runs: list[list[int]]) -> Iterator[int]:
    for first, count in runs:
        yield from range(first, first + count)


def _take(ids: Mapping[str, Iterator[int]], table: str, n: int) -> list[int]:
    """The ``n`` ids the import gave ``table``'s records: exactly as many as it gave."""
    given = ids.get(table, iter(()))
    taken = list(itertools.islice(given, n))
    if len(taken) != n or next(given, None) is not None:
        raise _RefusedError(f"the kept file gives a different number of {table} records")
    return taken


REPLAYS["casebook"] = CasebookReplay
