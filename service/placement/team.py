"""A team placed at once: every agent's history (with team-relative lines when asked for) and the mentor pairs.

Pure: the same assessments give the same team, whoever asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from service.placement.classifier import Placement
from service.placement.history import team_histories
from service.placement.pairing import Pairings, pair_mentors
from service.rubrics.schemas import Rubric
from service.scoring.schemas import Assessment


@dataclass(frozen=True)
class TeamPlacements:
    histories: dict[str, list[Placement]]
    pairings: Pairings

    def current(self, agent_id: str) -> Placement | None:
        history = self.histories.get(agent_id)
        return history[-1] if history else None


def place_team(assessments_by_agent: Mapping[str, Sequence[Assessment]], rubric: Rubric) -> TeamPlacements:
    histories = {a: h for a, h in team_histories(assessments_by_agent, rubric).items() if h}
    current = [h[-1] for h in histories.values()]
    return TeamPlacements(histories=histories, pairings=pair_mentors(current, rubric))
