"""Doctored bundles and backups, as an attacker would make them (the outside check's
variants): each is refused, or let in only by an explicit option that the audit trail
records. Ed25519 signatures by an installation's private key; trust by public key.

- an unsigned bundle whose lab value and audit row were changed together (and the
  manifest's checksums recomputed): refused; accepted only with ``accept_unverified``,
  and then the import's audit entry says so;
- a signed bundle with the same edit: refused, with or without the option;
- the edit re-signed with another key (the attacker's own): refused as untrusted;
- a backup: no secret key beside it; altered after it was signed, or without its
  signature file, refused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import AuditError, ImportBundleError
from pustula.store import Store, backup, export_bundle, import_bundle, restore
from pustula.store.keys.signing import new_private_pem, read_private_key
from tests.store.helpers import audit_count


@pytest.fixture
def source(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    store.create_schema()
    create_demo_study(store)
    return store


@pytest.fixture
def target(tmp_path: Path, source: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Another installation (its own audit key), so that only the bundle's chain links can
    be checked there: the case in which a doctored trail went unnoticed."""
    assert source.audit_key  # the source keeps the run's key
    monkeypatch.setenv("PUSTULA_AUDIT_KEY", "another-installation-audit-key-" + "3" * 40)
    store = Store.open(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    store.create_schema()
    return store


def _doctor(bundle: Path) -> None:
    """Lab 1's value changed in lab.csv *and* in its audit row, checksums recomputed: a
    bundle whose data still match its own trail."""
    for table in ("lab", "audit_log"):
        path = bundle / f"{table}.csv"
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        for row in rows[1:]:
            if table == "lab" and row[header.index("id")] == "1":
                row[header.index("value")] = "950.0"
            if (table == "audit_log" and row[header.index("table_name")] == "lab"
                    and row[header.index("record_id")] == "1"):  # fmt: skip
                created = json.loads(row[header.index("new_value")])  # the insert's values
                row[header.index("new_value")] = json.dumps({**created, "value": 950.0},
                                                            sort_keys=True)  # fmt: skip
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for table in ("lab", "audit_log"):
        data = (bundle / f"{table}.csv").read_bytes()
        manifest["tables"][table]["sha256"] = hashlib.sha256(data).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def doctored(source: Store, tmp_path: Path) -> Path:
    """The source exported as a signed bundle, then doctored (:func:`_doctor`)."""
    bundle = tmp_path / "bundle"
    export_bundle(source, bundle)
    _doctor(bundle)
    return bundle


def _unsigned(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest.pop("signature")
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_an_unsigned_doctored_bundle_is_refused_and_let_in_only_as_unverified(
    doctored: Path, target: Store, tmp_path: Path
) -> None:
    bundle = doctored
    _unsigned(bundle)
    with pytest.raises(ImportBundleError, match="cannot be verified: it is not signed"):
        import_bundle(target, bundle, user="u", reason="r")
    assert audit_count(target) == 0
    import_bundle(target, bundle, user="u", reason="from a USB stick", accept_unverified=True)
    with target.reader() as session:
        from sqlalchemy import select

        from pustula.store.db.models import AuditLog

        last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last is not None and last.action == "import"
    provenance = json.loads(last.new_value)
    assert provenance["verified"] is False and provenance["signature"] == "it is not signed"


def test_a_signed_bundle_changed_after_signing_is_refused_even_with_the_option(
    doctored: Path, target: Store, tmp_path: Path
) -> None:
    bundle = doctored  # the signature is kept; the checksums it covers changed
    for accept in (False, True):
        with pytest.raises(ImportBundleError, match="does not verify: something in it changed"):
            import_bundle(target, bundle, user="u", reason="r", accept_unverified=accept)
    assert audit_count(target) == 0


def test_a_bundle_re_signed_with_another_key_is_refused_as_untrusted(
    doctored: Path, target: Store, tmp_path: Path
) -> None:
    bundle = doctored
    attacker = tmp_path / "attacker.pem"
    attacker.write_bytes(new_private_pem())
    key = read_private_key(attacker)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps(key.sign(manifest)))
    with pytest.raises(
        ImportBundleError, match=f"signed by key {key.key_id}, which is not trusted"
    ):
        import_bundle(target, bundle, user="u", reason="r")
    assert audit_count(target) == 0


def test_a_backup_carries_no_secret_and_a_changed_one_is_refused(
    source: Store, tmp_path: Path
) -> None:
    target = Store.open(f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}")  # the same installation
    target.create_schema()
    out = backup(source, tmp_path / "copy.sqlite3")
    beside = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy.sqlite3"))
    assert beside == ["copy.sqlite3", "copy.sqlite3.sig"]  # no .audit-key, no private key
    signature = json.loads((tmp_path / "copy.sqlite3.sig").read_text())
    assert "BEGIN" not in json.dumps(signature) and os.environ["PUSTULA_AUDIT_KEY"] not in (
        json.dumps(signature)
    )
    data = bytearray(out.read_bytes())
    data[-100] ^= 0xFF  # a byte changed after signing
    changed = tmp_path / "changed.sqlite3"
    changed.write_bytes(bytes(data))
    (tmp_path / "changed.sqlite3.sig").write_text(json.dumps({**signature, "backup": "changed"}))
    with pytest.raises(AuditError, match=r"does not verify|not the file its signature covers"):
        restore(target, changed, user="u", reason="r")
    unsigned = tmp_path / "unsigned.sqlite3"
    unsigned.write_bytes(out.read_bytes())
    with pytest.raises(AuditError, match="cannot be verified: it has no signature file"):
        restore(target, unsigned, user="u", reason="r")
    (tmp_path / "unsigned.sqlite3.sig").write_text("{not json")  # a damaged signature file
    with pytest.raises(AuditError, match="cannot be verified: it is not signed"):
        restore(target, unsigned, user="u", reason="r")
    assert audit_count(target) == 0
    assert restore(target, out, user="u", reason="disk failure")["lab"] == 72


def test_a_new_sqlite_database_gets_its_keys_beside_it_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUSTULA_AUDIT_KEY", raising=False)
    monkeypatch.delenv("PUSTULA_SIGNING_KEY_FILE", raising=False)
    store = Store.open(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    store.create_schema()
    key_id, audit_id = store.signing_key.key_id, store.audit_key.key_id  # made when first asked
    for suffix in (".audit-key", ".signing-key"):
        path = tmp_path / f"new.sqlite3{suffix}"
        assert path.is_file() and path.stat().st_mode & 0o777 == 0o600, suffix
    again = Store.open(f"sqlite:///{tmp_path / 'new.sqlite3'}")  # the same keys next time
    assert (again.signing_key.key_id, again.audit_key.key_id) == (key_id, audit_id)
