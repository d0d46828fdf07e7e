"""Store services for photographs: upload, read, compare across visits, remove.

An upload is cleaned and its files kept before the row is saved; if the save fails (a
lock, a conflict, a missed visit), the files this upload created are removed again, so
nothing is half-stored. Access to the pictures is checked by the callers (the web app
and the API) with the same site rules as the subject's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pustula.errors import RecordNotFoundError
from pustula.scoring.pppasi import REGION_LABELS, REGION_WEIGHTS, REGIONS, SIGN_LABELS, SIGNS
from pustula.settings import get_settings
from pustula.store.db.models import Assessment, Photograph, Visit
from pustula.store.db.uow import Store, get_record
from pustula.store.files.images import clean_photograph
from pustula.store.monitoring.on_save import refuse_if_locked
from pustula.store.records import photos
from pustula.store.records.study import get_study, get_subject, protocol_of

__all__ = [
    "ComparedVisit",
    "PhotoFile",
    "PhotoView",
    "compare_region",
    "photo_file",
    "photographs_of",
    "region_maximum",
    "remove_photograph",
    "upload_photograph",
]


@dataclass(frozen=True)
class PhotoView:
    """A photograph as pages and the API show it (no file, no file system path)."""

    id: int
    version: int
    visit_id: int
    visit_label: str
    visit_date: date | None
    region: str
    region_label: str
    width: int
    height: int
    byte_size: int
    media_type: str
    sha256: str
    taken_by: str
    taken_at: str


@dataclass(frozen=True)
class PhotoFile:
    data: bytes
    media_type: str
    sha256: str


@dataclass(frozen=True)
class ComparedVisit:
    """One visit in a region's comparison: its photographs and the region's PPPASI."""

    visit_id: int
    visit_label: str
    visit_date: date | None
    photographs: tuple[PhotoView, ...]
    #: the region's PPPASI subscore at the visit, and its parts (None: not assessed)
    subscore: float | None
    #: the region's signs as recorded, by their labels ("Erythema": "3", "Area": "40 %")
    signs: dict[str, str]


def _signs(items: dict[str, object], region: str) -> dict[str, str]:
    shown = {SIGN_LABELS[s]: str(items[f"{region}_{s}"]) for s in SIGNS
             if items.get(f"{region}_{s}") is not None}  # fmt: skip
    if items.get(f"{region}_area_pct") is not None:
        shown["Area"] = f"{items[f'{region}_area_pct']} %"
    elif items.get(f"{region}_area_score") is not None:
        shown["Area"] = f"score {items[f'{region}_area_score']}"
    return shown


def region_maximum(region: str) -> float:
    """The largest PPPASI subscore of a region: (4 + 4 + 4) x area 6 x its weight."""
    return round(12 * 6 * REGION_WEIGHTS[region], 1)


def _views(session: object, study: object, rows: list[Photograph]) -> list[PhotoView]:
    labels = {v.code: v.label for v in protocol_of(study).visits}  # type: ignore[arg-type]
    visits = {
        v.id: v
        for v in session.scalars(  # type: ignore[attr-defined]
            select(Visit).where(Visit.id.in_({r.visit_id for r in rows}))
        )
    }
    return [
        PhotoView(
            id=r.id,
            version=r.version,
            visit_id=r.visit_id,
            visit_label=labels.get(visits[r.visit_id].visit_code, visits[r.visit_id].visit_code),
            visit_date=visits[r.visit_id].visit_date,
            region=r.region,
            region_label=REGION_LABELS[r.region],
            width=r.width,
            height=r.height,
            byte_size=r.byte_size,
            media_type=r.media_type,
            sha256=r.sha256,
            taken_by=r.created_by,
            taken_at=r.created_at,
        )
        for r in rows
    ]


def upload_photograph(
    store: Store, user: str, code: str, visit_id: int, *, region: str, data: bytes
) -> PhotoView:
    """Clean, keep and record a photograph of ``region`` at visit ``visit_id``."""
    with store.reader() as session:
        subject = get_subject(session, get_study(session), code)
        refuse_if_locked(session.connection(), {subject.id})
    max_bytes = int(get_settings().photo_max_mb * 1_000_000)
    picture = clean_photograph(data, max_bytes=max_bytes)
    created = [
        digest
        for digest, new in (store.files.put(picture.data), store.files.put(picture.thumbnail))
        if new
    ]
    try:
        with store.transaction(user=user) as tx:
            study = get_study(tx.session)
            subject = get_subject(tx.session, study, code)
            visit = tx.session.get(Visit, visit_id)
            if visit is None or visit.subject_id != subject.id or visit.deleted_at is not None:
                raise RecordNotFoundError(f"subject {code} has no visit {visit_id}")
            row = photos.add_photograph(tx, subject, visit, region, picture)
            return _views(tx.session, study, [row])[0]
    except BaseException:
        _discard_unreferenced(store, created)
        raise


def _discard_unreferenced(store: Store, digests: list[str]) -> None:
    """Remove the files a failed upload created, unless another save refers to them."""
    if not digests:
        return
    with store.reader() as session:
        used = set(session.scalars(select(Photograph.sha256).where(Photograph.sha256.in_(digests))))
        used |= set(
            session.scalars(
                select(Photograph.thumbnail_sha256).where(Photograph.thumbnail_sha256.in_(digests))
            )
        )
    for digest in digests:
        if digest not in used:
            store.files.discard(digest)


def photographs_of(store: Store, code: str) -> list[PhotoView]:
    """The subject's photographs not removed, oldest first."""
    with store.reader() as session:
        study = get_study(session)
        subject = get_subject(session, study, code)
        rows = list(
            session.scalars(
                select(Photograph)
                .where(Photograph.subject_id == subject.id, Photograph.deleted_at.is_(None))
                .order_by(Photograph.id)
            )
        )
        return _views(session, study, rows)


def _row(session: object, code: str, photo_id: int) -> Photograph:
    subject = get_subject(session, get_study(session), code)  # type: ignore[arg-type]
    row = get_record(session, Photograph, photo_id)  # type: ignore[arg-type]
    if row.subject_id != subject.id:
        raise RecordNotFoundError(f"photograph {photo_id} does not exist")
    return row


def photo_file(store: Store, code: str, photo_id: int, *, thumbnail: bool = False) -> PhotoFile:
    """The picture (or its thumbnail) of a photograph of subject ``code``."""
    with store.reader() as session:
        row = _row(session, code, photo_id)
        digest = row.thumbnail_sha256 if thumbnail else row.sha256
        media_type = "image/jpeg" if thumbnail else row.media_type
    return PhotoFile(store.files.read(digest), media_type, digest)


def remove_photograph(
    store: Store, user: str, code: str, photo_id: int, *, reason: str, expected_version: int
) -> None:
    """Remove a photograph from every view, with the reason; it stays for the audit."""
    with store.transaction(user=user, reason=reason.strip() or None) as tx:
        row = _row(tx.session, code, photo_id)
        photos.remove_photograph(tx, row, expected_version=expected_version)


def compare_region(store: Store, code: str, region: str) -> list[ComparedVisit]:
    """Every visit with a photograph of ``region``, in date order, beside the region's
    PPPASI subscore and signs at that visit."""
    if region not in REGIONS:
        raise RecordNotFoundError(f"{region} is not a region of the PPPASI")
    with store.reader() as session:
        study = get_study(session)
        subject = get_subject(session, study, code)
        rows = list(
            session.scalars(
                select(Photograph)
                .where(Photograph.subject_id == subject.id, Photograph.region == region,
                       Photograph.deleted_at.is_(None))
                .order_by(Photograph.id)
            )
        )  # fmt: skip
        views = _views(session, study, rows)
        scores = {
            a.visit_id: a
            for a in session.scalars(
                select(Assessment).where(
                    Assessment.visit_id.in_({r.visit_id for r in rows}),
                    Assessment.instrument == "pppasi", Assessment.deleted_at.is_(None),
                )
            )
        }  # fmt: skip
    by_visit: dict[int, list[PhotoView]] = {}
    for view in views:
        by_visit.setdefault(view.visit_id, []).append(view)
    ordered = sorted(
        by_visit.values(), key=lambda vs: (vs[0].visit_date or date.max, vs[0].visit_id)
    )
    compared = []
    for mine in ordered:
        score = scores.get(mine[0].visit_id)
        subscore = (
            (score.subscores or {}).get(region) if score and score.total is not None else None
        )
        compared.append(
            ComparedVisit(
                visit_id=mine[0].visit_id,
                visit_label=mine[0].visit_label,
                visit_date=mine[0].visit_date,
                photographs=tuple(mine),
                subscore=None if subscore is None else float(subscore),
                signs=_signs(score.items if score else {}, region),
            )
        )
    return compared
