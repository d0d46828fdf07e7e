"""Photographs for the tests: a phone-like JPEG with EXIF and GPS, and 100+ files that
must all be refused (damaged, cut off, wrong kinds, bombs, huge, polyglots)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

#: EXIF tags a phone writes that must never survive: orientation, make, GPS position.
ORIENTATION, MAKE, GPS_IFD = 0x0112, 0x010F, 0x8825


def phone_jpeg(width: int = 640, height: int = 480, *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes one: EXIF with the camera, GPS and an orientation tag
    (6: the pixels are stored turned; viewers turn them 90° clockwise)."""
    image = Image.new("RGB", (width, height), (205, 140, 125))
    # a marker in the top-left corner of the stored pixels, to see where it ends up
    image.paste((20, 20, 200), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90, comment=b"<script>alert(1)</script>")
    return out.getvalue()


def png(width: int = 320, height: int = 240, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 30, 128)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width`` x ``height``, with a tiny compressed body
    of zeros: kilobytes on disk, gigabytes once unpacked."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    body = zlib.compress(b"\x00" * (min(width, 4096) + 1) * 64, 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))  # fmt: skip


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header is rewritten to claim a huge size."""
    data = bytearray(encoded("JPEG"))
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def hostile_files() -> list[tuple[str, bytes]]:
    """(what, content) of every file that must be refused; more than a hundred."""
    rng = random.Random(20261205)
    jpeg, heic_free_png = phone_jpeg(), png(mode="RGB")
    files: list[tuple[str, bytes]] = [("empty file", b""), ("one byte", b"\xff")]
    # cut off anywhere: the upload broke
    for cut in range(2, len(jpeg) - 2, max(1, len(jpeg) // 40)):
        files.append((f"JPEG cut at byte {cut}", jpeg[:cut]))
    for cut in range(8, len(heic_free_png) - 1, max(1, len(heic_free_png) // 15)):
        files.append((f"PNG cut at byte {cut}", heic_free_png[:cut]))
    # right magic, wrong body
    for n in range(12):
        files.append((f"JPEG magic then noise {n}",
                      b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randint(10, 5000))))  # fmt: skip
        files.append((f"PNG magic then noise {n}",
                      b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(10, 5000))))  # fmt: skip
    for n in range(8):
        files.append((f"random bytes {n}", rng.randbytes(rng.randint(1, 20000))))
    # other kinds: formats Pustula does not take, and things that are not pictures
    for fmt, mode in (("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB"), ("WEBP", "RGB"),
                      ("ICO", "RGB"), ("PPM", "RGB")):  # fmt: skip
        files.append((f"a {fmt} picture", encoded(fmt, mode)))
    files += [
        ("an SVG with a script", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                                 b"</script></svg>"),
        ("a web page", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
        ("a PDF", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
        ("a ZIP archive", b"PK\x03\x04" + rng.randbytes(200)),
        ("an executable", b"\x7fELF\x02\x01\x01" + rng.randbytes(200)),
        ("a shell script", b"#!/bin/sh\nrm -rf /\n"),
        ("JSON", b'{"photo": "palm.jpg"}'),
        ("HEIC brand with nothing else", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
        ("HEIC brand then noise", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
                                  + rng.randbytes(3000)),
    ]  # fmt: skip
    # decompression bombs and impossible sizes
    files += [
        ("PNG bomb 100,000 x 100,000", png_bomb(100_000, 100_000)),
        ("PNG bomb 30,000 x 30,000", png_bomb(30_000, 30_000)),
        ("PNG 1 x 70,000,000 strip", png_bomb(1, 70_000_000)),
        ("PNG 20,000 x 1", png_bomb(20_000, 1)),
        ("JPEG claiming 65,000 x 65,000", jpeg_claiming(65_000, 65_000)),
        ("JPEG claiming 20,000 x 10", jpeg_claiming(20_000, 10)),
        ("PNG claiming 0 x 0", png_bomb(0, 0)),
    ]
    # polyglots: a real picture with another file after it
    for name, tail in (("a ZIP archive", b"PK\x03\x04" + rng.randbytes(300)),
                       ("a web page", b"<html><script>alert(1)</script></html>"),
                       ("a PDF", b"%PDF-1.4\n%%EOF"), ("a second JPEG", jpeg),
                       ("a shell script", b"#!/bin/sh\necho owned\n")):  # fmt: skip
        files.append((f"JPEG followed by {name}", jpeg + tail))
        files.append((f"PNG followed by {name}", heic_free_png + tail))
    # damaged inside: flipped bytes in the headers (a body flip may still decode)
    for n in range(10):
        broken = bytearray(heic_free_png)
        broken[rng.randint(16, 40)] ^= 0xFF  # inside IHDR: its checksum fails
        files.append((f"PNG with a damaged header {n}", bytes(broken)))
    return files
