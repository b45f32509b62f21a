"""Calls longer than the model's context: scored in segments of whole turns, then merged.

Never truncated: a turn that alone does not fit is an error that says so. Turn numbers stay those of the whole
call, so evidence from any segment cites the original turn. Pure functions, deterministic.
"""

from __future__ import annotations

from typing import Callable, Sequence

from service.scoring.schemas import CriterionAnswer, ModelAnswer
from service.transcripts.schemas import Turn

NumberedTurns = list[tuple[int, Turn]]


class SegmentError(ValueError):
    """A single turn is longer than the model's context allows."""


def plan_segments(turns: NumberedTurns, fits: Callable[[NumberedTurns], bool]) -> list[NumberedTurns]:
    """Greedy: as many whole turns per segment as fit; one segment when the whole call fits."""
    if fits(turns):
        return [turns]
    segments: list[NumberedTurns] = []
    current: NumberedTurns = []
    for item in turns:
        if fits([*current, item]):
            current.append(item)
            continue
        if not current:
            raise SegmentError(f"turn {item[0]} alone is longer than the model's context; raise the context size")
        segments.append(current)
        current = [item]
        if not fits(current):
            raise SegmentError(f"turn {item[0]} alone is longer than the model's context; raise the context size")
    if current:
        segments.append(current)
    return segments


def merge_answers(answers: Sequence[ModelAnswer]) -> ModelAnswer:
    """Per criterion: the rounded mean of the segments' scores (nulls left out), with the evidence and rationale
    of the segment whose score is nearest that mean (the earliest on ties). Critical items: every one raised."""
    if len(answers) == 1:
        return answers[0]
    merged: dict[str, CriterionAnswer] = {}
    for criterion_id in answers[0].criteria:
        items = [a.criteria[criterion_id] for a in answers if criterion_id in a.criteria]
        scored = [i for i in items if i.score is not None]
        if not scored:
            merged[criterion_id] = items[0]
            continue
        mean = sum(i.score for i in scored) / len(scored)  # type: ignore[misc]
        score = int(mean + 0.5)
        nearest = min(scored, key=lambda i: abs(i.score - mean))  # type: ignore[operator]
        merged[criterion_id] = nearest.model_copy(update={"score": score})
    critical = []
    for answer in answers:
        critical.extend(c for c in answer.critical if c not in critical)
    return ModelAnswer(criteria=merged, critical=critical)
