"""Photographs in the store: kept clean under their hash with the hash in the audit trail,
nothing half-stored when a save is refused, removed with a reason, compared across visits
beside the region's PPPASI, queried and verified like any record, and carried whole by
bundles, backups and restores (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from pustula.demo import create_demo_study
from pustula.errors import (
    DataValidationError,
    ImportBundleError,
    LockedError,
    PhotoError,
    ReasonRequiredError,
    RecordNotFoundError,
)
from pustula.store import Store, backup, export_bundle, import_bundle, restore, verify_store
from pustula.store.db.models import AuditLog, Photograph, Subject, Visit
from pustula.store.files.images import metadata_of
from pustula.store.services import monitoring as monitor
from pustula.store.services.photos import (
    compare_region,
    photo_file,
    photographs_of,
    region_maximum,
    remove_photograph,
    upload_photograph,
)
from tests.photos import hostile_files, phone_jpeg, png


@pytest.fixture
def demo(store: Store) -> Store:
    create_demo_study(store)
    return store


def _visit(store: Store, code: str, visit_code: str) -> int:
    with store.reader() as session:
        return session.scalars(select(Visit.id).join(Subject, Subject.id == Visit.subject_id)
                               .where(Subject.code == code, Visit.visit_code == visit_code)).one()  # fmt: skip


def _kept_files(store: Store) -> list[str]:
    return list(store.files.hashes())


def test_an_upload_is_kept_clean_under_its_hash_and_the_hash_is_in_the_audit_trail(
    demo: Store,
) -> None:
    raw = phone_jpeg(800, 600)
    view = upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                             region="right_palm", data=raw)  # fmt: skip
    assert (view.region_label, view.visit_label, view.width, view.height) == (
        "Right palm", "Week 0", 600, 800)  # turned upright  # fmt: skip
    picture = photo_file(demo, "S01", view.id)
    assert hashlib.sha256(picture.data).hexdigest() == view.sha256 == picture.sha256
    assert metadata_of(picture.data)["exif"] == {} and b"PhoneMaker" not in picture.data
    assert photo_file(demo, "S01", view.id, thumbnail=True).media_type == "image/jpeg"
    with demo.reader() as session:
        trail = [r.new_value for r in session.scalars(
            select(AuditLog).where(AuditLog.table_name == "photograph"))]  # fmt: skip
        row = session.get_one(Photograph, view.id)
    assert any(view.sha256 in str(value) for value in trail)
    assert row.received_sha256 == hashlib.sha256(raw).hexdigest()
    assert sorted(_kept_files(demo)) == sorted({row.sha256, row.thumbnail_sha256})
    assert verify_store(demo).ok


def test_a_photograph_of_another_subjects_visit_or_of_no_region_is_refused_and_nothing_kept(
    demo: Store,
) -> None:
    with pytest.raises(RecordNotFoundError):
        upload_photograph(demo, "coordinator", "S01", _visit(demo, "S02", "W0"),
                          region="right_palm", data=phone_jpeg())  # fmt: skip
    with pytest.raises(DataValidationError) as refused:
        upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                          region="elbow", data=phone_jpeg())  # fmt: skip
    assert refused.value.field == "region"
    assert _kept_files(demo) == [] and photographs_of(demo, "S01") == []


def test_a_locked_subject_takes_no_photograph_and_no_file_is_left(demo: Store) -> None:
    monitor.lock(demo, "dm", reason="analysis", subject="S01")
    with pytest.raises(LockedError):
        upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                          region="right_palm", data=phone_jpeg())  # fmt: skip
    assert _kept_files(demo) == []


def test_hostile_files_are_refused_and_leave_no_row_and_no_file(demo: Store) -> None:
    visit = _visit(demo, "S01", "W0")
    refused = 0
    for _what, data in hostile_files():
        with pytest.raises(PhotoError):
            upload_photograph(demo, "coordinator", "S01", visit, region="left_sole", data=data)
        refused += 1
    assert refused > 100
    assert _kept_files(demo) == [] and photographs_of(demo, "S01") == []


def test_a_removed_photograph_needs_a_reason_stays_for_the_audit_and_leaves_the_views(
    demo: Store,
) -> None:
    view = upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                             region="left_palm", data=phone_jpeg())  # fmt: skip
    with pytest.raises((DataValidationError, ReasonRequiredError)):
        remove_photograph(demo, "coordinator", "S01", view.id, reason=" ", expected_version=1)
    remove_photograph(demo, "coordinator", "S01", view.id,
                      reason="photographed the wrong hand", expected_version=1)  # fmt: skip
    assert photographs_of(demo, "S01") == []
    with pytest.raises(RecordNotFoundError):
        photo_file(demo, "S01", view.id)
    with demo.reader() as session:
        row = session.get_one(Photograph, view.id)
        reasons = [r.reason for r in session.scalars(
            select(AuditLog).where(AuditLog.table_name == "photograph"))]  # fmt: skip
    assert row.deleted_at and row.removed_reason == "photographed the wrong hand"
    assert "photographed the wrong hand" in reasons
    assert demo.files.verify(row.sha256)  # the file stays for the audit


def test_the_comparison_shows_a_region_across_visits_beside_its_pppasi(demo: Store) -> None:
    for visit in ("W12", "W0", "W4"):
        upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", visit),
                          region="right_palm", data=png(40, 30, mode="RGB"))  # fmt: skip
    upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                      region="left_sole", data=phone_jpeg())  # fmt: skip
    compared = compare_region(demo, "S01", "right_palm")
    assert [c.visit_label for c in compared] == ["Week 0", "Week 4", "Week 12"]
    week0 = compared[0]
    # the demo's S01 at week 0, right palm: erythema 3, pustules 3, desquamation 2, area 40 %
    # (area score 3: 30 to < 50 %); subscore (3 + 3 + 2) x 3 x 0.2 = 4.8
    assert week0.signs == {"Erythema": "3", "Pustules": "3", "Desquamation": "2", "Area": "40 %"}
    assert week0.subscore == pytest.approx(4.8)
    assert all(len(c.photographs) == 1 for c in compared)
    assert region_maximum("right_palm") == 14.4 and region_maximum("left_sole") == 21.6


def test_a_photograph_is_queried_and_source_verified_like_any_record(demo: Store) -> None:
    view = upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                             region="right_sole", data=phone_jpeg())  # fmt: skip
    query = monitor.raise_query(demo, "monitor", "S01", table="photograph", record_id=view.id,
                                field="region", text="Is this the right sole?")  # fmt: skip
    assert query.table_name == "photograph"
    monitor.close_query(demo, "monitor", query.id, "Checked against the source")
    done = monitor.verify_records(demo, "monitor", "S01", [("photograph", view.id)])
    assert done.verified == 1 and not done.left


def test_a_bundle_carries_every_photograph_byte_for_byte(demo: Store, tmp_path: Path) -> None:
    views = [upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", v),
                               region="right_palm", data=phone_jpeg(320 + i, 240))
             for i, v in enumerate(("W0", "W4"))]  # fmt: skip
    remove_photograph(demo, "coordinator", "S01", views[1].id, reason="blurred",
                      expected_version=1)  # fmt: skip
    export_bundle(demo, tmp_path / "bundle")
    copy = Store.open(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    copy.create_schema()
    import_bundle(copy, tmp_path / "bundle", user="dm", reason="copy")
    assert sorted(copy.files.hashes()) == sorted(demo.files.hashes())
    for digest in demo.files.hashes():
        assert copy.files.read(digest) == demo.files.read(digest)
    assert [p.id for p in photographs_of(copy, "S01")] == [views[0].id]
    assert verify_store(copy).ok
    copy.dispose()


def test_a_bundle_with_an_altered_photograph_imports_nothing(demo: Store, tmp_path: Path) -> None:
    view = upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                             region="right_palm", data=phone_jpeg())  # fmt: skip
    export_bundle(demo, tmp_path / "bundle")
    kept = tmp_path / "bundle" / "files" / view.sha256[:2] / view.sha256
    kept.write_bytes(kept.read_bytes()[:-10] + b"0123456789")
    copy = Store.open(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    copy.create_schema()
    with pytest.raises(ImportBundleError, match="SHA-256 differs"):
        import_bundle(copy, tmp_path / "bundle", user="dm", reason="copy")
    assert list(copy.files.hashes()) == []
    with copy.reader() as session:
        assert session.scalars(select(Photograph)).first() is None
    copy.dispose()


def test_a_bundle_whose_manifest_leaves_out_a_photograph_imports_nothing(
    demo: Store, tmp_path: Path
) -> None:
    upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                      region="right_palm", data=phone_jpeg())  # fmt: skip
    export_bundle(demo, tmp_path / "bundle")
    shutil.rmtree(tmp_path / "bundle" / "files")
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    manifest["files"] = {}
    (tmp_path / "bundle" / "manifest.json").write_text(json.dumps(manifest))
    copy = Store.open(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    copy.create_schema()
    with pytest.raises(ImportBundleError):
        import_bundle(copy, tmp_path / "bundle", user="dm", reason="copy",
                      accept_unverified=True)  # fmt: skip
    assert list(copy.files.hashes()) == []
    copy.dispose()


def test_audit_verify_finds_a_photograph_altered_or_missing_on_disk(demo: Store) -> None:
    view = upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W0"),
                             region="right_palm", data=phone_jpeg())  # fmt: skip
    demo.files.path(view.sha256).write_bytes(b"doctored")
    report = verify_store(demo)
    assert not report.ok and any("photograph" in p and "altered" in p for p in report.problems)


def test_backup_and_restore_return_every_photograph_byte_for_byte(tmp_path: Path) -> None:
    source = Store.open(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    source.create_schema()
    create_demo_study(source)
    for i, region in enumerate(("right_palm", "left_palm", "right_sole", "left_sole")):
        upload_photograph(source, "coordinator", "S02", _visit(source, "S02", "W4"),
                          region=region, data=phone_jpeg(300 + i, 200))  # fmt: skip
    written = backup(source, tmp_path / "nightly.sqlite3")
    assert (tmp_path / "nightly.sqlite3.files").is_dir()
    target = Store.open(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    target.create_schema()
    restore(target, written, user="dm", reason="restore drill")
    originals = {d: source.files.read(d) for d in source.files.hashes()}
    assert len(originals) == 8  # four pictures and their thumbnails
    assert {d: target.files.read(d) for d in target.files.hashes()} == originals
    assert [p.sha256 for p in photographs_of(target, "S02")] == [
        p.sha256 for p in photographs_of(source, "S02")]  # fmt: skip
    assert verify_store(target).ok
    source.dispose()
    target.dispose()


def test_a_photograph_added_after_the_casebook_was_signed_invalidates_the_signature(
    demo: Store,
) -> None:
    from pustula.demo import DEMO_PASSWORD, create_demo_users

    create_demo_users(demo)
    monitor.sign(demo, "investigator", username="investigator", password=DEMO_PASSWORD,
                 code="S01", meaning="I approve the data in this casebook")  # fmt: skip
    assert monitor.signatures_of(demo, "S01")[-1].invalidated_at is None
    upload_photograph(demo, "coordinator", "S01", _visit(demo, "S01", "W4"),
                      region="right_palm", data=phone_jpeg())  # fmt: skip
    assert monitor.signatures_of(demo, "S01")[-1].invalidated_at is not None
