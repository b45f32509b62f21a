"""Learning ability as a trend: how the agent's axis scores move from period to period.

Shown only when there are enough calls in at least two periods; a slope from a handful of calls is noise.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal, Sequence

from pydantic import BaseModel, Field

from service.placement.classifier import score_call
from service.placement.window import period_of, when
from service.rubrics.schemas import AXES, AxisName, Rubric
from service.scoring.schemas import Assessment

Direction = Literal["improving", "steady", "declining"]


class TrendPoint(BaseModel):
    period: str
    calls: int
    ability: float | None
    cognition: float | None


class Trend(BaseModel):
    periods: list[TrendPoint] = Field(description="Periods with enough calls, oldest first.")
    slopes: dict[AxisName, float | None] = Field(description="Points per period (least squares).")
    direction: Direction | None
    shown: bool
    reason: str | None = Field(default=None, description="Why no trend is shown yet (machine-readable).")


def _ordinal(period: str) -> int:
    """Periods as consecutive integers, so that a gap month counts as a gap."""
    if "-W" in period:
        year, week = period.split("-W")
        return int(year) * 53 + int(week)
    year, month = period.split("-")
    return int(year) * 12 + int(month)


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx, 2) if sxx else None


def learning_trend(assessments: Sequence[Assessment], rubric: Rubric) -> Trend:
    policy = rubric.model.placement.trend
    by_period: dict[str, list[dict[AxisName, float]]] = defaultdict(list)
    for assessment in assessments:
        if assessment.status != "scored":
            continue
        scores = score_call(assessment, rubric).axes
        if scores:
            by_period[period_of(when(assessment), policy.period)].append(scores)
    points = []
    for period in sorted(by_period):
        calls = by_period[period]
        if len(calls) < policy.min_calls_per_period:
            continue
        means: dict[str, float | None] = {}
        for axis in AXES:
            values = [c[axis] for c in calls if axis in c]
            means[axis] = round(sum(values) / len(values), 1) if values else None
        points.append(TrendPoint(period=period, calls=len(calls), ability=means["ability"], cognition=means["cognition"]))
    if len(points) < policy.min_periods:
        return Trend(periods=points, slopes={a: None for a in AXES}, direction=None, shown=False,
                     reason="too_few_periods")
    slopes: dict[AxisName, float | None] = {}
    for axis in AXES:
        pairs = [(_ordinal(p.period), getattr(p, axis)) for p in points if getattr(p, axis) is not None]
        slopes[axis] = _slope([x for x, _ in pairs], [y for _, y in pairs])
    known = [s for s in slopes.values() if s is not None]
    overall = sum(known) / len(known) if known else 0.0
    direction: Direction = (
        "steady" if abs(overall) <= policy.steady_band else "improving" if overall > 0 else "declining"
    )
    return Trend(periods=points, slopes=slopes, direction=direction, shown=True)
