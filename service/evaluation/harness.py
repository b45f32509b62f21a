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
from pydantic import BaseModel, ValidationError

from service.evaluation.metrics import (
    Estimate,
    adjacent_agreement,
    bias,
    bootstrap,
    confusion,
    exact_agreement,
    human_ceiling,
    pearson,
    quadratic_weighted_kappa,
    spearman,
)
from service.evaluation.stc3 import LabelledDialogue
from service.scoring.schemas import Assessment
from service.validation import describe_validation_error


class LabelMapping(BaseModel):
    criterion: str
    offset: float = 0.0


class CriterionReport(BaseModel):
    criterion: str
    label: str
    n: int
    qwk: Estimate
    spearman: Estimate
    pearson: Estimate
    exact: float
    adjacent: float
    bias: float
    confusion: list[list[int]]
    human_ceiling_spearman: float | None


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


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def agreement_report(
    pairs: list[tuple[LabelledDialogue, Assessment]], mapping: dict[str, LabelMapping], seed: int
) -> list[CriterionReport]:
    reports = []
    for label, target in mapping.items():
        model_scores, human_means, raters = [], [], []
        for dialogue, assessment in pairs:
            score = next((s.score for s in assessment.scores if s.criterion_id == target.criterion), None)
            if score is None:
                continue
            model_scores.append(score)
            human_means.append(dialogue.mean_on_1_to_5(label) - 3 + target.offset)
            raters.append([r + target.offset for r in dialogue.ratings[label]])
        if len(model_scores) < 2:
            continue
        human_int = [min(5, max(1, _half_up(h))) for h in human_means]
        reports.append(CriterionReport(
            criterion=target.criterion, label=label, n=len(model_scores),
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
    assess: Callable[[LabelledDialogue], Assessment]
    progress: Callable[[int, int, Assessment], None] = lambda done, total, assessment: None

    def run(self, dialogues: list[LabelledDialogue]) -> list[tuple[LabelledDialogue, Assessment]]:
        pairs = []
        for index, dialogue in enumerate(dialogues, start=1):
            assessment = self.assess(dialogue)
            self.progress(index, len(dialogues), assessment)
            pairs.append((dialogue, assessment))
        return pairs


def write_report(report: EvalReport, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def now() -> datetime:
    return datetime.now(timezone.utc)
