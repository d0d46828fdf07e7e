"""The chain's pure rules, row by row: what mutation testing of store/audit/chain.py found
unasserted (docs/mutation.md). Rows are plain objects, so each rule is seen on its own."""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any

import pytest

from pustula.store.audit.chain import GENESIS_HASH, resign, secret_digest, verify_chain
from pustula.store.keys.audit_key import AuditKey

KEY = AuditKey(b"k" * 32, "test")
OTHER = AuditKey(b"o" * 32, "other")


def _rows(n: int = 3) -> list[dict[str, Any]]:
    return [
        {"id": i, "at": f"2024-03-0{i}T10:00:00+00:00", "user": "dr.k", "action": "update",
         "table_name": "lab", "record_id": 7, "field": "value", "old_value": str(i),
         "new_value": str(i + 1), "reason": f"correction {i}", "prev_hash": "", "hash": ""}
        for i in range(1, n + 1)
    ]  # fmt: skip


def _signed(n: int = 3) -> tuple[list[SimpleNamespace], str]:
    rows = _rows(n)
    last = resign(rows, KEY)
    return [SimpleNamespace(**r) for r in rows], last


def test_the_digest_is_hmac_sha256_of_the_row_as_json_by_hand() -> None:
    rows, last = _signed(1)
    content = [1, "2024-03-01T10:00:00+00:00", "dr.k", "update", "lab", 7, "value", "1", "2",
               "correction 1", GENESIS_HASH]  # fmt: skip
    message = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    assert rows[0].hash == last == hmac.new(b"k" * 32, message, hashlib.sha256).hexdigest()
    assert rows[0].prev_hash == GENESIS_HASH


def test_resigned_rows_verify_and_link() -> None:
    rows, last = _signed()
    report = verify_chain(rows, KEY, head=(3, last))
    assert (report.entries, report.last_hash, report.problems) == (3, last, ())
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


@pytest.mark.parametrize("column", ["at", "user", "action", "table_name", "record_id", "field",
                                    "old_value", "new_value", "reason"])  # fmt: skip
def test_every_signed_column_of_a_resigned_row_is_covered(column: str) -> None:
    rows, last = _signed()
    setattr(rows[1], column, "doctored" if column != "record_id" else 8)
    report = verify_chain(rows, KEY, head=(3, last))
    assert report.problems == ("audit row 2 was altered after it was written",)
    assert (report.row, report.entries, report.last_hash) == (2, 1, rows[0].hash)


def test_another_key_does_not_verify_but_links_only_does() -> None:
    rows, last = _signed()
    assert verify_chain(rows, OTHER, head=(3, last)).problems == (
        "audit row 1 was altered after it was written",
    )
    assert verify_chain(rows, OTHER, head=(3, last), links_only=True).problems == ()


def test_a_missing_row_and_a_broken_link_are_named() -> None:
    rows, last = _signed()
    gap = verify_chain([rows[0], rows[2]], KEY, head=(3, last))
    assert (gap.problems, gap.row, gap.entries) == (("audit row 2 is missing (found 3)",), 2, 1)
    rows[2].prev_hash = "0" * 64
    broken = verify_chain(rows, KEY, head=(3, last))
    assert broken.problems == ("audit row 3: link to the previous row broken",)
    assert (broken.row, broken.entries, broken.last_hash) == (3, 2, rows[1].hash)


@pytest.mark.parametrize(
    "head", [(2, "keep"), (3, "0" * 64), (4, "keep")], ids=["count", "hash", "count-up"]
)
def test_the_head_must_match_in_count_and_in_hash(head: tuple[int, str]) -> None:
    rows, last = _signed()
    head = (head[0], last if head[1] == "keep" else head[1])
    report = verify_chain(rows, KEY, head=head)
    assert report.problems == ("audit rows after the last one verified were removed",)
    assert (report.entries, report.last_hash) == (3, last)


def test_no_head_checks_the_rows_alone() -> None:
    rows, _ = _signed()
    assert verify_chain(rows[:2], KEY, head=None).problems == ()


def test_a_secret_is_kept_as_a_keyed_digest_by_hand() -> None:
    expected = hmac.new(
        b"k" * 32, b"pustula secret column\0" + b"argon2$hash", hashlib.sha256
    ).hexdigest()[:32]
    assert secret_digest(KEY, "argon2$hash") == "hmac:" + expected
    assert secret_digest(KEY, None) is None
    assert secret_digest(OTHER, "argon2$hash") != secret_digest(KEY, "argon2$hash")
    assert (
        secret_digest(KEY, "é")
        == "hmac:"
        + hmac.new(
            b"k" * 32, b"pustula secret column\0" + "é".encode(), hashlib.sha256
        ).hexdigest()[:32]
    )
