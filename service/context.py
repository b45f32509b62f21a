"""Wiring: one object that loads the rubric, prompts, programs, database and case index for the CLI and the API."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from service.batches import queue
from service.batches.webhook import deliver
from service.batches.processes import WorkerProcesses
from service.batches.worker import WorkerPool
from service.cases.library import Program, TrainingCase, load_cases, load_programs
from service.cases.retrieval import CaseIndex
from service.config import Settings, get_settings
from service.observability import QUEUE_DEPTH
from service.placement.team import TeamPlacements, place_team
from service.placement.window import DateRange, within
from service.portraits.builder import PortraitBuilder, team_view
from service.portraits.schemas import Portrait, TeamView
from service.rubrics.loader import load_rubric
from service.rubrics.schemas import Rubric
from service.scoring.assessor import Assessor
from service.scoring.prompt import AssessmentPrompt
from service.scoring.schemas import Assessment
from service.transcripts.schemas import Transcript
from service.storage import repository
from service.storage.database import make_engine, make_sessionmaker

log = logging.getLogger("iceberg.worker")


@dataclass
class ServiceContext:
    settings: Settings = field(default_factory=get_settings)
    _pool: WorkerPool | None = field(default=None, init=False, repr=False)
    _processes: WorkerProcesses | None = field(default=None, init=False, repr=False)

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
    def library(self) -> list[TrainingCase]:
        """The team-written cases in knowledge/cases."""
        return load_cases(
            self.settings.knowledge_dir / "cases", set(self.rubric.model.dimensions), set(self.programs),
            {c.id for c in self.rubric.criteria},
        )

    @property
    def cases(self) -> list[TrainingCase]:
        """The library and the excerpts reviewers promoted from the team's own calls."""
        with self.sessions() as session:
            promoted = [TrainingCase.model_validate(row.body) for row in repository.promoted_cases(session)]
        return [*self.library, *promoted]

    def reindex_cases(self) -> None:
        self.case_index.sync(self.cases)

    @cached_property
    def case_index(self) -> CaseIndex:
        index = CaseIndex(self.settings.chroma_dir)
        index.sync(self.cases)
        return index

    def portrait_builder(self) -> PortraitBuilder:
        return PortraitBuilder(self.rubric, self.programs, self.case_index, self.settings.cases_per_portrait)

    def _placed_team(self, team_id: str | None, dates: DateRange | None = None
                     ) -> tuple[dict[str, list[Assessment]], TeamPlacements, dict[str, str | None]]:
        """The team's assessments, placed at once. Every placement shown over the whole record is recorded with
        its inputs; a view limited to dates is a question asked, not the record, and is not stored."""
        with self.sessions() as session:
            everything = repository.team_assessments(session, team_id, self.rubric.version)
        assessments = {a: kept for a, items in everything.items() if (kept := within(items, dates))}
        team = place_team(assessments, self.rubric)
        if dates is None:
            with self.sessions.begin() as session:
                for history in team.histories.values():
                    repository.record_placements(session, history, team_id, self.rubric.version,
                                                  self.rubric.model_version)
        names = {agent: next((a.agent_name for a in items if a.agent_name), None) for agent, items in assessments.items()}
        return assessments, team, names

    def portrait(self, agent_id: str, lang: str = "zh", dates: DateRange | None = None) -> Portrait | None:
        found = self.portraits([agent_id], lang, dates)
        return found[0] if found else None

    def portraits(self, agent_ids: list[str], lang: str = "zh", dates: DateRange | None = None) -> list[Portrait]:
        """Portraits of the given agents (those with scored assessments in the dates), each team placed once."""
        teams: dict[str | None, list[str]] = {}
        with self.sessions() as session:
            for agent_id in agent_ids:
                own = within(repository.agent_assessments(session, agent_id, self.rubric.version), dates)
                if own:
                    teams.setdefault(own[-1].team_id, []).append(agent_id)
        builder = self.portrait_builder()
        built: dict[str, Portrait] = {}
        for team_id, members in teams.items():
            assessments, team, names = self._placed_team(team_id, dates)
            for agent_id in members:
                built[agent_id] = builder.build(agent_id, assessments.get(agent_id, []), lang, team, names)
        return [built[a] for a in agent_ids if a in built]

    def agents(self, team_id: str | None = None) -> list[tuple[str, str | None]]:
        with self.sessions() as session:
            return repository.list_agents(session, team_id)

    def team(self, team_id: str | None, lang: str = "zh", dates: DateRange | None = None) -> TeamView:
        _, team, names = self._placed_team(team_id, dates)
        return team_view(team_id, team, names, self.rubric, self.programs, lang)

    def refresh_gauges(self) -> None:
        """Gauges read from the database at scrape time (the queue lives there, not in this process)."""
        with self.sessions() as session:
            for state, depth in queue.queue_depth(session).items():
                QUEUE_DEPTH.labels(state).set(depth)

    def start_workers(self, workers: int | None = None) -> WorkerPool:
        """Score queued batch jobs in this process (``iceberg serve`` and ``iceberg worker``), and in
        ``batch_processes - 1`` more beside it; the workers are shared out between them.

        The bundled model runs on this machine's cores already: more processes would only compete with it."""
        if self._pool is None:
            count = workers or self.settings.batch_workers or self.settings.llm_concurrency
            remote = bool(self.settings.llm_model or self.settings.llm_deployments)
            if self.settings.batch_processes > 1 and not remote:
                log.warning("ICEBERG_BATCH_PROCESSES=%d ignored: the bundled model already uses every core, so "
                            "batch workers stay in one process (set ICEBERG_LLM_MODEL to use a remote model)",
                            self.settings.batch_processes)
            processes = min(self.settings.batch_processes if remote else 1, count)
            each = -(-count // processes)
            self._pool = WorkerPool(self, count - each * (processes - 1), lease_s=self.settings.batch_lease_s,
                                    on_batch_done=self.batch_done).start()
            if processes > 1:
                self._processes = WorkerProcesses(self.settings, processes - 1, each).start()
        return self._pool

    def stop_workers(self) -> None:
        if self._processes is not None:
            self._processes.stop()
            self._processes = None
        if self._pool is not None:
            self._pool.stop()
            self._pool = None

    def wake_workers(self) -> None:
        if self._pool is not None:
            self._pool.wake()

    def submit_batch(self, transcripts: list[Transcript], webhook_url: str | None = None) -> tuple[str, int, bool]:
        """Queue transcripts as one batch (the API and the submit form both come here): the batch id, how many jobs
        are new, and whether it is already done (every call seen and finished before)."""
        with self.sessions.begin() as session:
            batch_id, new = queue.enqueue_batch(session, transcripts, webhook_url)
            closed = queue.close_if_done(session, batch_id)
        self.wake_workers()
        if closed:
            self.batch_done(batch_id)
        return batch_id, new, closed

    def batch_done(self, batch_id: str) -> None:
        """A batch finished: its webhook is delivered off the worker's thread, so scoring goes on meanwhile."""
        threading.Thread(target=deliver, args=(self, batch_id), daemon=True, name=f"webhook-{batch_id[:8]}").start()
