"""From an agent's assessments to dimension scores, the two axis scores (0-100), the quadrant and its program.

Pure and deterministic: no clock, no randomness, no I/O; inputs are sorted before use so that the order in which
assessments arrive cannot change the result.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Literal, Sequence

from pydantic import BaseModel, Field

from service.rubrics.schemas import AXES, AxisName, Rubric
from service.scoring.schemas import Assessment

Status = Literal["placed", "not_yet_placeable"]


class DimensionScore(BaseModel):
    dimension: str
    axis: AxisName
    mean: float | None = Field(description="Mean 1-5 score over calls; null when not assessable.")
    score_100: float | None
    calls: int = Field(description="Calls in which the dimension was assessed.")
    weight: float


class Driver(BaseModel):
    dimension: str
    contribution: float = Field(description="Points this dimension moves the axis score above (+) or below (-) "
                                            "its threshold; the contributions sum to the distance.")


class AxisScore(BaseModel):
    axis: AxisName
    score: float | None = Field(description="0-100; null when no dimension of the axis is assessable.")
    threshold: float
    level: Literal["high", "low"] | None
    assessed_dimensions: list[str]
    distance: float | None = Field(default=None, description="score - threshold: how far from the boundary.")
    interval: tuple[float, float] | None = Field(
        default=None, description="95% interval over calls (t-interval of the per-call axis scores); needs 2+ calls."
    )
    borderline: bool = Field(default=False, description="The interval straddles the threshold.")
    drivers: list[Driver] = Field(default_factory=list, description="Largest pull first.")


class Placement(BaseModel):
    agent_id: str
    status: Status
    assessed_calls: int
    calls_needed: int = Field(description="More assessed calls needed before a placement; 0 once placed.")
    quadrant: str | None
    program: str | None
    axes: dict[AxisName, AxisScore]
    dimensions: list[DimensionScore]
    assessment_ids: list[str]
    excluded_scores: int = Field(description="Scores left out because their evidence could not be verified.")


# Two-sided 95% Student t critical values by degrees of freedom; beyond 30, the normal 1.96 is close enough.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def _t95(df: int) -> float:
    eligible = [k for k in _T95 if k <= df]
    return _T95[max(eligible)] if df <= 30 else 1.96


def t_interval(values: Sequence[float], center: float) -> tuple[float, float] | None:
    """A 95% interval around ``center`` from the spread of per-call values, clipped to 0-100."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t95(n - 1) * sd / math.sqrt(n)
    return (round(max(0.0, center - half), 1), round(min(100.0, center + half), 1))


def _axis_mean(dims: dict[str, float], weights: dict[str, float]) -> float | None:
    used = {d: w for d, w in weights.items() if d in dims}
    if not used:
        return None
    return sum(w * dims[d] for d, w in used.items()) / sum(used.values())


def to_100(mean: float, low: int = 1, high: int = 5) -> float:
    return round((mean - low) / (high - low) * 100, 1)


def _call_dimension_scores(assessment: Assessment, rubric: Rubric) -> tuple[dict[str, float], int]:
    """Per dimension, the criterion-weighted mean of one call's usable scores; and how many scores were excluded.

    Not-assessable scores (null) leave numerator and denominator alike; scores flagged for review (no verified
    evidence) are not facts and are left out the same way.
    """
    sums: dict[str, float] = defaultdict(float)
    weights: dict[str, float] = defaultdict(float)
    excluded = 0
    for item in assessment.scores:
        if item.score is None:
            continue
        if item.needs_review:
            excluded += 1
            continue
        try:
            criterion = rubric.criterion(item.criterion_id)
        except KeyError:
            continue
        sums[criterion.dimension] += criterion.weight * item.score
        weights[criterion.dimension] += criterion.weight
    return {d: sums[d] / weights[d] for d in sums}, excluded


def place(agent_id: str, assessments: Sequence[Assessment], rubric: Rubric) -> Placement:
    model = rubric.model
    usable = sorted((a for a in assessments if a.status == "scored"), key=lambda a: a.id)
    per_dimension: dict[str, list[float]] = defaultdict(list)
    per_call_axis: dict[AxisName, list[float]] = defaultdict(list)
    assessed_calls = 0
    excluded_total = 0
    for assessment in usable:
        dims, excluded = _call_dimension_scores(assessment, rubric)
        excluded_total += excluded
        if dims:
            assessed_calls += 1
        for dimension, value in dims.items():
            per_dimension[dimension].append(value)
        for axis_name in AXES:
            call_mean = _axis_mean(dims, model.axes[axis_name].weights)
            if call_mean is not None:
                per_call_axis[axis_name].append(to_100(call_mean))

    dimensions: list[DimensionScore] = []
    axes: dict[AxisName, AxisScore] = {}
    for axis_name in AXES:
        axis = model.axes[axis_name]
        total = weight_sum = 0.0
        assessed: list[str] = []
        for dimension, weight in axis.weights.items():
            values = per_dimension.get(dimension, [])
            mean = round(sum(values) / len(values), 4) if values else None
            dimensions.append(
                DimensionScore(
                    dimension=dimension,
                    axis=axis_name,
                    mean=mean,
                    score_100=to_100(mean) if mean is not None else None,
                    calls=len(values),
                    weight=weight,
                )
            )
            if mean is not None:
                total += weight * mean
                weight_sum += weight
                assessed.append(dimension)
        score = to_100(total / weight_sum) if weight_sum else None
        threshold = model.thresholds[axis_name]
        level = None if score is None else ("high" if score >= threshold else "low")
        interval = t_interval(per_call_axis[axis_name], score) if score is not None else None
        drivers = []
        if score is not None:
            for dimension in assessed:
                share = axis.weights[dimension] / weight_sum
                dimension_100 = to_100(sum(per_dimension[dimension]) / len(per_dimension[dimension]))
                drivers.append(Driver(dimension=dimension, contribution=round(share * (dimension_100 - threshold), 1)))
            drivers.sort(key=lambda d: (-abs(d.contribution), d.dimension))
        axes[axis_name] = AxisScore(
            axis=axis_name, score=score, threshold=threshold, level=level, assessed_dimensions=assessed,
            distance=round(score - threshold, 1) if score is not None else None,
            interval=interval,
            borderline=bool(interval and interval[0] < threshold <= interval[1]),
            drivers=drivers,
        )

    calls_needed = max(0, model.min_assessed_calls - assessed_calls)
    quadrant = program = None
    placeable = calls_needed == 0 and all(axes[a].level is not None for a in AXES)
    if placeable:
        for name, rule in model.quadrants.items():
            if rule.ability == axes["ability"].level and rule.cognition == axes["cognition"].level:
                quadrant, program = name, rule.program
    return Placement(
        agent_id=agent_id,
        status="placed" if quadrant else "not_yet_placeable",
        assessed_calls=assessed_calls,
        calls_needed=calls_needed if not quadrant else 0,
        quadrant=quadrant,
        program=program,
        axes=axes,
        dimensions=dimensions,
        assessment_ids=[a.id for a in usable],
        excluded_scores=excluded_total,
    )
