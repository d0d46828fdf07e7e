"""Photographs in the web app and the API: taken at a visit from a form that presets
nothing, served clean only to roles and sites that may see the subject, compared across
visits beside the region's PPPASI, removed with a reason; 100+ hostile uploads refused
in words with nothing kept and no server error."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from pustula.store import Store
from pustula.store.db.models import Photograph, Subject, Visit
from tests.photos import GPS_IFD, MAKE, hostile_files, phone_jpeg
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


def _visit(store: Store, code: str = "S05", visit: str = "W0") -> int:
    with store.reader() as session:
        return session.scalars(select(Visit.id).join(Subject, Subject.id == Visit.subject_id)
                               .where(Subject.code == code, Visit.visit_code == visit)).one()  # fmt: skip


def _upload(client: TestClient, visit_id: int, data: bytes, *, region: str | None = "right_palm",
            code: str = "S05", name: str = "palm.jpg") -> object:  # fmt: skip
    page = client.get(f"/subjects/{code}/visits/{visit_id}/photos")
    form = {"csrf": csrf_of(page.text)} | ({"region": region} if region else {})
    return client.post(f"/subjects/{code}/visits/{visit_id}/photos", data=form,
                       files={"file": (name, data, "image/jpeg")}, follow_redirects=False)  # fmt: skip


def _photos(store: Store) -> list[Photograph]:
    with store.reader() as session:
        return list(session.scalars(select(Photograph)))


def test_a_coordinator_takes_a_photograph_and_it_is_served_without_exif_or_gps(
    login: Login, web_store: Store
) -> None:
    staff = login("site-b")
    visit = _visit(web_store)
    page = staff.get(f"/subjects/S05/visits/{visit}/photos").text
    assert 'type="file"' in page and " checked" not in page  # no region preset
    saved = _upload(staff, visit, phone_jpeg(800, 600))
    assert saved.status_code == 303, saved.text[:500]  # type: ignore[attr-defined]
    [row] = _photos(web_store)
    page = staff.get(f"/subjects/S05/visits/{visit}/photos?saved=photo").text
    assert "Photograph kept" in page and f"/photos/{row.id}/thumbnail" in page
    picture = staff.get(f"/subjects/S05/photos/{row.id}/image")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert "private" in picture.headers["cache-control"]
    assert picture.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(picture.content)) as image:
        assert image.size == (600, 800) and not image.getexif()
        assert MAKE not in image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    timeline = staff.get("/subjects/S05").text
    assert "Photographs (1)" in timeline and "Compare photographs" in timeline


def test_a_form_with_no_region_and_no_file_names_both_at_once(
    login: Login, web_store: Store
) -> None:
    staff = login("site-b")
    visit = _visit(web_store)
    page = staff.get(f"/subjects/S05/visits/{visit}/photos")
    sent = staff.post(f"/subjects/S05/visits/{visit}/photos", data={"csrf": csrf_of(page.text)},
                      files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert sent.status_code == 400
    assert 'id="region-error"' in sent.text and 'id="file-error"' in sent.text
    assert "Correct these 2 values" in sent.text and _photos(web_store) == []


def test_every_hostile_upload_is_refused_in_words_and_nothing_is_kept(
    login: Login, web_store: Store
) -> None:
    staff = login("site-b")
    visit = _visit(web_store)
    csrf = csrf_of(staff.get(f"/subjects/S05/visits/{visit}/photos").text)
    statuses = []
    for what, data in hostile_files():
        sent = staff.post(f"/subjects/S05/visits/{visit}/photos",
                          data={"csrf": csrf, "region": "left_sole"},
                          files={"file": ("x.jpg", data, "image/jpeg")})  # fmt: skip
        statuses.append(sent.status_code)
        assert sent.status_code == 400, (what, sent.status_code)
        assert 'id="file-error"' in sent.text and "Traceback" not in sent.text, what
        assert 'value="left_sole" checked' in sent.text  # the region chosen is kept
    assert len(statuses) > 100
    assert _photos(web_store) == [] and list(web_store.files.hashes()) == []


def test_only_roles_and_sites_that_may_see_the_subject_see_its_photographs(
    login: Login, web_store: Store
) -> None:
    investigator = login("investigator")
    assert _upload(investigator, _visit(web_store, "S01"), phone_jpeg(),
                   code="S01").status_code == 303  # type: ignore[attr-defined]  # fmt: skip
    [row] = _photos(web_store)
    path = f"/subjects/S01/photos/{row.id}/image"
    assert login("monitor").get(path).status_code == 200  # verifies against the source
    assert login("statistician").get(path).status_code == 403
    assert login("dmc").get(path).status_code == 403
    assert login("site-b").get(path).status_code == 404  # S01 is not at site B
    assert login("site-b").get(f"/subjects/S05/photos/{row.id}/image").status_code == 404
    assert "Photographs" not in login("statistician").get("/subjects/S01").text


def test_the_comparison_shows_each_visit_beside_the_regions_pppasi(
    login: Login, web_store: Store
) -> None:
    staff = login("investigator")
    for visit in ("W0", "W12"):
        assert _upload(staff, _visit(web_store, "S01", visit), phone_jpeg(), code="S01",
                       region="right_palm").status_code == 303  # type: ignore[attr-defined]  # fmt: skip
    page = staff.get("/subjects/S01/photos?region=right_palm").text
    visits = re.findall(r"<strong>(Week \d+)</strong>", page)
    assert visits == ["Week 0", "Week 12"]
    # S01 week 0, right palm: (3 + 3 + 2) x area score 3 x 0.2 = 4.8 of (4 x 3) x 6 x 0.2
    assert 'PPPASI of the right palm: <strong class="score">4.8</strong> of 14.4' in page
    assert 'aria-current="page"' in page


def test_a_photograph_is_removed_with_a_reason_and_leaves_the_views(
    login: Login, web_store: Store
) -> None:
    staff = login("site-b")
    visit = _visit(web_store)
    _upload(staff, visit, phone_jpeg())
    [row] = _photos(web_store)
    form = staff.get(f"/subjects/S05/photos/{row.id}/remove")
    empty = staff.post(f"/subjects/S05/photos/{row.id}/remove",
                       data={"csrf": csrf_of(form.text), "reason": ""})  # fmt: skip
    assert empty.status_code == 400 and 'id="reason-error"' in empty.text
    done = staff.post(f"/subjects/S05/photos/{row.id}/remove", follow_redirects=False,
                      data={"csrf": csrf_of(form.text), "reason": "the wrong hand"})  # fmt: skip
    assert done.status_code == 303
    assert staff.get(f"/subjects/S05/photos/{row.id}/image").status_code == 404
    history = staff.get(f"/history/photograph/{row.id}").text
    assert "the wrong hand" in history


def test_the_api_uploads_lists_serves_and_removes_photographs(
    login: Login, web_store: Store
) -> None:
    staff = login("investigator")
    csrf = csrf_of(staff.get("/subjects/S05").text)
    visit = _visit(web_store, "S05", "W4")
    made = staff.post(f"/api/v1/subjects/S05/visits/{visit}/photos",
                      headers={"X-CSRF-Token": csrf}, data={"region": "left_palm"},
                      files={"file": ("p.jpg", phone_jpeg(), "image/jpeg")})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["region"] == "left_palm" and body["visit_label"] == "Week 4"
    listed = staff.get("/api/v1/subjects/S05/photos").json()
    assert [p["sha256"] for p in listed] == [body["sha256"]]
    image = staff.get(f"/api/v1/subjects/S05/photos/{body['id']}/image")
    assert image.status_code == 200 and len(image.content) == body["byte_size"]
    bad = staff.post(f"/api/v1/subjects/S05/visits/{visit}/photos",
                     headers={"X-CSRF-Token": csrf}, data={"region": "left_palm"},
                     files={"file": ("p.jpg", b"<html>", "image/jpeg")})  # fmt: skip
    assert bad.status_code == 422 and "JPEG, PNG or HEIC" in bad.text
    gone = staff.post(f"/api/v1/subjects/S05/photos/{body['id']}/remove",
                      headers={"X-CSRF-Token": csrf},
                      json={"reason": "duplicate", "expected_version": body["version"]})  # fmt: skip
    assert gone.status_code == 204 and staff.get("/api/v1/subjects/S05/photos").json() == []


def test_a_locked_subject_takes_no_photograph_and_says_so(login: Login, web_store: Store) -> None:
    from pustula.store.services import monitoring as monitor

    monitor.lock(web_store, "admin", reason="analysis", subject="S05")
    staff = login("site-b")
    visit = _visit(web_store)
    page = staff.get(f"/subjects/S05/visits/{visit}/photos").text
    assert "locked" in page
    csrf = csrf_of(staff.get("/subjects/S05").text)
    sent = staff.post(f"/subjects/S05/visits/{visit}/photos",
                      data={"csrf": csrf, "region": "left_sole"},
                      files={"file": ("x.jpg", phone_jpeg(), "image/jpeg")})  # fmt: skip
    assert sent.status_code == 423 and list(web_store.files.hashes()) == []
