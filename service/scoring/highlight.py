"""Where each criterion's evidence sits in its turn, for showing the transcript with the quotes marked.

Pure: a turn's text cut into pieces, each marked with the criteria whose verified quote covers it. The page
escapes every piece; nothing here produces HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.scoring.schemas import Assessment


@dataclass(frozen=True)
class Piece:
    text: str
    criteria: tuple[str, ...]  # empty: plain text


def marks_by_turn(assessment: Assessment) -> dict[int, list[tuple[str, str]]]:
    """turn -> [(quote, criterion_id)] for evidence that was verified in that turn."""
    found: dict[int, list[tuple[str, str]]] = {}
    for score in assessment.scores:
        for evidence in score.evidence:
            if evidence.status in ("verified", "repointed") and evidence.turn > 0 and evidence.quote:
                found.setdefault(evidence.turn, []).append((evidence.quote, score.criterion_id))
    return found


def split_turn(text: str, marks: list[tuple[str, str]]) -> list[Piece]:
    """Cut ``text`` at every quote found in it verbatim (quotes matched only after normalising are not marked
    here; the criterion list still shows them)."""
    covering: list[set[str]] = [set() for _ in text]
    for quote, criterion in marks:
        start = text.find(quote)
        if start < 0:
            continue
        for i in range(start, start + len(quote)):
            covering[i].add(criterion)
    pieces: list[Piece] = []
    for char, cover in zip(text, covering):
        key = tuple(sorted(cover))
        if pieces and pieces[-1].criteria == key:
            pieces[-1] = Piece(pieces[-1].text + char, key)
        else:
            pieces.append(Piece(char, key))
    return pieces
