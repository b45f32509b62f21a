"""The mechanical evidence check: a quote counts only if it is really in the cited turn, said by the right speaker.

Pure functions: the same answer and transcript always give the same verdicts.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Literal

from service.scoring.schemas import AnswerEvidence, Evidence
from service.transcripts.schemas import Transcript


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Fold full/half width (NFKC), drop whitespace and punctuation, lowercase: what a quote may differ by."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        ch.lower() for ch in folded if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S"))
    )


def check_evidence(
    cited: list[AnswerEvidence],
    transcript: Transcript,
    about: Literal["agent", "customer", "call"] = "agent",
    source: Literal["transcript", "notes"] = "transcript",
) -> list[Evidence]:
    """Verify each cited quote against the (masked) transcript the model saw.

    A quote found in the cited turn is verified; found in another turn, it is re-pointed there; found only in a
    customer turn for an agent criterion, it is marked ``not_agent``; found nowhere, ``unverified``. Criteria
    scored from reviewer notes cite turn 0 and are checked against the notes.
    """
    if source == "notes":
        notes = normalise(transcript.reviewer_notes or "")
        return [
            Evidence(turn=0, quote=item.quote,
                     status="verified" if normalise(item.quote) and normalise(item.quote) in notes else "unverified")
            for item in cited
        ]
    turns = [(n, t.speaker, normalise(t.text)) for n, t in transcript.numbered_turns()]
    wanted_speaker = "agent" if about == "agent" else None
    checked: list[Evidence] = []
    for item in cited:
        quote = normalise(item.quote)
        if not quote:
            checked.append(Evidence(turn=item.turn, quote=item.quote, status="unverified"))
            continue
        hits = [(n, speaker) for n, speaker, text in turns if quote in text]
        right_speaker = [n for n, speaker in hits if wanted_speaker in (None, speaker)]
        if item.turn in right_speaker:
            checked.append(Evidence(turn=item.turn, quote=item.quote, status="verified"))
        elif right_speaker:
            checked.append(
                Evidence(turn=right_speaker[0], quote=item.quote, status="repointed", cited_turn=item.turn)
            )
        elif hits:
            checked.append(Evidence(turn=hits[0][0], quote=item.quote, status="not_agent", cited_turn=item.turn))
        else:
            checked.append(Evidence(turn=item.turn, quote=item.quote, status="unverified"))
    return checked


def has_support(evidence: list[Evidence]) -> bool:
    return any(e.status in ("verified", "repointed") for e in evidence)
