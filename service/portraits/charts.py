"""Chart geometry for the portrait pages, computed here so that templates only draw: the radar of dimensions and
the iceberg (ability above the water line, cognition below). Inline SVG, no scripts or fonts: it works offline
and prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from service.portraits.schemas import DimensionView


@dataclass(frozen=True)
class Spoke:
    name: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str
    score: float | None
    point: tuple[float, float] | None


@dataclass(frozen=True)
class Radar:
    size: int
    center: float
    rings: list[str]  # polygon points for 25/50/75/100
    spokes: list[Spoke]
    shape: str  # polygon points through the assessed dimensions
    threshold_ring: str | None


def _polar(center: float, radius: float, index: int, count: int) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return round(center + radius * math.cos(angle), 1), round(center + radius * math.sin(angle), 1)


def radar(dimensions: Sequence[DimensionView], size: int = 300, threshold: float | None = None) -> Radar:
    """One spoke per dimension, ability's first; a dimension not assessable gets a spoke but no point."""
    center = size / 2
    radius = size / 2 - 56
    count = len(dimensions)
    rings = []
    for level in (25, 50, 75, 100):
        points = [_polar(center, radius * level / 100, i, count) for i in range(count)]
        rings.append(" ".join(f"{x},{y}" for x, y in points))
    spokes = []
    for i, d in enumerate(dimensions):
        x, y = _polar(center, radius, i, count)
        lx, ly = _polar(center, radius + 16, i, count)
        anchor = "middle" if abs(lx - center) < 8 else ("start" if lx > center else "end")
        point = _polar(center, radius * d.score_100 / 100, i, count) if d.score_100 is not None else None
        spokes.append(Spoke(d.name, x, y, lx, ly + 4, anchor, d.score_100, point))
    shape = " ".join(f"{s.point[0]},{s.point[1]}" for s in spokes if s.point)
    threshold_ring = None
    if threshold is not None:
        points = [_polar(center, radius * threshold / 100, i, count) for i in range(count)]
        threshold_ring = " ".join(f"{x},{y}" for x, y in points)
    return Radar(size, center, rings, spokes, shape, threshold_ring)


@dataclass(frozen=True)
class Block:
    name: str
    score: float | None
    x: float
    y: float
    width: float
    height: float
    label_y: float


@dataclass(frozen=True)
class Iceberg:
    width: int
    height: int
    water_y: float
    above: list[Block]
    below: list[Block]
    ability_line_y: float
    cognition_line_y: float


def iceberg(
    dimensions: Sequence[DimensionView], ability_threshold: float, cognition_threshold: float, width: int = 560
) -> Iceberg:
    """Ability's dimensions rise above the water line, cognition's hang below it, each as tall as its score.

    The deeper part is drawn taller, as in the model: what shows in a call is the smaller part of competency.
    """
    above_height, below_height, gap = 110.0, 160.0, 6.0
    water = 40 + above_height
    ability = [d for d in dimensions if d.axis == "ability"]
    cognition = [d for d in dimensions if d.axis == "cognition"]

    def row(items: Sequence[DimensionView], up: bool, span: float) -> list[Block]:
        if not items:
            return []
        slot = (width - 40) / len(items)
        blocks = []
        for i, d in enumerate(items):
            height = span * (d.score_100 or 0) / 100
            x = 20 + i * slot + gap / 2
            y = water - height if up else water
            label_y = water - height - 20 if up else water + height + 14  # two lines: name, then score
            blocks.append(Block(d.name, d.score_100, round(x, 1), round(y, 1), round(slot - gap, 1),
                                round(height, 1), round(label_y, 1)))
        return blocks

    return Iceberg(
        width=width, height=int(water + below_height + 44), water_y=water,
        above=row(ability, True, above_height), below=row(cognition, False, below_height),
        ability_line_y=round(water - above_height * ability_threshold / 100, 1),
        cognition_line_y=round(water + below_height * cognition_threshold / 100, 1),
    )
