"""Self-consistency (k samples, median, agreement) and G-Eval probability-weighted scores."""

from __future__ import annotations

import itertools
import math

from service.context import ServiceContext
from service.scoring.consistency import median_answer, weighted_scores
from service.scoring.schemas import CriterionAnswer, ModelAnswer
from service.transcripts.parsing import load_transcript_file
from tests.conftest import EXAMPLES
from tests.scripted_llm import ScriptedLLM, answer_from_schema, completion


def _answer(score: int | None, quote: str = "q") -> ModelAnswer:
    return ModelAnswer(criteria={"logic": CriterionAnswer(turn=1 if score else 0, quote=quote if score else "",
                                                          why="w", score=score)})


def test_median_and_agreement() -> None:
    merged, agreement = median_answer([_answer(2, "a"), _answer(4, "b"), _answer(5, "c")])
    assert merged.criteria["logic"].score == 4 and merged.criteria["logic"].quote == "b"
    assert agreement["logic"] == 0.25  # spread 3 of 4
    merged, agreement = median_answer([_answer(3), _answer(3), _answer(3)])
    assert agreement["logic"] == 1.0
    merged, _ = median_answer([_answer(2), _answer(3)])
    assert merged.criteria["logic"].score == 3  # half up between the two middles
    merged, _ = median_answer([_answer(None), _answer(None), _answer(4)])
    assert merged.criteria["logic"].score is None  # most samples found no basis


def test_samples_are_combined_and_stored(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    scores = itertools.cycle([2, 4, 5])
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(r, lambda c, t, s=next(scores): s)), {})
    sampled = ServiceContext(context.settings.model_copy(update={"llm_samples": 3}))
    assessment = sampled.assessor.assess(load_transcript_file(EXAMPLES / "C1001.json"))
    assert len(scripted_llm.requests) == 3
    assert all(r["temperature"] == 0.7 for r in scripted_llm.requests)
    logic = next(s for s in assessment.scores if s.criterion_id == "logic")
    assert logic.score == 4 and logic.agreement == 0.25
    # a different method is a different cache entry; the same one is not scored again
    sampled.assessor.assess(load_transcript_file(EXAMPLES / "C1001.json"))
    assert len(scripted_llm.requests) == 3


def _logprob_completion(content: str) -> dict:
    """Tokenise the answer crudely and give each score digit a distribution: 60% itself, 40% one above or below."""
    content = content.replace('"score": ', '"score":')
    tokens = content.replace('"score":', '"score":\x00').split("\x00")
    entries = []
    for index, token in enumerate(tokens):
        if index == 0:
            entries.append({"token": token, "logprob": 0.0, "top_logprobs": []})
            continue
        digit, rest = token[0], token[1:]
        other = str(int(digit) + 1 if digit != "5" else 4)
        entries.append({"token": digit, "logprob": math.log(0.6), "bytes": None,
                        "top_logprobs": [{"token": digit, "logprob": math.log(0.6), "bytes": None},
                                         {"token": other, "logprob": math.log(0.4), "bytes": None}]})
        entries.append({"token": rest, "logprob": 0.0, "bytes": None, "top_logprobs": []})
    reply = completion(content)
    reply["choices"][0]["logprobs"] = {"content": entries}
    return reply


def test_weighted_scores_from_logprobs(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.handler = lambda r: (200, _logprob_completion(answer_from_schema(r)), {})
    weighted = ServiceContext(context.settings.model_copy(update={"llm_logprob_scores": True}))
    assessment = weighted.assessor.assess(load_transcript_file(EXAMPLES / "C1002.json"))
    assert scripted_llm.requests[0]["logprobs"] is True and scripted_llm.requests[0]["top_logprobs"] == 5
    logic = next(s for s in assessment.scores if s.criterion_id == "logic")
    assert logic.score == 3 and logic.weighted_score == 3.4  # 0.6 x 3 + 0.4 x 4


def test_weighted_scores_ignore_other_numbers() -> None:
    tokens = [{"token": t, "logprob": 0.0, "top_logprobs": []} for t in
              ['{"logic":{"turn":', "3", ',"quote":"', "5", '","score":', "2", "}}"]]
    assert weighted_scores(tokens) == {"logic": 2.0}
