from __future__ import annotations

import pytest
from sqlalchemy import select

from service.context import ServiceContext
from service.scoring.schemas import CriterionAnswer, ModelAnswer
from service.scoring.segments import SegmentError, merge_answers, plan_segments
from service.storage.tables import ModelCallRow
from service.transcripts.schemas import Transcript, Turn
from tests.scripted_llm import ScriptedLLM, criterion_field


def _turns(n: int, length: int = 10) -> list[tuple[int, Turn]]:
    return [(i, Turn(speaker="agent" if i % 2 else "customer", text="话" * length)) for i in range(1, n + 1)]


def test_whole_call_is_one_segment_when_it_fits() -> None:
    turns = _turns(6)
    assert plan_segments(turns, lambda t: True) == [turns]


def test_segments_are_whole_turns_in_order_and_cover_the_call() -> None:
    turns = _turns(10)
    segments = plan_segments(turns, lambda t: len(t) <= 3)
    assert [[n for n, _ in seg] for seg in segments] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]


def test_a_turn_too_long_alone_is_an_error_not_a_truncation() -> None:
    turns = _turns(3) + [(4, Turn(speaker="agent", text="长" * 500))]
    with pytest.raises(SegmentError, match="turn 4 alone"):
        plan_segments(turns, lambda t: sum(len(x.text) for _, x in t) <= 100)


def test_merge_takes_the_rounded_mean_and_the_nearest_evidence() -> None:
    a = {"logic": CriterionAnswer(turn=1, quote="甲", why="a", score=2),
         "service_attitude": CriterionAnswer(turn=0, quote="", why="-", score=None)}
    b = {"logic": CriterionAnswer(turn=9, quote="乙", why="b", score=5),
         "service_attitude": CriterionAnswer(turn=11, quote="丙", why="c", score=4)}
    assert merge_answers([ModelAnswer(criteria=a), ModelAnswer(criteria=b)]).criteria["logic"].score == 4  # mean 3.5 rounds half up; the tie goes to the earliest
    assert merge_answers([ModelAnswer(criteria=a), ModelAnswer(criteria=b)]).criteria["logic"].quote == "甲"
    c = {"logic": CriterionAnswer(turn=20, quote="丁", why="d", score=5),
         "service_attitude": CriterionAnswer(turn=0, quote="", why="-", score=None)}
    merged = merge_answers([ModelAnswer(criteria=a), ModelAnswer(criteria=b), ModelAnswer(criteria=c)]).criteria
    assert merged["logic"].score == 4 and merged["logic"].quote == "乙"  # mean 4: the nearest is b's 5
    assert merged["service_attitude"].score == 4 and merged["service_attitude"].turn == 11
    assert merge_answers([ModelAnswer(criteria=a), ModelAnswer(criteria=b), ModelAnswer(criteria=c)]).criteria == merged


def test_long_call_is_scored_in_segments_with_original_turn_numbers(
    context: ServiceContext, scripted_llm: ScriptedLLM
) -> None:
    settings = context.settings.model_copy(update={"llm_context_tokens": 4000, "llm_max_output_tokens": 300})
    small = ServiceContext(settings)
    turns = []
    for i in range(40):
        turns.append({"speaker": "customer", "text": f"第{i}个问题：我的信用卡账单为什么多了一笔费用，能解释一下吗？"})
        turns.append({"speaker": "agent", "text": f"好的，第{i}笔费用是年费，我来为您详细说明规则和减免办法。"})
    long_call = Transcript(id="long", agent_id="A1", turns=turns)
    assessment = small.assessor.assess(long_call)
    assert assessment.status == "scored", assessment.error
    assert len(scripted_llm.requests) > 1
    seen_turns = set()
    for request in scripted_llm.requests:
        user = request["messages"][1]["content"]
        numbers = [int(line[1:line.index("]")]) for line in user.splitlines() if line.startswith("[")]
        assert numbers == sorted(numbers)
        seen_turns.update(numbers)
    assert seen_turns == set(range(1, 81))  # every turn scored, none dropped
    schema = scripted_llm.requests[-1]["response_format"]["json_schema"]["schema"]
    later = criterion_field(schema, "logic", "turn")["enum"]
    assert min(t for t in later if t) > 2  # the last segment cites its own, original turn numbers
    assert all(s.evidence[0].status == "verified" for s in assessment.scores if s.score is not None)
    with small.sessions() as session:
        assert len(list(session.scalars(select(ModelCallRow)))) == len(scripted_llm.requests)
