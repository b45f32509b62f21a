"""Assembling a portrait from an agent's assessments: placement, program measures, evidence and training cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from service.cases.library import Program
from service.cases.retrieval import CaseIndex, CaseMatch
from service.placement.classifier import Placement, place
from service.portraits.schemas import (
    CallSummary,
    DimensionView,
    FlagView,
    Portrait,
    ProgramView,
    QuotedEvidence,
    TeamMember,
    TeamView,
)
from service.rubrics.schemas import Rubric
from service.scoring.schemas import Assessment

QUADRANT_NAMES = {
    "lead_goose": {"zh": "能力高 · 认知高", "en": "High ability, high cognition"},
    "forging_soul": {"zh": "能力高 · 认知低", "en": "High ability, low cognition"},
    "strengthening_base": {"zh": "能力低 · 认知高", "en": "Low ability, high cognition"},
    "leaving_tail": {"zh": "能力低 · 认知低", "en": "Low ability, low cognition"},
}


def _evidence_by_dimension(assessments: Sequence[Assessment]) -> dict[str, list[QuotedEvidence]]:
    found: dict[str, list[QuotedEvidence]] = {}
    for assessment in assessments:
        for item in assessment.scores:
            if item.score is None or item.needs_review:
                continue
            for evidence in item.evidence:
                if evidence.status not in ("verified", "repointed"):
                    continue
                found.setdefault(item.dimension, []).append(
                    QuotedEvidence(
                        transcript_id=assessment.transcript_id,
                        turn=evidence.turn,
                        quote=evidence.quote,
                        score=item.score,
                        rationale=item.rationale,
                    )
                )
    for quotes in found.values():
        quotes.sort(key=lambda q: (q.score, q.transcript_id, q.turn))
    return found


def weakest_dimensions(placement: Placement, count: int = 2) -> list[str]:
    assessed = [d for d in placement.dimensions if d.mean is not None]
    return [d.dimension for d in sorted(assessed, key=lambda d: (d.mean, d.dimension))[:count]]


def strongest_dimensions(placement: Placement, count: int = 2) -> list[str]:
    assessed = [d for d in placement.dimensions if d.mean is not None]
    return [d.dimension for d in sorted(assessed, key=lambda d: (-d.mean, d.dimension))[:count]]


def program_view(program: Program, weak: list[str], lang: str) -> ProgramView:
    ranked = sorted(
        program.measures, key=lambda m: (-len(set(m.dimensions) & set(weak)), program.measures.index(m))
    )
    return ProgramView(
        id=program.id, name=program.name.get(lang), summary=program.summary.get(lang),
        measures=[m.get(lang) for m in ranked],
    )


def case_query(weak: list[str], evidence: dict[str, list[QuotedEvidence]], rubric: Rubric) -> str:
    """The agent's weak spots in words: what the dimension is about, and what the agent actually said and why it fell short."""
    parts = []
    for dimension in weak:
        parts.append(rubric.model.dimensions[dimension].zh)
        parts.extend(c.description.zh for c in rubric.criteria_of(dimension))
        for quote in evidence.get(dimension, [])[:2]:
            if quote.score <= 3:
                parts.append(f"{quote.quote} {quote.rationale}")
    return "\n".join(parts)


@dataclass
class PortraitBuilder:
    rubric: Rubric
    programs: dict[str, Program]
    case_index: CaseIndex | None
    cases_per_portrait: int = 3

    def build(self, agent_id: str, assessments: Sequence[Assessment], lang: str = "zh") -> Portrait:
        placement = place(agent_id, assessments, self.rubric)
        evidence = _evidence_by_dimension(assessments)
        weak = weakest_dimensions(placement)
        program = self.programs.get(placement.program) if placement.program else None
        cases: list[CaseMatch] = []
        if self.case_index and weak:
            query = case_query(weak, evidence, self.rubric)
            # The program's cases for the weak dimensions first; then the program's; then any for those dimensions.
            for program_filter, dimension_filter in ((placement.program, weak), (placement.program, None), (None, weak)):
                if program_filter is None and dimension_filter is None:
                    continue
                cases = self.case_index.search(query, k=self.cases_per_portrait, program=program_filter,
                                               dimensions=dimension_filter)
                if cases:
                    break
        names = self.rubric.model.dimensions
        items = {i.id: i for i in self.rubric.critical_items}
        first = assessments[0] if assessments else None
        return Portrait(
            agent_id=agent_id,
            agent_name=next((a.agent_name for a in assessments if a.agent_name), None),
            team_id=first.team_id if first else None,
            lang=lang,
            rubric_version=self.rubric.version,
            placement=placement,
            quadrant_name=QUADRANT_NAMES[placement.quadrant][lang] if placement.quadrant else None,
            program=program_view(program, weak, lang) if program else None,
            dimensions=[
                DimensionView(
                    dimension=d.dimension, name=names[d.dimension].get(lang), axis=d.axis,
                    score_100=d.score_100, mean=d.mean, calls=d.calls, evidence=evidence.get(d.dimension, [])[:4],
                )
                for d in placement.dimensions
            ],
            compliance_flags=[
                FlagView(
                    transcript_id=a.transcript_id, item_id=f.item_id,
                    name=items[f.item_id].name.get(lang) if f.item_id in items else f.item_id,
                    turn=f.turn, quote=f.quote, verified=f.status in ("verified", "repointed"),
                )
                for a in assessments for f in a.compliance_flags
            ],
            strengths=strongest_dimensions(placement),
            weaknesses=weak,
            cases=cases,
            calls=[
                CallSummary(
                    transcript_id=a.transcript_id, call_time=a.call_time, confidence=a.confidence,
                    scores={s.criterion_id: s.score for s in a.scores},
                    needs_review=[s.criterion_id for s in a.scores if s.needs_review],
                )
                for a in assessments
            ],
        )


def team_view(
    team_id: str | None,
    placements: Sequence[tuple[Placement, str | None]],
    rubric: Rubric,
    programs: dict[str, Program],
    lang: str = "zh",
) -> TeamView:
    """The team matrix from placements alone: a team page needs no evidence, cases or measures."""
    members = []
    by_quadrant: dict[str, list[str]] = {name: [] for name in rubric.model.quadrants}
    waiting = []
    for placement, agent_name in sorted(placements, key=lambda p: p[0].agent_id):
        program = programs.get(placement.program) if placement.program else None
        members.append(
            TeamMember(
                agent_id=placement.agent_id, agent_name=agent_name, quadrant=placement.quadrant,
                program_name=program.name.get(lang) if program else None,
                ability=placement.axes["ability"].score, cognition=placement.axes["cognition"].score,
                assessed_calls=placement.assessed_calls, calls_needed=placement.calls_needed,
            )
        )
        if placement.quadrant:
            by_quadrant[placement.quadrant].append(placement.agent_id)
        else:
            waiting.append(placement.agent_id)
    return TeamView(
        team_id=team_id, lang=lang, thresholds=dict(rubric.model.thresholds), members=members,
        by_quadrant=by_quadrant, not_yet_placeable=waiting,
    )
