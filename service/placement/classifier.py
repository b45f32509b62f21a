"""From an agent's assessments to dimension scores, the two axis scores (0-100), the quadrant and its program.

Pure and deterministic: no clock, no randomness, no I/O; inputs are sorted before use so that the order in which
assessments arrive cannot change the result. What varies between teams and over time (the previous placement for
hysteresis, team-relative lines) comes in as arguments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from pydantic import BaseModel, Field

from service.rubrics.schemas import AXES, AxisName, Rubric
from service.scoring.schemas import Assessment

Status = Literal["placed", "not_yet_placeable"]
ThresholdSource = Literal["absolute", "team_percentile"]


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
    held: bool = Field(default=False, description="Hysteresis: the score crossed the line but not by the margin, "
                                                  "so the level of the previous placement stands.")
    drivers: list[Driver] = Field(default_factory=list, description="Largest pull first.")


class ComplianceCount(BaseModel):
    item_id: str
    calls: int = Field(description="Calls in the window that raised the item.")
    unverified: int = Field(description="Of those, raised without verified evidence (awaiting review).")


class Placement(BaseModel):
    agent_id: str
    status: Status
    period: str | None = Field(default=None, description="The period this placement closes, e.g. '2026-11'.")
    assessed_calls: int
    calls_needed: int = Field(description="More assessed calls needed before a placement; 0 once placed.")
    quadrant: str | None
    program: str | None
    axes: dict[AxisName, AxisScore]
    dimensions: list[DimensionScore]
    assessment_ids: list[str] = Field(description="The inputs: re-placing these gives this placement again.")
    excluded_scores: int = Field(description="Scores left out because their evidence could not be verified.")
    overridden_scores: int = Field(default=0, description="Scores set by a reviewer, which outrank the model's.")
    thresholds_source: ThresholdSource = "absolute"
    previous_quadrant: str | None = Field(default=None, description="The quadrant hysteresis compared against.")
    compliance: list[ComplianceCount] = Field(
        default_factory=list, description="Critical items raised, counted apart from the scores, never averaged."
    )


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


@dataclass(frozen=True)
class CallScores:
    """What one call says about the agent: per dimension and per axis, and what was left out or overridden."""

    dimensions: dict[str, float]
    axes: dict[AxisName, float]
    excluded: int
    overridden: int


def score_call(assessment: Assessment, rubric: Rubric) -> CallScores:
    """Per dimension, the criterion-weighted mean of one call's usable scores, and the call's axis scores.

    Not-assessable scores (null) leave numerator and denominator alike; model scores flagged for review (no
    verified evidence) are not facts and are left out the same way. A reviewer's score always counts.
    """
    weights_of = rubric.criterion_weights
    sums: dict[str, float] = defaultdict(float)
    weights: dict[str, float] = defaultdict(float)
    excluded = overridden = 0
    for item in assessment.scores:
        if item.override:
            overridden += 1
        elif item.score is not None and item.needs_review:
            excluded += 1
        known = weights_of.get(item.criterion_id)
        if known is None or not item.counts:
            continue
        dimension, weight = known
        sums[dimension] += weight * item.final_score  # type: ignore[operator]
        weights[dimension] += weight
    dims = {d: sums[d] / weights[d] for d in sums}
    axes: dict[AxisName, float] = {}
    for axis_name in AXES:
        mean = _axis_mean(dims, rubric.model.axes[axis_name].weights)
        if mean is not None:
            axes[axis_name] = to_100(mean)
    return CallScores(dims, axes, excluded, overridden)


def axis_level(score: float, threshold: float, previous: Literal["high", "low"] | None, margin: float
           ) -> tuple[Literal["high", "low"], bool]:
    """The axis level, and whether hysteresis held the previous one: leaving a level takes ``margin`` points."""
    raw: Literal["high", "low"] = "high" if score >= threshold else "low"
    if previous is None or previous == raw:
        return raw, False
    if raw == "high" and score < threshold + margin:
        return "low", True
    if raw == "low" and score > threshold - margin:
        return "high", True
    return raw, False


def _compliance(assessments: Sequence[Assessment]) -> list[ComplianceCount]:
    calls: dict[str, set[str]] = defaultdict(set)
    unverified: dict[str, set[str]] = defaultdict(set)
    for assessment in assessments:
        for flag in assessment.compliance_flags:
            calls[flag.item_id].add(assessment.id)
            if flag.status not in ("verified", "repointed"):
                unverified[flag.item_id].add(assessment.id)
    return [ComplianceCount(item_id=i, calls=len(calls[i]), unverified=len(unverified[i])) for i in sorted(calls)]


def place(
    agent_id: str,
    assessments: Sequence[Assessment],
    rubric: Rubric,
    *,
    previous: Placement | None = None,
    thresholds: dict[AxisName, float] | None = None,
    thresholds_source: ThresholdSource = "absolute",
    period: str | None = None,
    scored: Mapping[str, CallScores] | None = None,
) -> Placement:
    """Place the agent on the given assessments (the caller chooses the window).

    ``previous`` is the agent's last placement, for hysteresis; ``thresholds`` replace the model's absolute lines
    (team-relative placement); ``scored`` holds calls already scored by ``score_call``, so that a history placing
    the same calls in several windows scores each call once.
    """
    model = rubric.model
    lines = dict(thresholds or model.thresholds)
    margin = model.placement.hysteresis_margin
    usable = sorted((a for a in assessments if a.status == "scored"), key=lambda a: a.id)
    per_dimension: dict[str, list[float]] = defaultdict(list)
    per_call_axis: dict[AxisName, list[float]] = defaultdict(list)
    assessed_calls = excluded_total = overridden_total = 0
    for assessment in usable:
        call = scored[assessment.id] if scored and assessment.id in scored else score_call(assessment, rubric)
        excluded_total += call.excluded
        overridden_total += call.overridden
        if call.dimensions:
            assessed_calls += 1
        for dimension, value in call.dimensions.items():
            per_dimension[dimension].append(value)
        for axis_name, value in call.axes.items():
            per_call_axis[axis_name].append(value)

    was_placed = previous is not None and previous.status == "placed"
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
        threshold = round(lines[axis_name], 1)
        level: Literal["high", "low"] | None = None
        held = False
        if score is not None:
            before = previous.axes[axis_name].level if was_placed and previous else None
            level, held = axis_level(score, threshold, before, margin)
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
            held=held,
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
        period=period,
        assessed_calls=assessed_calls,
        calls_needed=calls_needed if not quadrant else 0,
        quadrant=quadrant,
        program=program,
        axes=axes,
        dimensions=dimensions,
        assessment_ids=[a.id for a in usable],
        excluded_scores=excluded_total,
        overridden_scores=overridden_total,
        thresholds_source=thresholds_source,
        previous_quadrant=previous.quadrant if was_placed and previous else None,
        compliance=_compliance(usable),
    )


def weakest_dimensions(placement: Placement, count: int = 2) -> list[str]:
    """The assessed dimensions with the lowest means (ties by name): what to develop first."""
    assessed = [d for d in placement.dimensions if d.mean is not None]
    return [d.dimension for d in sorted(assessed, key=lambda d: (d.mean, d.dimension))[:count]]


def strongest_dimensions(placement: Placement, count: int = 2) -> list[str]:
    assessed = [d for d in placement.dimensions if d.mean is not None]
    return [d.dimension for d in sorted(assessed, key=lambda d: (-d.mean, d.dimension))[:count]]  # type: ignore[operator]
