"""A photograph as it is kept: re-drawn from its pixels, with nothing else of the file.

An upload is read by Pillow (and ``pillow-heif`` for HEIC, when installed) only once its
kind, its size in bytes and its size in pixels are known to be acceptable, and only if
nothing follows the picture in the file (an archive or a web page appended to a JPEG
makes a "polyglot" that other programs would open as something else). The pixels are
then turned upright (EXIF orientation), converted to sRGB, and written afresh as JPEG
(PNG stays PNG), so that no EXIF, GPS, XMP, comment or embedded thumbnail survives; a
thumbnail is drawn from the same pixels.
"""

from __future__ import annotations

import functools
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageCms, ImageOps

from pustula.errors import PhotoError

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "THUMBNAIL_SIDE",
    "CleanPhotograph",
    "clean_photograph",
    "heic_readable",
]

#: 48 megapixels, a phone's largest sensor today, with room; more is refused.
MAX_PIXELS = 60_000_000
#: Neither side may be longer (a 1 x 60,000,000 strip is not a photograph).
MAX_SIDE = 16_000
THUMBNAIL_SIDE = 320
_JPEG_QUALITY = 92


def _register_heic() -> bool:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # an installation without the web extra: HEIC is refused
        return False
    register_heif_opener()
    return True


_HEIC = _register_heic()


def heic_readable() -> bool:
    """Whether this installation can read HEIC photographs (``pillow-heif`` installed)."""
    return _HEIC


@dataclass(frozen=True)
class CleanPhotograph:
    """The picture to keep, its thumbnail, and what was received."""

    data: bytes
    media_type: str
    width: int
    height: int
    thumbnail: bytes
    received_sha256: str
    received_format: str

    # hashed once: the upload keeps the files under them and then records them
    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @functools.cached_property
    def thumbnail_sha256(self) -> str:
        return hashlib.sha256(self.thumbnail).hexdigest()


def _refuse(problem: str, message: str) -> PhotoError:
    return PhotoError(message, problem=problem)


NOT_A_PHOTO = (
    "This file is not a photograph Pustula can take: upload a JPEG, PNG or HEIC picture "
    "(a phone's camera gives one)."
)
DAMAGED = (
    "This picture is damaged or incomplete (the upload may have been cut off): "
    "take or upload it again."
)


def _kind(data: bytes) -> str | None:
    """The format by the file's first bytes, never by its name or declared type."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"heim", b"heis", b"mif1",
                                                b"msf1", b"hevc", b"hevx"):  # fmt: skip
        return "HEIF"
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Where the JPEG's end-of-image marker ends, following its segments and scans."""
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        i += 2 + length
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart
            while True:
                i = data.find(b"\xff", i)
                if i < 0 or i + 1 >= n:
                    return None
                following = data[i + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i += 2
                    continue
                break
    return None


def _png_end(data: bytes) -> int | None:
    i, n = 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i if i <= n else None
    return None


def _heif_end(data: bytes) -> int | None:
    """ISO base media boxes must tile the file exactly."""
    i, n = 0, len(data)
    while i + 8 <= n:
        size = int.from_bytes(data[i : i + 4], "big")
        header = 8
        if size == 1:
            if i + 16 > n:
                return None
            size, header = int.from_bytes(data[i + 8 : i + 16], "big"), 16
        elif size == 0:
            size = n - i
        if size < header:
            return None
        i += size
    return i if i == n else None


_ENDS = {"JPEG": _jpeg_end, "PNG": _png_end, "HEIF": _heif_end}


def _check_ends(data: bytes, kind: str) -> None:
    end = _ENDS[kind](data)
    if end is None or end > len(data):
        raise _refuse("damaged", DAMAGED)
    rest = data[end:]
    # cameras sometimes pad a JPEG with zero or 0xFF bytes; anything else is a second file
    if rest.strip(b"\x00\xff"):
        raise _refuse(
            "more_than_a_picture",
            "This file carries something besides the picture (for example a motion photo's "
            "video, or another file appended to it): upload a still photograph.",
        )


def _open(data: bytes, kind: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=[kind])
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise _refuse(
                "too_many_pixels",
                f"This picture is {width:,} by {height:,} pixels; Pustula takes photographs of "
                f"up to {MAX_PIXELS // 1_000_000} megapixels, {MAX_SIDE:,} pixels a side.",
            )
        image.load()
    return image


def _upright_srgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    profile = upright.info.get("icc_profile")
    if profile and upright.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            upright = (
                ImageCms.profileToProfile(
                    upright, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
                )
                or upright
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the pixels are taken as sRGB, as browsers do
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return upright.convert("RGB")


def _encode(image: Image.Image, kind: str) -> tuple[bytes, str]:
    out = io.BytesIO()
    if kind == "PNG":
        image.save(out, format="PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png"
    image.save(out, format="JPEG", quality=_JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"


def _thumbnail(image: Image.Image) -> bytes:
    scale = min(1.0, THUMBNAIL_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reduce by whole factors first, then filter: as sharp at 320 px, a fraction of the work
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def clean_photograph(data: bytes, *, max_bytes: int) -> CleanPhotograph:
    """The photograph to keep from an uploaded file, or :class:`PhotoError` saying why not.

    Examples
    --------
    >>> from PIL import Image
    >>> raw = io.BytesIO()
    >>> Image.new("RGB", (640, 480), (200, 120, 110)).save(raw, "JPEG")
    >>> kept = clean_photograph(raw.getvalue(), max_bytes=25_000_000)
    >>> kept.media_type, kept.width, kept.height
    ('image/jpeg', 640, 480)
    >>> try:
    ...     clean_photograph(b"%PDF-1.7 ...", max_bytes=25_000_000)
    ... except PhotoError as refused:
    ...     print(refused.problem)
    not_an_image
    """
    if not data:
        raise _refuse("empty", "The file is empty: choose the photograph again.")
    if len(data) > max_bytes:
        raise _refuse(
            "too_large",
            f"This file is {_size(len(data))}; photographs may be up to {_size(max_bytes)}.",
        )
    kind = _kind(data)
    if kind is None or (kind == "HEIF" and not _HEIC):
        raise _refuse("not_an_image", NOT_A_PHOTO)
    _check_ends(data, kind)
    try:
        image = _open(data, kind)
        kept = _upright_srgb(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse("too_many_pixels", "This picture unpacks to far more pixels than a "
                      "photograph has; it was refused.") from exc  # fmt: skip
    # A hostile file can make any part of a decoder fail in its own way; whatever fails
    # while reading it, the file is refused, never half-read.
    except Exception as exc:
        raise _refuse("damaged", DAMAGED) from exc
    # Pillow carries the file's comment, EXIF and profile along in ``info`` and writes some
    # of them back on save: the kept picture starts with none
    kept.info = {}
    encoded, media_type = _encode(kept, kind)
    return CleanPhotograph(
        data=encoded,
        media_type=media_type,
        width=kept.width,
        height=kept.height,
        thumbnail=_thumbnail(kept),
        received_sha256=hashlib.sha256(data).hexdigest(),
        received_format=kind,
    )


def metadata_of(data: bytes) -> dict[str, Any]:
    """What a kept picture carries besides its pixels (for checks: it should be nothing
    but its format's own fields)."""
    with Image.open(io.BytesIO(data)) as image:
        return {"exif": dict(image.getexif()), "info": dict(image.info)}
