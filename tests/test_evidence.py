from __future__ import annotations

from service.rubrics.schemas import Criterion, Text
from service.scoring.evidence import check_evidence, normalise
from service.scoring.schemas import AnswerEvidence
from service.transcripts.schemas import Transcript

LEVELS = {n: Text(zh=f"{n}级", en=f"level {n}") for n in range(1, 6)}
AGENT_CRITERION = Criterion(id="c", dimension="logic", name=Text(zh="c", en="c"),
                            description=Text(zh="d", en="d"), levels=LEVELS)
CALL = Transcript(
    id="t", agent_id="A1",
    turns=[
        {"speaker": "agent", "text": "您好，请问有什么可以帮您？"},
        {"speaker": "customer", "text": "我要投诉你们！"},
        {"speaker": "agent", "text": "非常理解您的心情, 我马上帮您查。"},
    ],
)


def _check(turn: int, quote: str) -> tuple[str, int]:
    [evidence] = check_evidence([AnswerEvidence(turn=turn, quote=quote)], CALL, AGENT_CRITERION)
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
    first = check_evidence(cited, CALL, AGENT_CRITERION)
    assert all(check_evidence(cited, CALL, AGENT_CRITERION) == first for _ in range(5))
