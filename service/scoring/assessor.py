"""Turning one transcript into a stored assessment: redaction -> prompt -> model -> validated scores -> evidence.

A transcript is never dropped: whatever fails, an assessment with status ``failed`` and a reason is stored and
returned, and the model calls made are logged.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.llm.completion import (
    ModelCall,
    ModelCallError,
    ModelEndpoint,
    RetryPolicy,
    complete_json,
    context_tokens,
    count_tokens,
)
from service.llm.provider import model_name, resolve_endpoint
from service.redaction import RedactedTranscript, redact_transcript
from service.rubrics.schemas import Criterion, Rubric
from service.scoring.consistency import median_answer, weighted_scores
from service.scoring.evidence import check_evidence, has_support
from service.scoring.prompt import AssessmentPrompt, active_criteria, answer_schema
from service.scoring.schemas import (
    AnswerEvidence,
    Assessment,
    ComplianceFlag,
    CriterionAnswer,
    CriterionScore,
    CriticalAnswer,
    ModelAnswer,
)
from service.scoring.segments import NumberedTurns, SegmentError, merge_answers, plan_segments
from service.observability import ASSESSMENTS, observe_model_call
from service.storage import repository
from service.transcripts.schemas import Transcript

_ANSWER = TypeAdapter(dict[str, CriterionAnswer])
_CRITICAL = TypeAdapter(list[CriticalAnswer])
# Room for the chat template's own tokens and for the token counter being an estimate for some models.
PROMPT_MARGIN = 256


def cache_key(transcript: Transcript, rubric_version: str, prompt_version: str, model: str) -> str:
    return hashlib.sha256(
        "|".join([transcript.content_hash(), rubric_version, prompt_version, model]).encode()
    ).hexdigest()


class AnswerError(ValueError):
    """The model's answer does not match the schema; the message says how."""


def parse_answer(text: str, rubric: Rubric, asked: list[Criterion]) -> ModelAnswer:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AnswerError(f"the model's answer is not valid JSON ({error.msg} at char {error.pos})") from None
    if not isinstance(data, dict):
        raise AnswerError("the model's answer is not a JSON object")
    critical = data.pop("critical", [])
    try:
        criteria = _ANSWER.validate_python(data)
        flagged = _CRITICAL.validate_python(critical)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "critical"
        raise AnswerError(f"the model's answer fails the schema at {where}: {first['msg']}") from None
    missing = [c.id for c in asked if c.id not in criteria]
    if missing:
        raise AnswerError(f"the model's answer has no score for {missing}")
    known = {i.id for i in rubric.model_critical_items}
    unknown = sorted({f.id for f in flagged} - known)
    if unknown:
        raise AnswerError(f"the model's answer names unknown critical items {unknown}")
    return ModelAnswer(criteria={c.id: criteria[c.id] for c in asked}, critical=flagged)


def build_scores(judgement: "Judgement", masked: Transcript, rubric: Rubric, source: str) -> list[CriterionScore]:
    """A score per rubric criterion; criteria the model was not asked about (notes-only, no notes) are null."""
    answer = judgement.answer
    scores = []
    for criterion in rubric.criteria:
        item = answer.criteria.get(criterion.id)
        if item is None:
            scores.append(CriterionScore(
                criterion_id=criterion.id, dimension=criterion.dimension, score=None,
                rationale="no reviewer notes to judge from", evidence=[], needs_review=False, source="rule:no-notes",
            ))
            continue
        evidence = check_evidence(item.evidence(), masked, criterion.about, criterion.source)
        scores.append(
            CriterionScore(
                criterion_id=criterion.id,
                dimension=criterion.dimension,
                score=item.score,
                rationale=item.why,
                evidence=evidence,
                needs_review=item.score is not None and not has_support(evidence),
                source=source,
                agreement=judgement.agreement.get(criterion.id),
                # llama.cpp gives digit probabilities even where the grammar chose null: no score, no weight
                weighted_score=judgement.weighted.get(criterion.id) if item.score is not None else None,
            )
        )
    return scores


def compliance_flags(answer: ModelAnswer, redacted: RedactedTranscript, source: str) -> list[ComplianceFlag]:
    """Rule flags from what masking found in agent turns, then the model's flags with their evidence checked."""
    flags: list[ComplianceFlag] = []
    turns = dict(redacted.transcript.numbered_turns())
    for number, kinds in sorted(redacted.by_turn.items()):
        if turns[number].speaker == "agent" and (kinds["bank_card"] or kinds["resident_id"]):
            flags.append(ComplianceFlag(item_id="full_number_read_out", turn=number, quote=turns[number].text,
                                        status="verified", source="rule:redaction"))
    for item in answer.critical:
        # critical items are about what the agent said
        [evidence] = check_evidence([AnswerEvidence(turn=item.turn, quote=item.quote)], redacted.transcript)
        flags.append(ComplianceFlag(item_id=item.id, turn=evidence.turn, quote=item.quote, status=evidence.status,
                                    source=source))
    return flags


def confidence_of(scores: list[CriterionScore]) -> float | None:
    scored = [s for s in scores if s.score is not None]
    if not scored:
        return None
    return round(sum(not s.needs_review for s in scored) / len(scored), 3)


@dataclass
class Assessor:
    settings: Settings
    rubric: Rubric
    prompt: AssessmentPrompt
    sessions: sessionmaker[Session]
    endpoint_factory: Callable[[Settings], ModelEndpoint] = resolve_endpoint

    def assess(
        self, transcript: Transcript, fresh: bool = False, dry_run: bool = False,
        also: Callable[[Session, Assessment], None] | None = None,
    ) -> Assessment:
        """Score the transcript, or return the stored assessment of the same content.

        ``fresh`` asks the model again and keeps the result out of the store (its calls are still logged): what
        stability runs need to see the model's run-to-run spread. ``dry_run`` also keeps the transcript out:
        trying a draft rubric stores nothing but the log of the model calls it cost. ``also`` runs in the
        transaction that stores a new assessment (a batch job's outcome is recorded with it: one write, not
        two); it is not called for a cached answer, which writes nothing.
        """
        fresh = fresh or dry_run
        model = model_name(self.settings)
        method = f"{model}|samples={self.settings.llm_samples}|logprobs={int(self.settings.llm_logprob_scores)}"
        key = cache_key(transcript, self.rubric.version, self.prompt.version, method)
        cached = None
        if not dry_run:
            with self.sessions.begin() as session:
                repository.save_transcript(session, transcript)
                cached = None if fresh else repository.find_scored_assessment(session, key)
        if cached:
            ASSESSMENTS.labels("cached").inc()
            return cached.model_copy(update={"cached": True})

        redacted = redact_transcript(transcript)
        masked = redacted.transcript
        assessment_id = uuid.uuid4().hex
        base = dict(
            id=assessment_id,
            transcript_id=transcript.id,
            agent_id=transcript.agent_id,
            agent_name=transcript.agent_name,
            team_id=transcript.team_id,
            call_time=transcript.time,
            rubric_version=self.rubric.version,
            prompt_version=self.prompt.version,
            model=model,
            redactions=dict(redacted.counts),
            created_at=datetime.now(timezone.utc),
        )
        calls: list[ModelCall] = []
        try:
            judgement = self._ask(masked, calls)
        except (ModelCallError, AnswerError, SegmentError) as error:
            assessment = Assessment(status="failed", error=str(error), **base)
        except Exception as error:  # the local server failing to start, a bad endpoint: still recorded, not lost
            assessment = Assessment(status="failed", error=f"{type(error).__name__}: {error}", **base)
        else:
            scores = build_scores(judgement, masked, self.rubric, source=f"model:{model}")
            flags = compliance_flags(judgement.answer, redacted, source=f"model:{model}")
            assessment = Assessment(status="scored", scores=scores, confidence=confidence_of(scores),
                                    compliance_flags=flags, **base)

        with self.sessions.begin() as session:
            if not fresh:
                repository.save_assessment(session, assessment, key)
            for call in calls:
                repository.log_model_call(session, call, transcript.id, assessment_id)
            if also is not None:
                also(session, assessment)
        for call in calls:
            observe_model_call(call)
        ASSESSMENTS.labels(assessment.status).inc()
        return assessment

    def _ask(self, masked: Transcript, calls: list[ModelCall]) -> Judgement:
        """Score the call, in segments of whole turns when it is longer than the model's context."""
        endpoint = self.endpoint_factory(self.settings)
        budget = context_tokens(self.settings, endpoint.model) - self.settings.llm_max_output_tokens - PROMPT_MARGIN

        def fits(turns: NumberedTurns) -> bool:
            messages = self.prompt.messages(self.rubric, masked, turns)
            # A token is at least one byte: when the bytes fit, the tokens do, and counting can be skipped.
            if sum(len(m["content"].encode()) + 16 for m in messages) <= budget:
                return True
            return count_tokens(endpoint.model, messages) <= budget

        parts = [self._ask_segment(endpoint, masked, turns, calls)
                 for turns in plan_segments(masked.numbered_turns(), fits)]
        if len(parts) == 1:
            return parts[0]
        return Judgement(
            answer=merge_answers([p.answer for p in parts]),
            agreement=_combine([p.agreement for p in parts], min),
            weighted=_combine([p.weighted for p in parts], lambda v: round(sum(v) / len(v), 3)),
        )

    def _ask_segment(
        self, endpoint: ModelEndpoint, masked: Transcript, turns: NumberedTurns, calls: list[ModelCall]
    ) -> Judgement:
        """``llm_samples`` answers (one by default), combined by their median; and the probability-weighted scores
        when asked for."""
        samples = self.settings.llm_samples
        temperature = self.settings.llm_sample_temperature if samples > 1 else self.settings.llm_temperature
        answers, weights = [], []
        for _ in range(samples):
            answer, logprobs = self._ask_once(endpoint, masked, turns, calls, temperature)
            answers.append(answer)
            if self.settings.llm_logprob_scores:
                weights.append(weighted_scores(logprobs))
        answer, agreement = median_answer(answers)
        return Judgement(answer, agreement, _combine(weights, lambda v: round(sum(v) / len(v), 3)))

    def _ask_once(
        self, endpoint: ModelEndpoint, masked: Transcript, turns: NumberedTurns, calls: list[ModelCall],
        temperature: float,
    ) -> tuple[ModelAnswer, list[dict[str, Any]]]:
        """One call, and one repair attempt when the answer fails the schema: the model sees its answer and why."""
        messages = self.prompt.messages(self.rubric, masked, turns)
        schema = answer_schema(self.rubric, turns, masked.reviewer_notes)
        asked = active_criteria(self.rubric, masked.reviewer_notes)
        retry = RetryPolicy(max_attempts=self.settings.llm_max_attempts, base_delay_s=self.settings.llm_backoff_s)
        for repair in (False, True):
            try:
                result = complete_json(endpoint, messages, schema, schema_name="assessment",
                                       max_tokens=self.settings.llm_max_output_tokens, temperature=temperature,
                                       retry=retry, logprobs=self.settings.llm_logprob_scores)
            except ModelCallError as error:
                calls.extend(error.calls)
                raise
            calls.extend(result.calls)
            try:
                return parse_answer(result.text, self.rubric, asked), result.logprobs
            except AnswerError as error:
                result.calls[-1].outcome = "invalid_answer"
                result.calls[-1].error = str(error)
                if repair:
                    raise AnswerError(f"{error} (also after one repair attempt)") from None
                messages = [*messages, {"role": "assistant", "content": result.text},
                            {"role": "user", "content": self.prompt.repair(str(error))}]
        raise AssertionError("unreachable")


@dataclass
class Judgement:
    """What the model said about a call: the answer, and per criterion the samples' agreement and the
    probability-weighted score (each only when measured)."""

    answer: ModelAnswer
    agreement: dict[str, float]
    weighted: dict[str, float]


def _combine(maps: list[dict[str, float]], how: Callable[[list[float]], float]) -> dict[str, float]:
    keys = sorted({k for m in maps for k in m})
    return {k: how([m[k] for m in maps if k in m]) for k in keys}
