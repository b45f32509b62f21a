"""Self-consistency and probability-weighted scores: turning several samples, or one answer's token
probabilities, into a score and a confidence. Pure functions, deterministic for the same inputs.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from service.scoring.schemas import ModelAnswer

_DIGITS = {"1", "2", "3", "4", "5"}
_SCORE_KEY = re.compile(r'"([a-z][a-z0-9_]*)"\s*:\s*\{[^{}]*"score"\s*:\s*$')


def median_answer(samples: Sequence[ModelAnswer]) -> tuple[ModelAnswer, dict[str, float]]:
    """Per criterion the median score over the samples (half up between two middles) with the evidence of the
    first sample that gave it; and each criterion's agreement, 1 - spread / 4 (1.0: every sample agreed).

    Nulls count as "no basis": the median is null only when most samples found no basis.
    """
    if len(samples) == 1:
        return samples[0], {}
    merged = {}
    agreement: dict[str, float] = {}
    for criterion_id in samples[0].criteria:
        items = [s.criteria[criterion_id] for s in samples if criterion_id in s.criteria]
        scored = sorted(i.score for i in items if i.score is not None)
        if len(scored) * 2 <= len(items) and len(scored) * 2 != len(items):
            merged[criterion_id] = next(i for i in items if i.score is None)
            agreement[criterion_id] = round(1 - len(scored) / len(items), 3)
            continue
        mid = len(scored) // 2
        median = scored[mid] if len(scored) % 2 else math.floor((scored[mid - 1] + scored[mid]) / 2 + 0.5)
        chosen = min((i for i in items if i.score is not None), key=lambda i: (abs(i.score - median), items.index(i)))
        merged[criterion_id] = chosen.model_copy(update={"score": median})
        agreement[criterion_id] = round(1 - (scored[-1] - scored[0]) / 4, 3)
    critical = [c for c in samples[0].critical if sum(c in s.critical for s in samples) * 2 > len(samples)]
    return ModelAnswer(criteria=merged, critical=critical), agreement


def weighted_scores(logprobs: list[dict[str, Any]]) -> dict[str, float]:
    """G-Eval: for each ``"score":`` in the answer, the expected score under the token probabilities of 1-5.

    ``logprobs`` is the OpenAI-format ``choices[0].logprobs.content``: one entry per output token with its
    ``top_logprobs``. The criterion is the JSON key that opens the object holding that score.

    llama.cpp reports the model's distribution before its JSON grammar constrains the token (and at times that
    distribution's top token in place of the one sampled): the digits among the alternatives are read wherever the
    text so far ends in ``"score":``, whichever token was chosen.
    """
    text = ""
    weighted: dict[str, float] = {}
    for entry in logprobs:
        token = entry.get("token", "")
        match = _SCORE_KEY.search(text)
        alternatives = entry.get("top_logprobs") or []
        if match and (token.strip() in _DIGITS or any(a.get("token", "").strip() in _DIGITS for a in alternatives)):
            probs = {}
            for alt in alternatives or [{"token": token, "logprob": entry.get("logprob", 0.0)}]:
                digit = alt.get("token", "").strip()
                if digit in _DIGITS:
                    probs[int(digit)] = probs.get(int(digit), 0.0) + math.exp(alt.get("logprob", -math.inf))
            total = sum(probs.values())
            if total > 0:
                weighted[match.group(1)] = round(sum(k * p for k, p in probs.items()) / total, 3)
        text += token
    return weighted
