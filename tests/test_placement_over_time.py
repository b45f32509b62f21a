"""Placements over time and across a team: hysteresis, minimum calls, reviewer overrides, compliance flags, the
window, history, the learning trend, team-relative lines, movements and the "1+1" mentor pairing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from service.config import PROJECT_ROOT
from service.placement.classifier import axis_level, place
from service.placement.history import movements, percentile, placement_history, team_lines
from service.placement.pairing import pair_mentors
from service.placement.team import place_team
from service.placement.trend import learning_trend
from service.placement.window import select_window
from service.rubrics.loader import load_rubric
from service.rubrics.schemas import PairingPolicy, PlacementPolicy, RelativeThresholds, Rubric, TrendPolicy, WindowPolicy
from service.scoring.schemas import Assessment, ComplianceFlag, CriterionScore, Evidence, ReviewerOverride

SHIPPED = load_rubric(PROJECT_ROOT / "rubrics")
TZ = timezone(timedelta(hours=8))


def rubric(min_calls: int = 3, **policy: Any) -> Rubric:
    model = SHIPPED.model.model_copy(update={"min_assessed_calls": min_calls,
                                             "placement": PlacementPolicy(**policy)})
    return SHIPPED.model_copy(update={"model": model})


def call(n: int, ability: int | None, cognition: int | None, when: datetime | None = None, agent: str = "A1",
         **extra: Any) -> Assessment:
    """A call scored ``ability`` on answering skill and professional knowledge, ``cognition`` on attitude and logic."""
    scores = {"answering_skill": ability, "professional_knowledge": ability, "service_attitude": cognition,
              "logic": cognition}
    return Assessment(
        id=f"{agent}-{n:03d}", transcript_id=f"{agent}-t{n}", agent_id=agent, status="scored", rubric_version="r",
        prompt_version="p", model="m", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        call_time=when or datetime(2026, 11, 1, 9, tzinfo=TZ) + timedelta(days=n),
        scores=[CriterionScore(criterion_id=c, dimension=SHIPPED.criterion(c).dimension, score=v, rationale="r",
                               evidence=[Evidence(turn=1, quote="q", status="verified")], needs_review=False,
                               source="test") for c, v in scores.items()],
        **extra,
    )


def test_the_shipped_model_needs_five_calls() -> None:
    assert SHIPPED.model.min_assessed_calls == 5
    calls = [call(n, 5, 5) for n in range(4)]
    placement = place("A1", calls, SHIPPED)
    assert placement.status == "not_yet_placeable" and placement.calls_needed == 1
    assert place("A1", [*calls, call(4, 5, 5)], SHIPPED).quadrant == "lead_goose"


@pytest.mark.parametrize(
    ("previous", "score", "margin", "level", "held"),
    [
        (None, 61.0, 3.0, "high", False),    # no previous placement: the plain line
        ("low", 61.0, 3.0, "low", True),     # crossed up but not by the margin: stays low
        ("low", 63.0, 3.0, "high", False),   # cleared the margin
        ("high", 58.0, 3.0, "high", True),   # dipped below but within the margin: stays high
        ("high", 57.0, 3.0, "low", False),   # fell through the margin
        ("low", 61.0, 0.0, "high", False),   # no margin: the plain line
        ("high", 62.0, 3.0, "high", False),  # no crossing: nothing held
        ("low", 60.0, 0.0, "high", False),   # the line itself is high
    ],
)
def test_hysteresis_rule(previous: str | None, score: float, margin: float, level: str, held: bool) -> None:
    assert axis_level(score, 60.0, previous, margin) == (level, held)  # type: ignore[arg-type]


def _ability_57_9() -> list[Assessment]:
    """Answering skill averages 3.4 and knowledge 3.2: ability (0.4*3.4 + 0.3*3.2)/0.7 = 3.314 -> 57.9."""
    calls = [call(n, 3, 5) for n in range(5)]
    for c, a, k in zip(calls, [3, 3, 4, 4, 3], [3, 3, 3, 4, 3]):
        c.scores[0].score, c.scores[1].score = a, k
    return calls


@pytest.mark.parametrize(("margin", "quadrant", "held"), [(3.0, "lead_goose", True), (2.0, "strengthening_base", False)])
def test_hysteresis_through_place(margin: float, quadrant: str, held: bool) -> None:
    r = rubric(hysteresis_margin=margin)
    before = place("A1", [call(n, 5, 5) for n in range(3)], r)
    assert before.quadrant == "lead_goose"
    now = place("A1", _ability_57_9(), r, previous=before)
    assert now.axes["ability"].score == 57.9
    assert (now.quadrant, now.axes["ability"].held, now.previous_quadrant) == (quadrant, held, "lead_goose")
    # without a previous placement the line alone decides
    assert place("A1", _ability_57_9(), r).quadrant == "strengthening_base"


def test_a_previous_placement_that_was_not_placed_does_not_hold() -> None:
    r = rubric()
    waiting = place("A1", [call(0, 5, 5)], r)
    assert waiting.status == "not_yet_placeable"
    assert place("A1", _ability_57_9(), r, previous=waiting).quadrant == "strengthening_base"


@pytest.mark.parametrize(
    ("model_score", "needs_review", "override", "counted"),
    [
        (2, False, None, 2),    # a verified model score counts
        (2, True, None, None),  # unverified: left out
        (2, True, 5, 5),        # a reviewer's score counts even where the model's evidence failed
        (2, False, 4, 4),       # the reviewer outranks the model
        (2, False, "na", None),  # the reviewer says not assessable
    ],
)
def test_reviewer_overrides_outrank_model_scores(model_score: int, needs_review: bool, override: Any,
                                                 counted: int | None) -> None:
    calls = [call(n, 3, 3) for n in range(3)]
    target = calls[0].scores[0]  # answering skill of the first call
    target.score, target.needs_review = model_score, needs_review
    if override is not None:
        target.override = ReviewerOverride(score=None if override == "na" else override, reviewer="rev-li",
                                           comment="复核", at=calls[0].created_at)
    placement = place("A1", calls, rubric())
    answering = next(d for d in placement.dimensions if d.dimension == "answering_skill")
    values = [3, 3] + ([counted] if counted is not None else [])
    assert answering.mean == pytest.approx(sum(values) / len(values), abs=1e-4)
    assert placement.overridden_scores == (1 if override is not None else 0)
    assert placement.excluded_scores == (1 if needs_review and override is None else 0)


def test_compliance_flags_are_counted_apart_and_never_move_scores() -> None:
    flag = ComplianceFlag(item_id="full_card_number_read", turn=2, quote="卡号", status="verified", source="rule:x")
    pending = ComplianceFlag(item_id="guaranteed_return", turn=3, quote="保本", status="unverified", source="model:m")
    clean = [call(n, 5, 5) for n in range(3)]
    flagged = [call(n, 5, 5, compliance_flags=[flag, pending] if n < 2 else [flag]) for n in range(3)]
    a, b = place("A1", clean, rubric()), place("A1", flagged, rubric())
    assert a.axes == b.axes and a.quadrant == b.quadrant
    assert [(c.item_id, c.calls, c.unverified) for c in b.compliance] == [
        ("full_card_number_read", 3, 0), ("guaranteed_return", 2, 2)]


@pytest.mark.parametrize(
    ("window", "kept"),
    [
        (WindowPolicy(last_calls=3), [7, 8, 9]),
        (WindowPolicy(last_calls=None, days=3), [7, 8, 9]),    # newest call on day 9: days 7, 8, 9 are within 3 days
        (WindowPolicy(last_calls=2, days=3), [8, 9]),
        (WindowPolicy(last_calls=None, days=None), list(range(10))),
    ],
)
def test_window(window: WindowPolicy, kept: list[int]) -> None:
    calls = [call(n, 3, 3) for n in range(10)]
    chosen = select_window(list(reversed(calls)), window)
    assert [int(c.id.split("-")[1]) for c in chosen] == kept


def _months(agent: str, months: dict[int, list[tuple[int, int]]]) -> list[Assessment]:
    calls, n = [], 0
    for month, scores in months.items():
        for day, (ability, cognition) in enumerate(scores, start=1):
            calls.append(call(n, ability, cognition, datetime(2026, month, day, 10, tzinfo=TZ), agent=agent))
            n += 1
    return calls


def test_history_has_one_placement_per_period_and_is_rederivable() -> None:
    r = rubric(window=WindowPolicy(last_calls=3))
    calls = _months("A1", {9: [(2, 2), (2, 2), (2, 2)], 10: [(5, 5), (5, 5)], 11: [(5, 5)]})
    history = placement_history("A1", calls, r)
    assert [p.period for p in history] == ["2026-09", "2026-10", "2026-11"]
    assert [p.quadrant for p in history] == ["leaving_tail", "lead_goose", "lead_goose"]
    # October's window: the last three calls up to October's end (one September call, two October calls)
    assert history[1].assessment_ids == ["A1-002", "A1-003", "A1-004"]
    assert history[1].axes["ability"].score == pytest.approx((2 * 100 + 25) / 3, abs=0.1)
    # each placement is what `place` gives on its inputs and the previous placed one
    by_id = {c.id: c for c in calls}
    again = place("A1", [by_id[i] for i in history[2].assessment_ids], r, previous=history[1], period="2026-11")
    assert again == history[2]
    assert placement_history("A1", list(reversed(calls)), r) == history


def test_learning_trend_needs_two_periods_with_enough_calls() -> None:
    r = rubric(trend=TrendPolicy(min_calls_per_period=2))
    improving = _months("A1", {9: [(2, 2), (2, 3)], 10: [(3, 3), (3, 3)], 11: [(4, 4), (4, 5)]})
    trend = learning_trend(improving, r)
    assert trend.shown and trend.direction == "improving"
    assert [p.period for p in trend.periods] == ["2026-09", "2026-10", "2026-11"]
    assert trend.slopes["ability"] == 25.0  # 25, 50, 75 over three months
    one_month = learning_trend(_months("A1", {11: [(4, 4), (4, 4), (4, 4)]}), r)
    assert not one_month.shown and one_month.reason == "too_few_periods"
    thin = learning_trend(_months("A1", {10: [(1, 1)], 11: [(5, 5), (5, 5)]}), r)  # October has one call
    assert not thin.shown
    steady = learning_trend(_months("A1", {10: [(3, 3), (3, 3)], 11: [(3, 3), (3, 3)]}), r)
    assert steady.direction == "steady" and steady.slopes["cognition"] == 0.0


def test_percentile_by_hand() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([10, 20, 30, 40], 25) == pytest.approx(17.5)
    assert percentile([7], 50) == 7


def test_team_relative_lines() -> None:
    # four agents with ability 0, 25, 50, 75 and cognition 75, 50, 25, 0: the team's medians are 37.5 and 37.5
    team = {f"A{i}": [call(n, 1 + i, 4 - i, agent=f"A{i}") for n in range(3)] for i in range(4)}
    absolute = place_team(team, rubric())
    assert {a: p.quadrant for a, p in ((a, absolute.current(a)) for a in team)} == {
        "A0": "strengthening_base", "A1": "leaving_tail", "A2": "leaving_tail", "A3": "forging_soul"}
    relative = place_team(team, rubric(relative_thresholds=RelativeThresholds(percentile=50, min_agents=4),
                                       hysteresis_margin=0))
    assert team_lines(team, rubric(relative_thresholds=RelativeThresholds(min_agents=4))) == {
        "2026-11": {"ability": 37.5, "cognition": 37.5}}
    placed = {a: relative.current(a) for a in team}
    assert {a: p.quadrant for a, p in placed.items()} == {
        "A0": "strengthening_base", "A1": "strengthening_base", "A2": "forging_soul", "A3": "forging_soul"}
    assert all(p.thresholds_source == "team_percentile" for p in placed.values())
    # too few agents for a percentile: the absolute lines apply, and the placement says so
    small = place_team({a: team[a] for a in ("A0", "A1")}, rubric(relative_thresholds=RelativeThresholds(min_agents=4)))
    assert small.current("A0").thresholds_source == "absolute"


def test_movements_between_the_last_two_periods() -> None:
    r = rubric(window=WindowPolicy(last_calls=3), hysteresis_margin=0)
    team = {
        "A1": _months("A1", {10: [(2, 2), (2, 2), (2, 2)], 11: [(5, 5), (5, 5), (5, 5)]}),  # tail -> lead
        "A2": _months("A2", {10: [(5, 5), (5, 5), (5, 5)], 11: [(5, 5)]}),                  # stays lead
        "A3": _months("A3", {11: [(4, 4), (4, 4), (4, 4)]}),                                # new this period
    }
    period, previous, moved = movements(place_team(team, r).histories)
    assert (period, previous) == ("2026-11", "2026-10")
    assert [(m.agent_id, m.from_quadrant, m.to_quadrant) for m in moved] == [
        ("A1", "leaving_tail", "lead_goose"), ("A3", None, "lead_goose")]


def _agent(agent: str, **dimension_scores: int) -> list[Assessment]:
    calls = [call(n, 3, 3, agent=agent) for n in range(3)]
    for c in calls:
        for s in c.scores:
            s.score = dimension_scores.get(s.criterion_id, s.score)
    return calls


def test_mentor_pairing_covers_the_weakest_dimensions_with_a_cap() -> None:
    r = rubric(pairing=PairingPolicy(max_apprentices=1, weak_dimensions=1))
    team = {
        # apprentices (low ability, high cognition): P1 weakest in knowledge, P2 in answering, P3 in knowledge
        "P1": _agent("P1", answering_skill=3, professional_knowledge=1, service_attitude=5, logic=5),
        "P2": _agent("P2", answering_skill=1, professional_knowledge=3, service_attitude=5, logic=5),
        "P3": _agent("P3", answering_skill=3, professional_knowledge=2, service_attitude=5, logic=5),
        # mentors (high, high): M1 strong in knowledge, M2 strong in answering; M3 strong in knowledge too
        "M1": _agent("M1", answering_skill=4, professional_knowledge=5, service_attitude=5, logic=5),
        "M2": _agent("M2", answering_skill=5, professional_knowledge=4, service_attitude=5, logic=5),
        "M3": _agent("M3", answering_skill=4, professional_knowledge=5, service_attitude=4, logic=4),
    }
    placements = [p for p in (place("x", team[a], r).model_copy(update={"agent_id": a}) for a in sorted(team))]
    assert {p.agent_id: p.quadrant for p in placements} == {
        "P1": "strengthening_base", "P2": "strengthening_base", "P3": "strengthening_base",
        "M1": "lead_goose", "M2": "lead_goose", "M3": "lead_goose"}
    result = pair_mentors(placements, r)
    # neediest first (lowest ability): P2 (ability 35.7), P1 (42.9), P3 (53.6 -> 3*.4+2*.3=1.8/.7)
    pairs = {(p.apprentice_id, p.mentor_id) for p in result.pairs}
    assert pairs == {("P2", "M2"), ("P1", "M1"), ("P3", "M3")}
    p1 = next(p for p in result.pairs if p.apprentice_id == "P1")
    assert [(c.dimension, c.mentor_score, c.apprentice_score) for c in p1.covers] == [
        ("professional_knowledge", 100.0, 0.0)]
    # with the cap reached and no other mentor strong there, the apprentice is left unpaired, with the reason
    only_m1 = [p for p in placements if p.agent_id in ("P1", "P3", "M1")]
    again = pair_mentors(only_m1, r)
    assert [(p.apprentice_id, p.mentor_id) for p in again.pairs] == [("P1", "M1")]
    assert [(u.apprentice_id, u.reason) for u in again.unpaired] == [("P3", "mentors_full")]
    no_mentor = pair_mentors([p for p in placements if p.agent_id == "P1"], r)
    assert no_mentor.unpaired[0].reason == "no_mentor_in_team"
    assert pair_mentors(list(reversed(placements)), r) == result  # order of arrival does not matter
