"""A 12-megapixel phone photograph taken in: checked, re-drawn without metadata, a
thumbnail made, both files kept by SHA-256.

    uv run python benchmarks/bench_photos.py [--repeat 5]

Baseline in the same run: Pillow's own decode and JPEG encode of the same picture (the
least any re-drawing must cost). Printed: the median of each and the ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pustula.store.files.blobs import FileStore
from pustula.store.files.images import clean_photograph


def phone_photo() -> bytes:
    """4000 x 3000, skin tones with texture (noise compresses like a photograph, not like
    a flat colour), EXIF with an orientation and a GPS position."""
    rng = np.random.default_rng(20261205)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([200 + 30 * np.sin(x / 300), 140 + 20 * np.cos(y / 250),
                     125 + 10 * np.sin((x + y) / 400)], axis=-1)  # fmt: skip
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _baseline(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=92)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = phone_photo()
    print(f"a 4000 x 3000 JPEG of {len(data) / 1e6:.1f} MB, with EXIF and GPS")
    ours, baseline = [], []
    with tempfile.TemporaryDirectory() as folder:
        files = FileStore(Path(folder))
        for _ in range(args.repeat):
            start = time.perf_counter()
            kept = clean_photograph(data, max_bytes=25_000_000)
            files.put(kept.data)
            files.put(kept.thumbnail)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            _baseline(data)
            baseline.append(time.perf_counter() - start)
    mine, theirs = statistics.median(ours), statistics.median(baseline)
    print(f"take in (check, upright, sRGB, re-draw, thumbnail, keep both): {1000 * mine:.0f} ms")
    print(f"baseline (Pillow decode + JPEG encode, nothing else): {1000 * theirs:.0f} ms")
    print(f"RATIO take in / baseline = {mine / theirs:.2f}")


if __name__ == "__main__":
    main()
