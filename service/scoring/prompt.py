"""Rendering the assessment prompt from ``prompts/`` and the rubric, and the JSON schema the answer must match."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.rubrics.schemas import Criterion, Rubric
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
    _systems: dict[tuple[int, str, bool], tuple[Rubric, str]] = field(default_factory=dict, repr=False)
    _systems_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        system = self.system(rubric, lang, with_notes=bool(transcript.reviewer_notes))
        user = self._env.get_template(USER_TEMPLATE).render(
            turns=turns if turns is not None else transcript.numbered_turns(),
            notes=transcript.reviewer_notes,
            speaker_labels=SPEAKER_LABELS[lang],
            lang=lang,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def system(self, rubric: Rubric, lang: str, with_notes: bool) -> str:
        """The static system message, rendered once per rubric, language and notes presence: it is the same text
        for every call of that kind, so rendering it per call was wasted work."""
        # Keyed by the rubric object (kept alive by the entry, so its id is not reused), not its version: a copy
        # with other criteria, as a dry run or a benchmark makes, keeps the version field of its original.
        key = (id(rubric), lang, with_notes)
        with self._systems_lock:
            found = self._systems.get(key)
        if found is None:
            found = (rubric, self._env.get_template(SYSTEM_TEMPLATE).render(
                criteria=rubric.transcript_criteria,
                notes_criteria=rubric.notes_criteria if with_notes else [],
                critical_items=rubric.model_critical_items,
                lang=lang,
            ))
            with self._systems_lock:
                if len(self._systems) >= 32:
                    self._systems.pop(next(iter(self._systems)))
                self._systems[key] = found
        return found[1]

    def repair(self, problem: str) -> str:
        return self._env.get_template(REPAIR_TEMPLATE).render(problem=problem)


_CLAUSE_END = re.compile(r"(?<=[，。！？；,.!?;…])")


def agent_clauses(turns: list[tuple[int, Turn]]) -> list[str]:
    """The agent's clauses, verbatim and in order: the only quotes a constrained model may cite for an agent.

    Constraining the quote to these (a JSON-schema ``enum``) turns "copy a few words exactly", which small models
    do badly, into "choose one", which they do well; the evidence check still verifies every quote.
    """
    return _clauses([turn.text for _, turn in turns if turn.speaker == "agent"])


def note_clauses(notes: str | None) -> list[str]:
    return _clauses([notes] if notes else [])


def _clauses(texts: list[str]) -> list[str]:
    clauses: list[str] = []
    for text in texts:
        for clause in _CLAUSE_END.split(text):
            clause = clause.strip()[:QUOTE_MAX_CHARS]
            if len(clause) >= 2 and clause not in clauses:
                clauses.append(clause)
    return clauses


def active_criteria(rubric: Rubric, notes: str | None) -> list[Criterion]:
    """The criteria the model is asked about: notes-only criteria only when there are notes to read."""
    return rubric.transcript_criteria + (rubric.notes_criteria if notes else [])


def answer_schema(
    rubric: Rubric, turns: list[tuple[int, Turn]] | None = None, notes: str | None = None
) -> dict[str, Any]:
    """JSON schema of the answer: per criterion the cited agent turn and quote, then the rationale, then the score;
    last, the critical items the agent committed.

    Evidence comes first so the rationale is grounded in what the agent said; the rationale still precedes the
    score. One flat object per criterion keeps output tokens, which dominate local latency, low. With the
    call's numbered turns, turns and quotes are limited to the agent's own (0 and "" mean "no basis"); notes-only
    criteria cite turn 0 and a clause of the notes.
    """
    quote: dict[str, Any] = {"type": "string", "maxLength": QUOTE_MAX_CHARS}
    turn: dict[str, Any] = {"type": "integer", "minimum": 0}
    if turns is not None:
        clauses = agent_clauses(turns)
        if clauses:
            quote = {"enum": [*clauses, ""]}
        turn = {"enum": [*(n for n, t in turns if t.speaker == "agent"), 0]}
    # Each shape is written once under $defs and referenced: the agent's clauses would otherwise be repeated for
    # every criterion: the schema sent, hashed, logged and compiled to a grammar on every call was 2.6x as long.
    defs: dict[str, Any] = {"turn": turn, "quote": quote,
                            "criterion": _criterion_schema({"$ref": "#/$defs/turn"}, {"$ref": "#/$defs/quote"})}
    properties: dict[str, Any] = {c.id: {"$ref": "#/$defs/criterion"} for c in rubric.transcript_criteria}
    if notes:
        note_quote = {"enum": [*note_clauses(notes), ""]} if turns is not None else {"$ref": "#/$defs/quote"}
        defs["notes_criterion"] = _criterion_schema({"enum": [0]}, note_quote)
        properties.update({c.id: {"$ref": "#/$defs/notes_criterion"} for c in rubric.notes_criteria})
    items = rubric.model_critical_items
    if items:
        properties["critical"] = {
            "type": "array",
            "maxItems": len(items),
            "items": {
                "type": "object",
                "properties": {"id": {"enum": [i.id for i in items]}, "turn": {"$ref": "#/$defs/turn"},
                               "quote": {"$ref": "#/$defs/quote"}},
                "required": ["id", "turn", "quote"],
                "additionalProperties": False,
            },
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "$defs": defs,
    }


def _criterion_schema(turn: dict[str, Any], quote: dict[str, Any]) -> dict[str, Any]:
    return {
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
