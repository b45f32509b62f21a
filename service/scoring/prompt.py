"""Rendering the assessment prompt from ``prompts/`` and the rubric, and the JSON schema the answer must match."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.rubrics.schemas import Rubric
from service.transcripts.schemas import Transcript, Turn

SYSTEM_TEMPLATE = "assessment_system.jinja2"
USER_TEMPLATE = "assessment_user.jinja2"
REPAIR_TEMPLATE = "assessment_repair.jinja2"
SPEAKER_LABELS = {
    "zh": {"agent": "坐席", "customer": "客户"},
    "en": {"agent": "Agent", "customer": "Customer"},
}
# Short strings keep output tokens, which dominate local-model latency, in check.
RATIONALE_MAX_CHARS = 24
QUOTE_MAX_CHARS = 20


@dataclass
class AssessmentPrompt:
    prompts_dir: Path

    @cached_property
    def _env(self) -> Environment:
        return Environment(
            loader=FileSystemLoader(str(self.prompts_dir)),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,  # plain text for a model, not HTML
        )

    @cached_property
    def version(self) -> str:
        """A digest of the template sources: a changed prompt is a new version, and never hits an old cache entry."""
        digest = hashlib.sha256()
        for name in (SYSTEM_TEMPLATE, USER_TEMPLATE, REPAIR_TEMPLATE):
            digest.update((self.prompts_dir / name).read_bytes())
        digest.update(f"{RATIONALE_MAX_CHARS}/{QUOTE_MAX_CHARS}".encode())
        return digest.hexdigest()[:12]

    def messages(
        self, rubric: Rubric, transcript: Transcript, turns: list[tuple[int, Turn]] | None = None
    ) -> list[dict[str, str]]:
        """The system message (instructions, rubric) and the user message (the call, or one segment of it)."""
        lang = transcript.language
        system = self._env.get_template(SYSTEM_TEMPLATE).render(criteria=rubric.criteria, lang=lang)
        user = self._env.get_template(USER_TEMPLATE).render(
            turns=turns if turns is not None else transcript.numbered_turns(),
            notes=transcript.reviewer_notes,
            speaker_labels=SPEAKER_LABELS[lang],
            lang=lang,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def repair(self, problem: str) -> str:
        return self._env.get_template(REPAIR_TEMPLATE).render(problem=problem)


_CLAUSE_END = re.compile(r"(?<=[，。！？；,.!?;…])")


def agent_clauses(turns: list[tuple[int, Turn]]) -> list[str]:
    """The agent's clauses, verbatim and in order: the only quotes a constrained model may cite for an agent.

    Constraining the quote to these (a JSON-schema ``enum``) turns "copy a few words exactly", which small models
    do badly, into "choose one", which they do well; the evidence check still verifies every quote.
    """
    clauses: list[str] = []
    for _, turn in turns:
        if turn.speaker != "agent":
            continue
        for clause in _CLAUSE_END.split(turn.text):
            clause = clause.strip()[:QUOTE_MAX_CHARS]
            if len(clause) >= 2 and clause not in clauses:
                clauses.append(clause)
    return clauses


def answer_schema(rubric: Rubric, turns: list[tuple[int, Turn]] | None = None) -> dict[str, Any]:
    """JSON schema of the answer: per criterion the cited agent turn and quote, then the rationale, then the score.

    Evidence comes first so the rationale is grounded in what the agent said; the rationale still precedes the
    score. One flat object per criterion keeps output tokens, which dominate local latency, low. With a
    call's numbered turns, turns and quotes are limited to the agent's own (0 and "" mean "no basis").
    """
    quote: dict[str, Any] = {"type": "string", "maxLength": QUOTE_MAX_CHARS}
    turn: dict[str, Any] = {"type": "integer", "minimum": 0}
    if turns is not None:
        clauses = agent_clauses(turns)
        if clauses:
            quote = {"enum": [*clauses, ""]}
        turn = {"enum": [*(n for n, t in turns if t.speaker == "agent"), 0]}
    criterion = {
        "type": "object",
        "properties": {
            "turn": turn,
            "quote": quote,
            "why": {"type": "string", "maxLength": RATIONALE_MAX_CHARS},
            "score": {"enum": [1, 2, 3, 4, 5, None]},
        },
        "required": ["turn", "quote", "why", "score"],
        "additionalProperties": False,
    }
    ids = [c.id for c in rubric.criteria]
    return {
        "type": "object",
        "properties": {cid: criterion for cid in ids},
        "required": ids,
        "additionalProperties": False,
    }
