"""Cells of the palm and sole maps. Marking cells fills in the involved area percentage.

Each map is a grid clipped to an outline (a palm with fingers, an oval sole); the area
percentage is the share of marked cells, rounded to a whole percent.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CELL", "BodyMap", "body_map"]

CELL = 12


@dataclass(frozen=True)
class BodyMap:
    region: str
    cells: tuple[tuple[int, int], ...]  # (x, y) of each cell's top-left corner
    width: int
    height: int


def _palm(col: int, row: int) -> bool:
    # rows 0-4: four fingers (columns 1,3,5,7 of 9), rows 5-13: the palm, thumb at the side
    if row <= 4:
        return col in (1, 3, 5, 7) and not (row == 0 and col in (1, 7))
    return 1 <= col <= 7 or (col == 8 and 6 <= row <= 9)


def _sole(col: int, row: int) -> bool:
    cx, cy = 2.5, 7.5
    return ((col - cx) / 3.2) ** 2 + ((row - cy) / 8.2) ** 2 <= 1.0


def body_map(region: str) -> BodyMap:
    palm = region.endswith("palm")
    cols, rows = (9, 14) if palm else (6, 16)
    inside = _palm if palm else _sole
    mirror = region.startswith("left")
    cells = tuple(
        ((cols - 1 - c if mirror else c) * CELL, r * CELL)
        for r in range(rows)
        for c in range(cols)
        if inside(c, r)
    )
    return BodyMap(region, cells, cols * CELL, rows * CELL)
