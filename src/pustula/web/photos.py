"""Photographs of the palms and soles: take them at a visit (a phone's camera through the
browser works), see a region across visits beside its PPPASI, remove one with a reason.

Pictures are served only through these routes, to users whose role may see photographs
and whose sites include the subject's (the same check as the subject's page).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from pustula.errors import PustulaError
from pustula.scoring.pppasi import REGION_LABELS, REGIONS
from pustula.settings import get_settings
from pustula.store.files.images import heic_readable
from pustula.store.services import photos
from pustula.web.deps import authorize, get_store, principal_of, scoped_timeline
from pustula.web.fields import Field, error_messages, form_values, parse_fields
from pustula.web.render import render

__all__ = ["api_router", "router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

UPLOAD_FIELDS = (
    Field("region", "Which region the photograph shows", "radio",
          tuple((r, REGION_LABELS[r]) for r in REGIONS), required=True),
    Field("file", "Photograph", "file", required=True,
          hint="JPEG, PNG or HEIC, as a phone's camera takes them. Location and camera "
               "details are removed before it is kept."),
)  # fmt: skip
REMOVE_FIELDS = (
    Field("reason", "Why the photograph is removed", "textarea", required=True,
          hint="For example: the wrong hand, or another patient's photograph. It stays in "
               "the audit trail and leaves every view."),
)  # fmt: skip
#: A picture may be kept by the browser for a few minutes, never by a shared cache.
PICTURE_CACHE = "private, max-age=300"


def _visit_page(request: Request, code: str, visit_id: int, values: dict[str, Any],
                errors: dict[str, str], *, status: int = 200) -> Response:  # fmt: skip
    t = scoped_timeline(request)
    visit = next((v for v in t.visits if v.id == visit_id), None)
    if visit is None:
        return render(request, "error.html", status_code=404,
                      message=f"Subject {code} has no such visit.")  # fmt: skip
    shown = [p for p in photos_view(request, code) if p.visit_id == visit_id]
    return render(request, "photos_visit.html", status_code=400 if errors else status,
                  code=code, visit=visit, protocol=request.state.protocol,
                  photographs={r: [p for p in shown if p.region == r] for r in REGIONS},
                  regions=REGION_LABELS, fields=UPLOAD_FIELDS,
                  by_name={f.name: f for f in UPLOAD_FIELDS}, values=values, errors=errors,
                  open_record=not t.lock, heic=heic_readable(),
                  max_mb=get_settings().photo_max_mb)  # fmt: skip


def photos_view(request: Request, code: str) -> list[photos.PhotoView]:
    return photos.photographs_of(get_store(request), code)


@router.get("/subjects/{code}/visits/{visit_id}/photos", name="photo_visit",
            response_class=HTMLResponse)  # fmt: skip
def photo_visit(request: Request, code: str, visit_id: int) -> Response:
    return _visit_page(request, code, visit_id, {}, {})


async def _file_bytes(value: object) -> bytes | None:
    if isinstance(value, StarletteUpload) and (value.filename or value.size):
        return await value.read()
    return None


@router.post("/subjects/{code}/visits/{visit_id}/photos", name="photo_upload",
             response_class=HTMLResponse)  # fmt: skip
async def photo_upload(request: Request, code: str, visit_id: int) -> Response:
    form = await request.form()
    try:
        values = form_values(form, UPLOAD_FIELDS)
        values.pop("file", None)  # a browser cannot be given a file back; never echo it
        content = await _file_bytes(form.get("file"))
    finally:
        await form.close()  # the upload's temporary file goes now, not at collection
    data, errors = parse_fields(UPLOAD_FIELDS[:1], values)
    if content is None:
        errors["file"] = "choose or take the photograph"
    if not errors and content is not None:
        try:
            await run_in_threadpool(lambda: photos.upload_photograph(
                get_store(request), principal_of(request).username, code, visit_id,
                region=data["region"], data=content))  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in UPLOAD_FIELDS])
    if errors:
        if content is not None and "file" in errors and "_locked" not in errors:
            errors["file"] += (
                " Then choose it again: a browser does not keep a file after an error."
            )
        return _visit_page(request, code, visit_id, values, errors)
    return RedirectResponse(f"/subjects/{code}/visits/{visit_id}/photos?saved=photo",
                            status_code=303)  # fmt: skip


@router.get("/subjects/{code}/photos", name="photo_compare", response_class=HTMLResponse)
def photo_compare(request: Request, code: str, region: str = "") -> Response:
    chosen = region if region in REGIONS else ""
    compared = photos.compare_region(get_store(request), code, chosen) if chosen else []
    counts = {r: 0 for r in REGIONS}
    for p in photos_view(request, code):
        counts[p.region] += 1
    return render(request, "photos_compare.html", code=code, region=chosen,
                  regions=REGION_LABELS, counts=counts, compared=compared,
                  maximum=photos.region_maximum(chosen) if chosen else None)  # fmt: skip


def _picture(request: Request, code: str, photo_id: int, *, thumbnail: bool) -> Response:
    found = photos.photo_file(get_store(request), code, photo_id, thumbnail=thumbnail)
    return Response(found.data, media_type=found.media_type,
                    headers={"Cache-Control": PICTURE_CACHE, "ETag": f'"{found.sha256}"',
                             "Content-Disposition": "inline"})  # fmt: skip


@router.get("/subjects/{code}/photos/{photo_id}/image", name="photo_image")
def photo_image(request: Request, code: str, photo_id: int) -> Response:
    return _picture(request, code, photo_id, thumbnail=False)


@router.get("/subjects/{code}/photos/{photo_id}/thumbnail", name="photo_thumbnail")
def photo_thumbnail(request: Request, code: str, photo_id: int) -> Response:
    return _picture(request, code, photo_id, thumbnail=True)


def _remove_page(request: Request, code: str, photo_id: int, values: dict[str, Any],
                 errors: dict[str, str]) -> Response:  # fmt: skip
    found = next((p for p in photos_view(request, code) if p.id == photo_id), None)
    if found is None:
        return render(request, "error.html", status_code=404,
                      message="This photograph does not exist or was removed.")  # fmt: skip
    return render(request, "photo_remove.html", status_code=400 if errors else 200, code=code,
                  photo=found, fields=REMOVE_FIELDS, by_name={f.name: f for f in REMOVE_FIELDS},
                  values=values, errors=errors)  # fmt: skip


@router.get("/subjects/{code}/photos/{photo_id}/remove", name="photo_remove_form",
            response_class=HTMLResponse)  # fmt: skip
def photo_remove_form(request: Request, code: str, photo_id: int) -> Response:
    return _remove_page(request, code, photo_id, {}, {})


@router.post("/subjects/{code}/photos/{photo_id}/remove", name="photo_remove_save",
             response_class=HTMLResponse)  # fmt: skip
async def photo_remove_save(request: Request, code: str, photo_id: int) -> Response:
    values = form_values(await request.form(), REMOVE_FIELDS)
    data, errors = parse_fields(REMOVE_FIELDS, values)
    found = next((p for p in photos_view(request, code) if p.id == photo_id), None)
    if not errors and found is not None:
        try:
            await run_in_threadpool(lambda: photos.remove_photograph(
                get_store(request), principal_of(request).username, code, photo_id,
                reason=data["reason"], expected_version=found.version))  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, ["reason"])
    if errors or found is None:
        return _remove_page(request, code, photo_id, values, errors)
    return RedirectResponse(f"/subjects/{code}/visits/{found.visit_id}/photos?saved=removed",
                            status_code=303)  # fmt: skip


api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)],
                       tags=["photographs"])  # fmt: skip


class PhotoOut(BaseModel):
    """A photograph's record; its picture is at ``/photos/{id}/image``."""

    id: int
    version: int
    visit_id: int
    visit_label: str
    region: str
    width: int
    height: int
    byte_size: int
    media_type: str
    sha256: str
    taken_by: str
    taken_at: str


class RemoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str
    expected_version: int


def _out(view: photos.PhotoView) -> PhotoOut:
    return PhotoOut(**{k: getattr(view, k) for k in PhotoOut.model_fields})


@api_router.get("/subjects/{code}/photos", name="api_photos")
def api_photos(request: Request, code: str) -> list[PhotoOut]:
    """The subject's photographs (not removed), oldest first."""
    return [_out(p) for p in photos_view(request, code)]


@api_router.post("/subjects/{code}/visits/{visit_id}/photos", name="api_photo_upload",
                 status_code=201)  # fmt: skip
def api_photo_upload(
    request: Request, code: str, visit_id: int,
    region: Annotated[str, Form(description="right_palm, left_palm, right_sole or left_sole")],
    file: Annotated[UploadFile, File(description="the photograph: JPEG, PNG or HEIC")],
) -> PhotoOut:  # fmt: skip
    """Upload a photograph of one region at a visit (multipart form: ``region``, ``file``)."""
    try:
        content = file.file.read()
    finally:
        file.file.close()
    view = photos.upload_photograph(get_store(request), principal_of(request).username, code,
                                    visit_id, region=region, data=content)  # fmt: skip
    return _out(view)


@api_router.get("/subjects/{code}/photos/{photo_id}/image", name="api_photo_image")
def api_photo_image(request: Request, code: str, photo_id: int) -> Response:
    """The photograph's picture, as kept (no metadata)."""
    return _picture(request, code, photo_id, thumbnail=False)


@api_router.post("/subjects/{code}/photos/{photo_id}/remove", name="api_photo_remove",
                 status_code=204)  # fmt: skip
def api_photo_remove(request: Request, code: str, photo_id: int, body: RemoveIn) -> Response:
    """Remove a photograph from every view, with a reason (it stays for the audit)."""
    user = principal_of(request).username
    photos.remove_photograph(get_store(request), user, code, photo_id, reason=body.reason,
                             expected_version=body.expected_version)  # fmt: skip
    return Response(status_code=204)
