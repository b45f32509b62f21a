"""Assembling a portrait from an agent's assessments: placement, program measures, evidence and training cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from service.cases.library import Program
from service.cases.retrieval import CaseIndex, CaseMatch
from service.placement.classifier import Placement, place, strongest_dimensions, weakest_dimensions
from service.placement.history import movements, placement_at
from service.placement.pairing import Pairings
from service.placement.team import TeamPlacements, place_team
from service.placement.trend import learning_trend
from service.portraits.schemas import (
    CallSummary,
    CoverageView,
    DimensionView,
    FlagView,
    HistoryEntry,
    MentoringView,
    PairView,
    Portrait,
    ProgramView,
    QuotedEvidence,
    TeamMember,
    TeamView,
    UnpairedView,
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
            if not item.counts or item.final_score is None:
                continue
            for evidence in item.evidence:
                if evidence.status not in ("verified", "repointed"):
                    continue
                found.setdefault(item.dimension, []).append(
                    QuotedEvidence(
                        transcript_id=assessment.transcript_id,
                        turn=evidence.turn,
                        quote=evidence.quote,
                        score=item.final_score,
                        rationale=item.override.comment if item.override else item.rationale,
                    )
                )
    for quotes in found.values():
        quotes.sort(key=lambda q: (q.score, q.transcript_id, q.turn))
    return found


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


def history_entries(history: Sequence[Placement], lang: str) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            period=p.period or "", status=p.status, quadrant=p.quadrant,
            quadrant_name=QUADRANT_NAMES[p.quadrant][lang] if p.quadrant else None,
            ability=p.axes["ability"].score, cognition=p.axes["cognition"].score, assessed_calls=p.assessed_calls,
            held_axes=[a for a, axis in p.axes.items() if axis.held], thresholds_source=p.thresholds_source,
        )
        for p in history
    ]


def _coverage(covers: Sequence, names: dict, lang: str) -> list[CoverageView]:
    return [CoverageView(dimension=c.dimension, name=names[c.dimension].get(lang), mentor_score=c.mentor_score,
                         apprentice_score=c.apprentice_score) for c in covers]


def mentoring_of(agent_id: str, pairings: Pairings, names: dict[str, str | None], rubric: Rubric, lang: str
                 ) -> tuple[list[MentoringView], UnpairedView | None]:
    dimension_names = rubric.model.dimensions
    views = []
    for pair in pairings.pairs:
        if agent_id not in (pair.mentor_id, pair.apprentice_id):
            continue
        mentor = pair.mentor_id == agent_id
        partner = pair.apprentice_id if mentor else pair.mentor_id
        views.append(MentoringView(role="mentor" if mentor else "apprentice", partner_id=partner,
                                   partner_name=names.get(partner), covers=_coverage(pair.covers, dimension_names, lang)))
    alone = next((u for u in pairings.unpaired if u.apprentice_id == agent_id), None)
    return views, UnpairedView(reason=alone.reason, weak_dimensions=alone.weak_dimensions) if alone else None


@dataclass
class PortraitBuilder:
    rubric: Rubric
    programs: dict[str, Program]
    case_index: CaseIndex | None
    cases_per_portrait: int = 3

    def build(
        self,
        agent_id: str,
        assessments: Sequence[Assessment],
        lang: str = "zh",
        team: TeamPlacements | None = None,
        names: dict[str, str | None] | None = None,
    ) -> Portrait:
        """The agent's portrait; ``team`` (the agent's team placed at once) brings team-relative lines and the
        mentor pairs, without it the agent is placed alone."""
        team = team or place_team({agent_id: assessments}, self.rubric)
        history = team.histories.get(agent_id, [])
        placement = history[-1] if history else place(agent_id, [], self.rubric)
        in_window = set(placement.assessment_ids)
        windowed = [a for a in assessments if a.id in in_window]
        evidence = _evidence_by_dimension(windowed)
        weak = weakest_dimensions(placement)
        program = self.programs.get(placement.program) if placement.program else None
        cases: list[CaseMatch] = []
        if self.case_index and weak:
            query = case_query(weak, evidence, self.rubric)
            failing = next((q.quote for d in weak for q in evidence.get(d, []) if q.score <= 3), None)
            # The program's cases for the weak dimensions first; then the program's; then any for those dimensions.
            for program_filter, dimension_filter in ((placement.program, weak), (placement.program, None), (None, weak)):
                if program_filter is None and dimension_filter is None:
                    continue
                cases = self.case_index.search(query, k=self.cases_per_portrait, program=program_filter,
                                               dimensions=dimension_filter, evidence=failing)
                if cases:
                    break
        mentoring = mentoring_of(agent_id, team.pairings, names or {}, self.rubric, lang)
        dimension_names = self.rubric.model.dimensions
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
                    dimension=d.dimension, name=dimension_names[d.dimension].get(lang), axis=d.axis,
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
                for a in windowed for f in a.compliance_flags
            ],
            strengths=strongest_dimensions(placement),
            weaknesses=weak,
            cases=cases,
            calls=[
                CallSummary(
                    transcript_id=a.transcript_id, assessment_id=a.id, call_time=a.call_time, confidence=a.confidence,
                    scores={s.criterion_id: s.final_score for s in a.scores},
                    needs_review=[s.criterion_id for s in a.scores if s.needs_review and not s.override],
                    in_window=a.id in in_window,
                )
                for a in assessments
            ],
            history=history_entries(history, lang),
            trend=learning_trend(assessments, self.rubric),
            mentoring=mentoring[0],
            unpaired=mentoring[1],
        )


def team_view(
    team_id: str | None,
    team: TeamPlacements,
    names: dict[str, str | None],
    rubric: Rubric,
    programs: dict[str, Program],
    lang: str = "zh",
) -> TeamView:
    """The team matrix from placements alone: a team page needs no evidence, cases or measures."""
    period, previous_period, moved = movements(team.histories)
    members = []
    by_quadrant: dict[str, list[str]] = {name: [] for name in rubric.model.quadrants}
    waiting = []
    sources = set()
    for agent_id in sorted(team.histories):
        placement = team.histories[agent_id][-1]
        before = placement_at(team.histories[agent_id], previous_period) if previous_period else None
        program = programs.get(placement.program) if placement.program else None
        ability, cognition = placement.axes["ability"], placement.axes["cognition"]
        sources.add(placement.thresholds_source)
        members.append(
            TeamMember(
                agent_id=agent_id, agent_name=names.get(agent_id), quadrant=placement.quadrant,
                program_name=program.name.get(lang) if program else None,
                ability=ability.score, cognition=cognition.score,
                ability_interval=ability.interval, cognition_interval=cognition.interval,
                borderline=ability.borderline or cognition.borderline,
                assessed_calls=placement.assessed_calls, calls_needed=placement.calls_needed,
                previous_quadrant=before.quadrant if before else None,
            )
        )
        if placement.quadrant:
            by_quadrant[placement.quadrant].append(agent_id)
        else:
            waiting.append(agent_id)
    current = [h[-1] for h in team.histories.values()]
    lines = {axis: current[0].axes[axis].threshold for axis in ("ability", "cognition")} if len(sources) == 1 and current \
        else dict(rubric.model.thresholds)
    dimension_names = rubric.model.dimensions
    return TeamView(
        team_id=team_id, lang=lang, thresholds=lines,
        thresholds_source=sources.pop() if len(sources) == 1 else "absolute",
        members=members, by_quadrant=by_quadrant, counts={q: len(a) for q, a in by_quadrant.items()},
        not_yet_placeable=waiting, period=period, previous_period=previous_period, movements=moved,
        pairs=[
            PairView(mentor_id=p.mentor_id, mentor_name=names.get(p.mentor_id), apprentice_id=p.apprentice_id,
                     apprentice_name=names.get(p.apprentice_id), covers=_coverage(p.covers, dimension_names, lang))
            for p in team.pairings.pairs
        ],
        unpaired=[u.apprentice_id for u in team.pairings.unpaired],
    )
