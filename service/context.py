"""Wiring: one object that loads the rubric, prompts, programs, database and case index for the CLI and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from service.cases.library import Program, TrainingCase, load_cases, load_programs
from service.cases.retrieval import CaseIndex
from service.config import Settings, get_settings
from service.placement.classifier import place
from service.portraits.builder import PortraitBuilder, team_view
from service.portraits.schemas import Portrait, TeamView
from service.rubrics.loader import load_rubric
from service.rubrics.schemas import Rubric
from service.scoring.assessor import Assessor
from service.scoring.prompt import AssessmentPrompt
from service.storage import repository
from service.storage.database import make_engine, make_sessionmaker


@dataclass
class ServiceContext:
    settings: Settings = field(default_factory=get_settings)

    @cached_property
    def rubric(self) -> Rubric:
        return load_rubric(self.settings.rubrics_dir)

    @cached_property
    def prompt(self) -> AssessmentPrompt:
        return AssessmentPrompt(self.settings.prompts_dir)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(make_engine(self.settings.sqlalchemy_url))

    @cached_property
    def assessor(self) -> Assessor:
        return Assessor(self.settings, self.rubric, self.prompt, self.sessions)

    @cached_property
    def programs(self) -> dict[str, Program]:
        return load_programs(self.settings.knowledge_dir / "programs.yaml")

    @cached_property
    def cases(self) -> list[TrainingCase]:
        return load_cases(
            self.settings.knowledge_dir / "cases", set(self.rubric.model.dimensions), set(self.programs)
        )

    @cached_property
    def case_index(self) -> CaseIndex:
        index = CaseIndex(self.settings.chroma_dir)
        index.sync(self.cases)
        return index

    def portrait_builder(self) -> PortraitBuilder:
        return PortraitBuilder(self.rubric, self.programs, self.case_index, self.settings.cases_per_portrait)

    def portrait(self, agent_id: str, lang: str = "zh") -> Portrait | None:
        with self.sessions() as session:
            assessments = repository.agent_assessments(session, agent_id, self.rubric.version)
        if not assessments:
            return None
        return self.portrait_builder().build(agent_id, assessments, lang)

    def agents(self, team_id: str | None = None) -> list[tuple[str, str | None]]:
        with self.sessions() as session:
            return repository.list_agents(session, team_id)

    def team(self, team_id: str | None, lang: str = "zh") -> TeamView:
        placements = []
        with self.sessions() as session:
            for agent, _ in repository.list_agents(session, team_id):
                assessments = repository.agent_assessments(session, agent, self.rubric.version)
                if assessments:
                    name = next((a.agent_name for a in assessments if a.agent_name), None)
                    placements.append((place(agent, assessments, self.rubric), name))
        return team_view(team_id, placements, self.rubric, self.programs, lang)
