"""The "1+1" pairing of the strengthening-base program: each apprentice (low ability, high cognition) with a
lead-goose mentor who is strong where the apprentice is weakest.

Deterministic and greedy: the apprentices furthest below the ability line choose first; each takes the mentor who
covers most of their weakest dimensions by the widest margin, while that mentor has room; ties go to the smaller
agent id. Every pair says why; an apprentice left without a mentor says why too.
"""

from __future__ import annotations

from typing import Literal, Sequence

from pydantic import BaseModel, Field

from service.placement.classifier import Placement, weakest_dimensions
from service.rubrics.schemas import Rubric

APPRENTICE_QUADRANT = "strengthening_base"
MENTOR_QUADRANT = "lead_goose"


class Coverage(BaseModel):
    dimension: str
    mentor_score: float
    apprentice_score: float


class Pairing(BaseModel):
    mentor_id: str
    apprentice_id: str
    covers: list[Coverage] = Field(description="The apprentice's weak dimensions where the mentor is strong.")


class Unpaired(BaseModel):
    apprentice_id: str
    reason: Literal["no_mentor_in_team", "no_mentor_strong_there", "mentors_full"]
    weak_dimensions: list[str]


class Pairings(BaseModel):
    pairs: list[Pairing]
    unpaired: list[Unpaired]
    max_apprentices: int


def _scores(placement: Placement) -> dict[str, float]:
    return {d.dimension: d.score_100 for d in placement.dimensions if d.score_100 is not None}


def pair_mentors(placements: Sequence[Placement], rubric: Rubric) -> Pairings:
    policy = rubric.model.placement.pairing
    apprentices = sorted((p for p in placements if p.quadrant == APPRENTICE_QUADRANT),
                         key=lambda p: (p.axes["ability"].score or 0.0, p.agent_id))
    mentors = sorted((p for p in placements if p.quadrant == MENTOR_QUADRANT), key=lambda p: p.agent_id)
    load = {m.agent_id: 0 for m in mentors}
    pairs, unpaired = [], []
    for apprentice in apprentices:
        weak = weakest_dimensions(apprentice, policy.weak_dimensions)
        theirs = _scores(apprentice)
        best: tuple[tuple[int, float, str], Placement, list[Coverage]] | None = None
        strong_anywhere = False
        for mentor in mentors:
            own = _scores(mentor)
            covers = [
                Coverage(dimension=d, mentor_score=own[d], apprentice_score=theirs[d])
                for d in weak
                if d in own and own[d] > theirs[d]
                and own[d] >= mentor.axes[rubric.model.axis_of(d) or "ability"].threshold
            ]
            if not covers:
                continue
            strong_anywhere = True
            if load[mentor.agent_id] >= policy.max_apprentices:
                continue
            gain = sum(c.mentor_score - c.apprentice_score for c in covers)
            key = (len(covers), round(gain, 3), mentor.agent_id)
            if best is None or (key[0], key[1]) > (best[0][0], best[0][1]):
                best = (key, mentor, covers)
        if best is None:
            reason: Literal["no_mentor_in_team", "no_mentor_strong_there", "mentors_full"] = (
                "no_mentor_in_team" if not mentors else "mentors_full" if strong_anywhere else "no_mentor_strong_there"
            )
            unpaired.append(Unpaired(apprentice_id=apprentice.agent_id, reason=reason, weak_dimensions=weak))
            continue
        _, mentor, covers = best
        load[mentor.agent_id] += 1
        pairs.append(Pairing(mentor_id=mentor.agent_id, apprentice_id=apprentice.agent_id, covers=covers))
    return Pairings(pairs=pairs, unpaired=unpaired, max_apprentices=policy.max_apprentices)
