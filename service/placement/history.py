"""Placement over time: one placement per period, each on the window of calls up to that period's end, each
compared with the last placed one for hysteresis; team-relative lines; movements between periods.

Pure: the history is re-derived from the calls themselves, so any stored placement can be checked against it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Sequence

from pydantic import BaseModel

from service.placement.classifier import Placement, ThresholdSource, place, score_call
from service.placement.window import chronological, period_of, trim_window, when
from service.rubrics.schemas import AXES, AxisName, Rubric
from service.scoring.schemas import Assessment

Lines = dict[AxisName, float]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _periods(assessments: Sequence[Assessment], rubric: Rubric) -> dict[str, list[Assessment]]:
    """For each period with a call, every call up to that period's end (oldest first)."""
    kind = rubric.model.placement.trend.period
    keyed = [(period_of(when(a), kind), a) for a in chronological([a for a in assessments if a.status == "scored"])]
    return {p: [a for key, a in keyed if key <= p] for p in sorted({key for key, _ in keyed})}


def placement_history(
    agent_id: str,
    assessments: Sequence[Assessment],
    rubric: Rubric,
    lines_by_period: Mapping[str, Lines] | None = None,
) -> list[Placement]:
    """The agent's placement at the end of each period with calls, oldest first; the last is the current one."""
    history: list[Placement] = []
    last_placed: Placement | None = None
    scored = {a.id: score_call(a, rubric) for a in assessments if a.status == "scored"}
    for period, upto in _periods(assessments, rubric).items():
        lines = (lines_by_period or {}).get(period)
        source: ThresholdSource = "team_percentile" if lines else "absolute"
        placement = place(agent_id, trim_window(upto, rubric.model.placement.window), rubric,
                          previous=last_placed, thresholds=lines, thresholds_source=source, period=period,
                          scored=scored)
        history.append(placement)
        if placement.status == "placed":
            last_placed = placement
    return history


def team_lines(assessments_by_agent: Mapping[str, Sequence[Assessment]], rubric: Rubric) -> dict[str, Lines]:
    """Team-relative lines per period: the team's percentile of each axis over agents with enough calls.

    Empty when the model asks for absolute lines, and for any period with too few placeable agents.
    """
    relative = rubric.model.placement.relative_thresholds
    if relative is None:
        return {}
    scores: dict[str, dict[AxisName, list[float]]] = defaultdict(lambda: defaultdict(list))
    for agent_id in sorted(assessments_by_agent):
        for placement in placement_history(agent_id, assessments_by_agent[agent_id], rubric):
            if placement.calls_needed:
                continue
            for axis in AXES:
                value = placement.axes[axis].score
                if value is not None:
                    scores[placement.period or ""][axis].append(value)
    lines: dict[str, Lines] = {}
    for period, by_axis in scores.items():
        if all(len(by_axis[axis]) >= relative.min_agents for axis in AXES):
            lines[period] = {axis: round(percentile(by_axis[axis], relative.percentile), 1) for axis in AXES}
    return lines


def team_histories(
    assessments_by_agent: Mapping[str, Sequence[Assessment]], rubric: Rubric
) -> dict[str, list[Placement]]:
    """Every agent's history, with team-relative lines when the model asks for them."""
    lines = team_lines(assessments_by_agent, rubric)
    return {
        agent_id: placement_history(agent_id, assessments_by_agent[agent_id], rubric, lines)
        for agent_id in sorted(assessments_by_agent)
    }


class Movement(BaseModel):
    agent_id: str
    from_period: str | None
    to_period: str
    from_quadrant: str | None
    to_quadrant: str | None


def placement_at(history: Sequence[Placement], period: str) -> Placement | None:
    """The placement in force at the end of ``period``: the latest one at or before it."""
    before = [p for p in history if (p.period or "") <= period]
    return before[-1] if before else None


def movements(histories: Mapping[str, Sequence[Placement]]) -> tuple[str | None, str | None, list[Movement]]:
    """The team's latest period, the one before, and every agent whose quadrant differs between them."""
    periods = sorted({p.period for h in histories.values() for p in h if p.period})
    if not periods:
        return None, None, []
    current = periods[-1]
    previous = periods[-2] if len(periods) > 1 else None
    moved = []
    for agent_id in sorted(histories):
        now = placement_at(histories[agent_id], current)
        then = placement_at(histories[agent_id], previous) if previous else None
        if now is None or previous is None:
            continue
        if (then.quadrant if then else None) != now.quadrant:
            moved.append(Movement(agent_id=agent_id, from_period=then.period if then else None, to_period=current,
                                  from_quadrant=then.quadrant if then else None, to_quadrant=now.quadrant))
    return current, previous, moved
