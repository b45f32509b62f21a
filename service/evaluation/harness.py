"""`iceberg eval`: score a labelled set with the configured model and report agreement per criterion.

Resumable for free: every dialogue goes through the assessor, whose cache means a re-run scores only what is
missing. The report records what produced it (model, rubric and prompt versions, sample, seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import yaml
from pydantic import BaseModel, Field, ValidationError

from service.evaluation.labelled import LabelledDialogue
from service.evaluation.metrics import (
    Estimate,
    adjacent_agreement,
    bias,
    bootstrap,
    confusion,
    exact_agreement,
    human_ceiling,
    pearson,
    peer_pairs,
    quadratic_weighted_kappa,
    spearman,
    to_scale,
)
from service.scoring.schemas import Assessment
from service.validation import describe_validation_error


class LabelMapping(BaseModel):
    criterion: str
    offset: float = 0.0


class CriterionReport(BaseModel):
    criterion: str
    label: str
    offset: float = Field(default=0.0, description="Added to the label's scores to put them on the rubric scale.")
    n: int
    qwk: Estimate
    spearman: Estimate
    pearson: Estimate
    exact: float
    adjacent: float
    bias: float
    confusion: list[list[int]]
    human_ceiling_spearman: float | None


class GraderReport(BaseModel):
    """One rater graded: against the model, and against the mean of the other raters on the same calls."""

    label: str
    criterion: str
    rater: str
    n: int
    model_qwk: float | None
    model_spearman: float | None
    model_exact: float | None
    peers_spearman: float | None = Field(description="Against the mean of the other raters on the same calls.")
    peers_exact: float | None
    bias_vs_peers: float | None = Field(description="Rater - peers: positive is more lenient than colleagues.")


class StabilityReport(BaseModel):
    """The run-to-run spread of the model's own scores on the same calls, cache bypassed."""

    criterion: str
    dialogues: int
    runs: int
    mean_sd: float = Field(description="Mean over calls of the standard deviation of the runs' scores.")
    all_agree: float = Field(description="Share of calls on which every run gave the same score.")
    max_range: int = Field(description="The largest max - min over runs on any call.")


class EvalItem(BaseModel):
    dialogue_id: str
    status: str
    error: str | None = None
    human: dict[str, float | None] = Field(description="Per label, the raters' mean on the label's own scale.")
    model: dict[str, int | None] = Field(description="Per compared criterion, the model's score.")
    repeats: dict[str, list[int | None]] = Field(default_factory=dict, description="Stability runs' scores.")


class EvalReport(BaseModel):
    created_at: datetime
    model: str
    rubric_version: str
    prompt_version: str
    dataset: str
    sample: int | None
    seed: int
    scored: int
    failed: int
    criteria: list[CriterionReport]
    graders: list[GraderReport] = Field(default_factory=list)
    stability: list[StabilityReport] = Field(default_factory=list)
    items: list[EvalItem] = Field(default_factory=list)
    command: str | None = None
    commit: str | None = None


def load_mapping(path: Path) -> dict[str, LabelMapping]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {label: LabelMapping.model_validate(item) for label, item in (data.get("labels") or {}).items()}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: {error}") from None
    except ValidationError as error:
        raise ValueError(f"{path}: {describe_validation_error(error)}") from None


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def identity_mapping(dialogues: list[LabelledDialogue], criteria: set[str]) -> dict[str, LabelMapping]:
    """For Iceberg's own format: each label that names a criterion is compared with that criterion."""
    labels = sorted({label for d in dialogues for label in d.ratings} & criteria)
    return {label: LabelMapping(criterion=label) for label in labels}


def _model_score(assessment: Assessment, criterion: str) -> int | None:
    """The model's own score: a reviewer's correction is a human label, never the thing being measured."""
    return next((s.score for s in assessment.scores if s.criterion_id == criterion), None)


def agreement_report(
    pairs: list[tuple[LabelledDialogue, Assessment]], mapping: dict[str, LabelMapping], seed: int
) -> list[CriterionReport]:
    reports = []
    for label, target in mapping.items():
        model_scores, human_means, raters = [], [], []
        for dialogue, assessment in pairs:
            score, mean = _model_score(assessment, target.criterion), dialogue.mean(label)
            if score is None or mean is None:
                continue
            model_scores.append(score)
            human_means.append(mean + target.offset)
            raters.append({r: v + target.offset for r, v in dialogue.ratings[label].items()})
        if len(model_scores) < 2:
            continue
        human_int = [to_scale(h) for h in human_means]
        reports.append(CriterionReport(
            criterion=target.criterion, label=label, offset=target.offset, n=len(model_scores),
            qwk=bootstrap(quadratic_weighted_kappa, model_scores, human_int, seed=seed),
            spearman=bootstrap(spearman, model_scores, human_means, seed=seed),
            pearson=bootstrap(pearson, model_scores, human_means, seed=seed),
            exact=round(exact_agreement(model_scores, human_int), 3),
            adjacent=round(adjacent_agreement(model_scores, human_int), 3),
            bias=round(bias(model_scores, human_means), 3),
            confusion=confusion(model_scores, human_int),
            human_ceiling_spearman=_rounded(human_ceiling(raters, spearman)),
        ))
    return reports


def _metric(function: Callable[[list, list], float], a: list, b: list) -> float | None:
    return _rounded(function(a, b)) if len(a) >= 2 else None


def grader_report(
    pairs: list[tuple[LabelledDialogue, Assessment]], mapping: dict[str, LabelMapping]
) -> list[GraderReport]:
    """Grade the graders: each rater against the model and against the other raters, per label."""
    reports = []
    for label, target in mapping.items():
        rated = [(d.ratings.get(label, {}), _model_score(a, target.criterion)) for d, a in pairs]
        shifted = [({r: v + target.offset for r, v in item.items()}, score) for item, score in rated if item]
        for rater in sorted({r for item, _ in shifted for r in item}):
            with_model = [(item[rater], score) for item, score in shifted if rater in item and score is not None]
            own = [to_scale(v) for v, _ in with_model]
            model = [score for _, score in with_model]
            one, rest = peer_pairs([item for item, _ in shifted], rater)
            reports.append(GraderReport(
                label=label, criterion=target.criterion, rater=rater,
                n=sum(1 for item, _ in shifted if rater in item),
                model_qwk=_metric(quadratic_weighted_kappa, model, own),
                model_spearman=_metric(spearman, model, own),
                model_exact=round(exact_agreement(model, own), 3) if own else None,
                peers_spearman=_metric(spearman, one, rest),
                peers_exact=round(exact_agreement([to_scale(v) for v in one], [to_scale(v) for v in rest]), 3)
                if one else None,
                bias_vs_peers=round(bias(one, rest), 3) if one else None,
            ))
    return reports


def stability_report(repeats: dict[str, dict[str, list[int | None]]], criteria: list[str]) -> list[StabilityReport]:
    """``repeats[dialogue][criterion]`` holds every run's score (the first run included)."""
    reports = []
    for criterion in criteria:
        runs = [scores[criterion] for scores in repeats.values() if criterion in scores]
        runs = [[v for v in r if v is not None] for r in runs]
        runs = [r for r in runs if len(r) >= 2]
        if not runs:
            continue
        sds = [math.sqrt(sum((v - sum(r) / len(r)) ** 2 for v in r) / (len(r) - 1)) for r in runs]
        reports.append(StabilityReport(
            criterion=criterion, dialogues=len(runs), runs=max(len(r) for r in runs),
            mean_sd=round(sum(sds) / len(sds), 3),
            all_agree=round(sum(len(set(r)) == 1 for r in runs) / len(runs), 3),
            max_range=max(max(r) - min(r) for r in runs),
        ))
    return reports


def report_items(
    pairs: list[tuple[LabelledDialogue, Assessment]],
    mapping: dict[str, LabelMapping],
    repeats: dict[str, dict[str, list[int | None]]],
) -> list[EvalItem]:
    criteria = sorted({m.criterion for m in mapping.values()})
    return [
        EvalItem(
            dialogue_id=d.transcript.id, status=a.status, error=a.error,
            human={label: _rounded(d.mean(label)) if d.mean(label) is not None else None for label in mapping},
            model={c: _model_score(a, c) for c in criteria} if a.status == "scored" else {},
            repeats=repeats.get(d.transcript.id, {}),
        )
        for d, a in pairs
    ]


def regressions(report: EvalReport, baseline: EvalReport) -> list[str]:
    """Metrics that fell below the baseline's own 95% interval: a change that made agreement worse."""
    old = {(c.criterion, c.label): c for c in baseline.criteria}
    found = []
    for current in report.criteria:
        before = old.get((current.criterion, current.label))
        if not before:
            continue
        for name in ("qwk", "spearman", "pearson"):
            now, then = getattr(current, name), getattr(before, name)
            if then.low is None:
                continue
            if now.value is None or now.value < then.low:
                shown = "undefined" if now.value is None else f"{now.value:.3f}"
                found.append(f"{current.criterion}/{current.label} {name}: {shown} < baseline interval "
                             f"low {then.low:.3f} (baseline {then.value:.3f})")
    return found


@dataclass
class EvalRun:
    """Scores every dialogue once (through the cache: a re-run is resumable), then the stability runs."""

    assess: Callable[[LabelledDialogue], Assessment]
    progress: Callable[[int, int, Assessment], None] = lambda done, total, assessment: None
    assess_fresh: Callable[[LabelledDialogue], Assessment] | None = None

    def run(self, dialogues: list[LabelledDialogue]) -> list[tuple[LabelledDialogue, Assessment]]:
        pairs = []
        for index, dialogue in enumerate(dialogues, start=1):
            assessment = self.assess(dialogue)
            self.progress(index, len(dialogues), assessment)
            pairs.append((dialogue, assessment))
        return pairs

    def repeat(
        self, pairs: list[tuple[LabelledDialogue, Assessment]], runs: int, criteria: list[str], limit: int | None
    ) -> dict[str, dict[str, list[int | None]]]:
        """``runs`` scorings in all of the first ``limit`` scored dialogues: the stored one plus fresh ones."""
        if runs < 2 or self.assess_fresh is None:
            return {}
        chosen = [(d, a) for d, a in pairs if a.status == "scored"][:limit]
        total = len(chosen) * (runs - 1)
        repeats: dict[str, dict[str, list[int | None]]] = {}
        done = 0
        for dialogue, first in chosen:
            scores = {c: [_model_score(first, c)] for c in criteria}
            for _ in range(runs - 1):
                again = self.assess_fresh(dialogue)
                done += 1
                self.progress(done, total, again)
                if again.status == "scored":
                    for c in criteria:
                        scores[c].append(_model_score(again, c))
            repeats[dialogue.transcript.id] = scores
        return repeats


def write_report(report: EvalReport, out: Path) -> Path:
    """``report.json`` and its page ``report.html`` side by side."""
    from service.evaluation.report_page import render_report

    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_report(report), encoding="utf-8")
    return path


def now() -> datetime:
    return datetime.now(timezone.utc)
