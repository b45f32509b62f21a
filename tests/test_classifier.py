from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from service.config import PROJECT_ROOT
from service.placement.classifier import place
from service.rubrics.loader import load_rubric
from service.scoring.schemas import Assessment, CriterionScore, Evidence

SHIPPED = load_rubric(PROJECT_ROOT / "rubrics")
# These tests fix the minimum at 3 calls so that they read the same whatever the shipped default is.
RUBRIC = SHIPPED.model_copy(update={"model": SHIPPED.model.model_copy(update={"min_assessed_calls": 3})})


def _assessment(n: int, scores: dict[str, int | None], unverified: frozenset[str] = frozenset()) -> Assessment:
    return Assessment(
        id=f"a{n:03d}", transcript_id=f"t{n}", agent_id="A1", status="scored", rubric_version=RUBRIC.version,
        prompt_version="p", model="m", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        scores=[
            CriterionScore(
                criterion_id=cid, dimension=RUBRIC.criterion(cid).dimension, score=value, rationale="r",
                evidence=[Evidence(turn=1, quote="q", status="unverified" if cid in unverified else "verified")],
                needs_review=cid in unverified and value is not None, source="test",
            )
            for cid, value in scores.items()
        ],
    )


def _calls(count: int, **scores: int | None) -> list[Assessment]:
    return [_assessment(n, dict(scores)) for n in range(count)]


@pytest.mark.parametrize(
    ("ability", "cognition", "quadrant", "program"),
    [
        (5, 5, "lead_goose", "lead_goose"),
        (5, 1, "forging_soul", "forging_soul"),
        (1, 5, "strengthening_base", "strengthening_base"),
        (1, 1, "leaving_tail", "leaving_tail"),
    ],
)
def test_quadrants(ability: int, cognition: int, quadrant: str, program: str) -> None:
    calls = _calls(3, answering_skill=ability, professional_knowledge=ability, service_attitude=cognition,
                   logic=cognition)
    placement = place("A1", calls, RUBRIC)
    assert (placement.status, placement.quadrant, placement.program) == ("placed", quadrant, program)
    assert placement.axes["ability"].score == (ability - 1) * 25
    assert placement.axes["cognition"].score == (cognition - 1) * 25


def test_axis_weights_and_not_assessable_dimensions() -> None:
    # ability weights: answering_skill 0.40, professional_knowledge 0.30 (the others are not assessable)
    calls = _calls(3, answering_skill=5, professional_knowledge=1, service_attitude=3, logic=None)
    placement = place("A1", calls, RUBRIC)
    expected_mean = (0.40 * 5 + 0.30 * 1) / 0.70
    assert placement.axes["ability"].score == pytest.approx((expected_mean - 1) * 25, abs=0.05)
    assert placement.axes["cognition"].assessed_dimensions == ["service_attitude"]
    logic = next(d for d in placement.dimensions if d.dimension == "logic")
    assert logic.mean is None and logic.calls == 0


def test_threshold_is_inclusive() -> None:
    # 60 on the 0-100 scale is a mean of 3.4: exactly at the threshold counts as high
    calls = [_assessment(n, {"answering_skill": s, "professional_knowledge": s, "service_attitude": s, "logic": s})
             for n, s in enumerate([3, 3, 4, 4, 3])]
    placement = place("A1", calls, RUBRIC)
    assert placement.axes["ability"].score == 60.0
    assert placement.quadrant == "lead_goose"


def test_too_few_calls_is_not_yet_placeable() -> None:
    placement = place("A1", _calls(2, answering_skill=5, professional_knowledge=5, service_attitude=5, logic=5),
                      RUBRIC)
    assert placement.status == "not_yet_placeable"
    assert placement.quadrant is None and placement.calls_needed == 1


def test_all_not_assessable_is_not_a_perfect_score() -> None:
    placement = place("A1", _calls(5, answering_skill=None, professional_knowledge=None, service_attitude=None,
                                   logic=None), RUBRIC)
    assert placement.status == "not_yet_placeable"
    assert placement.axes["ability"].score is None and placement.assessed_calls == 0


def test_unverified_scores_are_left_out() -> None:
    calls = [_assessment(n, {"answering_skill": 5, "professional_knowledge": 1, "service_attitude": 4, "logic": 4},
                         unverified=frozenset({"professional_knowledge"})) for n in range(3)]
    placement = place("A1", calls, RUBRIC)
    assert placement.excluded_scores == 3
    assert placement.axes["ability"].score == 100.0


def test_failed_assessments_do_not_count() -> None:
    calls = _calls(3, answering_skill=4, professional_knowledge=4, service_attitude=4, logic=4)
    failed = calls[0].model_copy(update={"status": "failed", "scores": [], "id": "z"})
    assert place("A1", [*calls, failed], RUBRIC).assessed_calls == 3


def test_same_input_same_output_in_any_order() -> None:
    rng = random.Random(7)
    calls = [_assessment(n, {c: rng.choice([1, 2, 3, 4, 5, None]) for c in
                             ("answering_skill", "professional_knowledge", "service_attitude", "logic")})
             for n in range(12)]
    first = place("A1", calls, RUBRIC)
    for _ in range(5):
        rng.shuffle(calls)
        assert place("A1", calls, RUBRIC) == first


def test_interval_borderline_distance_and_drivers() -> None:
    # ability per call: 5/5 -> 100, 3/3 -> 50, 4/4 -> 75; mean 75, sd 25, t(2)=4.303: half width 62.1
    calls = [_assessment(n, {"answering_skill": s, "professional_knowledge": s, "service_attitude": 5, "logic": 5})
             for n, s in enumerate([5, 3, 4])]
    placement = place("A1", calls, RUBRIC)
    ability = placement.axes["ability"]
    assert ability.score == 75.0 and ability.distance == 15.0
    assert ability.interval == (12.9, 100.0)
    assert ability.borderline
    cognition = placement.axes["cognition"]
    assert cognition.interval == (100.0, 100.0) and not cognition.borderline
    # the drivers explain the distance: weights 0.4 and 0.3 over 0.7, both dimensions at 75
    assert sum(d.contribution for d in ability.drivers) == pytest.approx(ability.distance, abs=0.2)
    assert [d.dimension for d in ability.drivers] == ["answering_skill", "professional_knowledge"]


def test_drivers_show_what_pulls_down() -> None:
    calls = _calls(3, answering_skill=5, professional_knowledge=1, service_attitude=3, logic=3)
    drivers = {d.dimension: d.contribution for d in place("A1", calls, RUBRIC).axes["ability"].drivers}
    assert drivers["answering_skill"] > 0 > drivers["professional_knowledge"]


def test_one_call_has_no_interval() -> None:
    placement = place("A1", _calls(1, answering_skill=4, professional_knowledge=4, service_attitude=4, logic=4),
                      RUBRIC)
    assert placement.axes["ability"].interval is None and not placement.axes["ability"].borderline
