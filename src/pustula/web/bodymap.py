"""Palm and sole maps: an anatomical outline with touch-sized cells to mark involvement.

Each map is a grid of 24 px cells (WCAG 2.2's minimum target size) inside the outline of
a hand (palm, four fingers, thumb) or a sole (forefoot, arch, heel). Marking cells fills
in the involved area: the share of marked cells, rounded to a whole percent. The outline
and the cells come from the same shapes, so every cell lies on the drawn region.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CELL", "BodyMap", "body_map"]

CELL = 24


@dataclass(frozen=True)
class _Box:
    """A rounded rectangle in grid units (x, y, width, height, corner radius)."""

    x: float
    y: float
    w: float
    h: float
    r: float

    def holds(self, px: float, py: float) -> bool:
        return self.x <= px <= self.x + self.w and self.y <= py <= self.y + self.h

    def path(self, mirror_width: float | None) -> str:
        x = self.x if mirror_width is None else mirror_width - self.x - self.w
        x, y, w, h, r = (v * CELL for v in (x, self.y, self.w, self.h, self.r))
        return (
            f"M{x + r:g},{y:g}h{w - 2 * r:g}a{r:g},{r:g} 0 0 1 {r:g},{r:g}v{h - 2 * r:g}"
            f"a{r:g},{r:g} 0 0 1 {-r:g},{r:g}h{2 * r - w:g}a{r:g},{r:g} 0 0 1 {-r:g},{-r:g}"
            f"v{2 * r - h:g}a{r:g},{r:g} 0 0 1 {r:g},{-r:g}z"
        )


@dataclass(frozen=True)
class _Oval:
    cx: float
    cy: float
    rx: float
    ry: float

    def holds(self, px: float, py: float) -> bool:
        return ((px - self.cx) / self.rx) ** 2 + ((py - self.cy) / self.ry) ** 2 <= 1.0

    def path(self, mirror_width: float | None) -> str:
        cx = self.cx if mirror_width is None else mirror_width - self.cx
        cx, cy, rx, ry = (v * CELL for v in (cx, self.cy, self.rx, self.ry))
        return (
            f"M{cx - rx:g},{cy:g}a{rx:g},{ry:g} 0 1 0 {2 * rx:g},0"
            f"a{rx:g},{ry:g} 0 1 0 {-2 * rx:g},0z"
        )


# a right hand seen from the palm side, fingers up: little finger left, thumb on the right
_HAND = (
    _Box(1, 4.2, 7, 7.6, 1.2),  # palm
    _Box(1, 1, 1.6, 3.6, 0.8), _Box(2.8, 0, 1.6, 4.6, 0.8),  # little and ring fingers
    _Box(4.6, 0, 1.6, 4.6, 0.8), _Box(6.4, 1, 1.6, 3.6, 0.8),  # middle and index
    _Box(8.0, 5.4, 1.0, 3.4, 0.5),  # thumb
)  # fmt: skip
_FOOT = (_Oval(3, 3.6, 3, 3.6), _Box(0.8, 3.6, 4.4, 6, 1.5), _Oval(3, 10, 2.3, 2.9))
_GRID = {"palm": (9, 12, _HAND), "sole": (6, 13, _FOOT)}


@dataclass(frozen=True)
class BodyMap:
    region: str
    cells: tuple[tuple[int, int], ...]  # (x, y) of each cell's top-left corner, in px
    outline: tuple[str, ...]  # SVG path data of the region's shape
    width: int
    height: int
    cell: int = CELL


def body_map(region: str) -> BodyMap:
    cols, rows, shapes = _GRID["palm" if region.endswith("palm") else "sole"]
    # the left hand and foot are the mirror images of the right ones
    mirror = float(cols) if region.startswith("left") else None
    cells = tuple(
        ((cols - 1 - c if mirror else c) * CELL, r * CELL)
        for r in range(rows)
        for c in range(cols)
        if any(s.holds(c + 0.5, r + 0.5) for s in shapes)
    )
    outline = tuple(s.path(mirror) for s in shapes)
    return BodyMap(region, cells, outline, cols * CELL, rows * CELL)
