"""A REDCap records file read a part at a time: the import of a million rows without a
million rows of objects in memory.

A first pass reads only where each record's rows are (their lines, and where each line
starts in the text); then each part of the records, in the order they first appear, is
read with exactly the checks of :func:`~pustula.interop.redcap_records.parse_records`
from its own lines, and an error names the line of the whole file. The parts are imported
in one transaction (:func:`pustula.store.services.clinical.import_subjects`), so the
import stays all or nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from array import array
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from pustula.errors import DataValidationError
from pustula.interop.redcap_records import FieldMapping, _parse, not_utf8, read_source
from pustula.protocol import Protocol
from pustula.store.audit.sources import Reader
from pustula.store.services.clinical import ImportedSubject
from pustula.store.transfer.bulk import PART

__all__ = ["READER", "RecordStream", "stream_records"]


class RecordStream:
    """The subjects of a records file, a part at a time (``parts()``); ``count`` records.

    Examples
    --------
    >>> from pustula.interop.redcap_records import export_records
    >>> from pustula.store.services.clinical import casebooks, study_protocol
    >>> store = demo_store()
    >>> protocol = study_protocol(store)
    >>> text = export_records(casebooks(store), protocol)
    >>> mapping = FieldMapping.for_protocol(protocol)
    >>> stream = RecordStream(text.encode(), protocol, mapping, part=4)
    >>> stream.count, [[s.code for s in part] for part in stream.parts()]
    (6, [['S01', 'S02', 'S03', 'S04'], ['S05', 'S06']])
    >>> stream.visits
    24
    """

    def __init__(
        self, content: bytes, protocol: Protocol, mapping: FieldMapping, *, part: int = PART
    ) -> None:
        # the file's bytes, never a decoded copy of the whole: each part decodes its lines
        self._content = content
        self._protocol, self._mapping, self._part = protocol, mapping, part
        #: where each physical line starts in the bytes (and, last, where they end)
        self._starts = array("q")
        self._spans: dict[str, list[tuple[int, int]]] = {}
        self._index()
        self.count = len([code for code in self._spans if code])
        #: visits with a date read so far (all of them once every part was read)
        self.visits = 0

    def _lines(self) -> Iterator[str]:
        position = 0
        for number, line in enumerate(io.BytesIO(self._content), start=1):
            if number == 1 and line.startswith(BOM):  # not a copy of the file without it
                line, position = line[len(BOM) :], len(BOM)
            self._starts.append(position)
            position += len(line)
            yield _decoded(line, number)
        self._starts.append(position)

    def _index(self) -> None:
        reader = csv.reader(self._lines())
        header = [self._mapping.fields.get(c, c) for c in next(reader, [])]
        if "record_id" not in header:
            raise DataValidationError("the file has no `record_id` column: is it a REDCap export?")
        column = header.index("record_id")
        end = reader.line_num
        for values in reader:
            first, end = end + 1, reader.line_num
            if not values:
                continue
            # a row without a record id, or a broken one, goes with the first part, where
            # the full read names it with its line
            code = values[column].strip() if len(values) == len(header) else ""
            spans = self._spans.setdefault(code, [])
            if spans and spans[-1][1] + 1 == first:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((first, end))
        if "" in self._spans:  # first, so that the broken rows are read before anything else
            self._spans = {"": self._spans.pop(""), **self._spans}

    def parts(self) -> Iterator[list[ImportedSubject]]:
        """The subjects, ``part`` records at a time, in the order they first appear."""
        codes = iter(self._spans)
        while chunk := list(islice(codes, self._part)):
            spans = sorted(span for code in chunk for span in self._spans[code])
            line_of = [1, *(n for a, b in spans for n in range(a, b + 1))]
            starts, content = self._starts, self._content
            lines = b"".join(content[starts[a - 1] : starts[b]] for a, b in spans)
            header = content[starts[0] : starts[1]]
            text = (header + lines).decode("utf-8")
            subjects = [
                dataclasses.replace(s, spans=(
                    (starts[0], starts[1]), *((starts[a - 1], starts[b]) for a, b in s.lines)))
                for s in _parse(text, self._protocol, self._mapping, line_of)
            ]  # fmt: skip
            self.visits += sum(len(s.visits) for s in subjects)
            yield subjects


BOM = b"\xef\xbb\xbf"


def _decoded(line: bytes, number: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8(number) from None


def stream_records(content: bytes, protocol: Protocol, options: Mapping[str, Any]) -> RecordStream:
    """A kept records file (bytes, reader options) as a :class:`RecordStream`.

    Examples
    --------
    >>> from pustula.store.services.clinical import study_protocol
    >>> stream_records(b"record_id\\n", study_protocol(demo_store()), {}).count
    0
    """
    mapping = FieldMapping.for_protocol(protocol, options.get("mapping"))
    return RecordStream(content, protocol, mapping)


#: The ``redcap-records`` reader of kept files (``pustula.import_readers``).
READER = Reader(read_source, stream_records)
