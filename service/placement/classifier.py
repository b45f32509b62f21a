"""From an agent's assessments to dimension scores, the two axis scores (0-100), the quadrant and its program.

Pure and deterministic: no clock, no randomness, no I/O; inputs are sorted before use so that the order in which
assessments arrive cannot change the result.
"""

from __future__ import annotations

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


class AxisScore(BaseModel):
    axis: AxisName
    score: float | None = Field(description="0-100; null when no dimension of the axis is assessable.")
    threshold: float
    level: Literal["high", "low"] | None
    assessed_dimensions: list[str]


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
    assessed_calls = 0
    excluded_total = 0
    for assessment in usable:
        dims, excluded = _call_dimension_scores(assessment, rubric)
        excluded_total += excluded
        if dims:
            assessed_calls += 1
        for dimension, value in dims.items():
            per_dimension[dimension].append(value)

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
        axes[axis_name] = AxisScore(
            axis=axis_name, score=score, threshold=threshold, level=level, assessed_dimensions=assessed
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
