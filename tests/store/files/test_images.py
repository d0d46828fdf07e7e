"""An upload becomes a clean photograph, or is refused with a reason: the picture kept
has no EXIF, GPS or comment, stands upright, and is sRGB; 100+ hostile files are all
refused with Pustula's own error, never a crash."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from pustula.errors import PhotoError
from pustula.store.files.images import (
    MAX_PIXELS,
    THUMBNAIL_SIDE,
    clean_photograph,
    heic_readable,
    metadata_of,
)
from tests.photos import GPS_IFD, MAKE, ORIENTATION, hostile_files, phone_jpeg, png

LIMIT = 25_000_000


def test_a_phone_jpeg_loses_its_exif_gps_and_comment_and_is_turned_upright() -> None:
    kept = clean_photograph(phone_jpeg(640, 480, orientation=6), max_bytes=LIMIT)
    # orientation 6: the stored 640 x 480 pixels are shown turned, 480 wide and 640 high
    assert (kept.width, kept.height) == (480, 640)
    with Image.open(io.BytesIO(kept.data)) as image:
        exif = image.getexif()
        assert ORIENTATION not in exif and MAKE not in exif and GPS_IFD not in exif
        assert not exif.get_ifd(GPS_IFD)
        assert "exif" not in image.info and "comment" not in image.info
        assert "icc_profile" not in image.info
        # the blue marker was top-left in storage; turned clockwise it is top-right
        assert image.getpixel((475, 5))[2] > 150 and image.getpixel((5, 5))[2] < 150
    assert b"PhoneMaker" not in kept.data and b"<script>" not in kept.data
    assert metadata_of(kept.data)["exif"] == {}


def test_the_thumbnail_is_a_small_jpeg_of_the_same_picture() -> None:
    kept = clean_photograph(phone_jpeg(1200, 900, orientation=1), max_bytes=LIMIT)
    with Image.open(io.BytesIO(kept.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == THUMBNAIL_SIDE
        assert thumb.size == (320, 240) and not thumb.getexif()


def test_a_png_stays_png_with_its_transparency_on_white() -> None:
    kept = clean_photograph(png(100, 80, mode="RGBA"), max_bytes=LIMIT)
    assert kept.media_type == "image/png" and kept.received_format == "PNG"
    with Image.open(io.BytesIO(kept.data)) as image:
        assert image.mode == "RGB"
        # (10, 200, 30) at alpha 128 over white: 255 + (v - 255) * 128 / 255
        assert image.getpixel((0, 0)) == pytest.approx((132, 227, 142), abs=1)


def test_a_picture_in_another_colour_space_is_converted_to_srgb() -> None:
    adobe_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    image = Image.new("RGB", (40, 30), (200, 100, 50))
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    image.save(out, "JPEG", icc_profile=srgb.tobytes())
    kept = clean_photograph(out.getvalue(), max_bytes=LIMIT)
    assert "icc_profile" not in Image.open(io.BytesIO(kept.data)).info
    assert adobe_like  # the profile machinery (littlecms) is there


@pytest.mark.skipif(not heic_readable(), reason="pillow-heif is not installed")
def test_a_heic_photograph_is_kept_as_jpeg_without_its_exif() -> None:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (190, 120, 110)).save(out, "HEIF", exif=exif)
    kept = clean_photograph(out.getvalue(), max_bytes=LIMIT)
    assert (kept.media_type, kept.received_format) == ("image/jpeg", "HEIF")
    assert metadata_of(kept.data)["exif"] == {} and b"PhoneMaker" not in kept.data


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(PhotoError) as refused:
        clean_photograph(phone_jpeg(), max_bytes=1000)
    assert refused.value.problem == "too_large" and "up to 1.0 kB" in refused.value.message


def test_the_pixel_limit_is_a_phone_camera_with_room() -> None:
    assert 48_000_000 < MAX_PIXELS <= 100_000_000


HOSTILE = hostile_files()


def test_there_are_more_than_a_hundred_hostile_files() -> None:
    assert len(HOSTILE) > 100


@pytest.mark.parametrize(("what", "data"), HOSTILE, ids=[w for w, _ in HOSTILE])
def test_every_hostile_file_is_refused_with_a_reason(what: str, data: bytes) -> None:
    with pytest.raises(PhotoError) as refused:
        clean_photograph(data, max_bytes=LIMIT)
    assert refused.value.problem in {"empty", "too_large", "not_an_image", "damaged",
                                     "too_many_pixels", "more_than_a_picture"}  # fmt: skip
    assert refused.value.field == "file" and "Traceback" not in refused.value.message
