from __future__ import annotations

from service.scoring.evidence import check_evidence, normalise
from service.scoring.schemas import AnswerEvidence
from service.transcripts.schemas import Transcript

CALL = Transcript(
    id="t", agent_id="A1",
    turns=[
        {"speaker": "agent", "text": "您好，请问有什么可以帮您？"},
        {"speaker": "customer", "text": "我要投诉你们！"},
        {"speaker": "agent", "text": "非常理解您的心情, 我马上帮您查。"},
    ],
)


def _check(turn: int, quote: str) -> tuple[str, int]:
    [evidence] = check_evidence([AnswerEvidence(turn=turn, quote=quote)], CALL)
    return evidence.status, evidence.turn


def test_quote_in_cited_turn_is_verified() -> None:
    assert _check(3, "我马上帮您查") == ("verified", 3)


def test_full_and_half_width_punctuation_and_spaces_do_not_matter() -> None:
    assert normalise("理解您的心情，我马上") == normalise("理解您的心情,  我马上")
    assert _check(3, "非常理解您的心情，我马上帮您查。") == ("verified", 3)


def test_quote_in_another_turn_is_repointed() -> None:
    status, turn = _check(1, "我马上帮您查")
    assert (status, turn) == ("repointed", 3)


def test_customer_words_do_not_count_for_an_agent_criterion() -> None:
    assert _check(2, "我要投诉你们") == ("not_agent", 2)


def test_invented_quote_is_unverified() -> None:
    assert _check(3, "我们保证收益百分之十") == ("unverified", 3)


def test_check_is_deterministic() -> None:
    cited = [AnswerEvidence(turn=1, quote="我马上帮您查"), AnswerEvidence(turn=2, quote="编造")]
    first = check_evidence(cited, CALL)
    assert all(check_evidence(cited, CALL) == first for _ in range(5))


def test_notes_evidence_is_checked_against_the_notes() -> None:
    with_notes = CALL.model_copy(update={"reviewer_notes": "上次辅导后已改正核身顺序。"})
    [found, invented] = check_evidence([AnswerEvidence(turn=0, quote="已改正核身顺序"),
                                        AnswerEvidence(turn=0, quote="多次迟到")], with_notes, source="notes")
    assert (found.status, found.turn) == ("verified", 0)
    assert invented.status == "unverified"
