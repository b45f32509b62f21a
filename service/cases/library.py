"""Loading training cases (Markdown with YAML front matter) and the programs file, with errors naming file and field."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.validation import describe_validation_error
from service.rubrics.schemas import Text

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


class CaseError(ValueError):
    """A case or program file that does not validate."""


CaseFormat = Literal["exemplary_excerpt", "lesson", "role_play", "simulated_call", "compliance_refresher"]
SECTIONS = {
    "zh": ("## 场景", "## 好的做法", "## 常见错误", "## 练习任务"),
    "en": ("## Scenario", "## What good looks like", "## Common mistakes", "## Practice task"),
}


class TrainingCase(BaseModel):
    """A training case: front matter saying what it trains and for whom, and a body in four sections (the
    scenario, what good looks like, common mistakes, the practice task)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    language: Literal["zh", "en"] = "zh"
    dimensions: list[str] = Field(min_length=1)
    criteria: list[str] = Field(default_factory=list, description="Rubric criteria it trains, when narrower.")
    programs: list[str] = Field(min_length=1)
    format: CaseFormat
    level: Literal["basic", "intermediate", "advanced"]
    duration_minutes: int = Field(gt=0, le=480)
    body: str = Field(min_length=1)
    source: str | None = Field(default=None, description="For promoted excerpts: the assessment it came from.")

    @model_validator(mode="after")
    def _four_sections(self) -> "TrainingCase":
        if self.format == "exemplary_excerpt" and self.source:
            return self  # promoted from a real call: quote and reason, not the four-part lesson
        missing = [h.removeprefix("## ") for h in SECTIONS[self.language] if h not in self.body]
        if missing:
            raise ValueError(f"body: missing section(s) {', '.join(missing)} (a {self.language} case has "
                             f"{', '.join(h.removeprefix('## ') for h in SECTIONS[self.language])})")
        return self

    def content_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def embedding_text(self) -> str:
        return f"{self.title}\n{self.body}"


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zh: str
    en: str
    dimensions: list[str] = Field(default_factory=list)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Program(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: Text
    summary: Text
    measures: list[Measure]



def load_case(path: Path) -> TrainingCase:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise CaseError(f"{path}: no front matter (the file must start with a '---' block)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise CaseError(f"{path}: front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise CaseError(f"{path}: front matter must be a mapping")
    try:
        return TrainingCase.model_validate({**meta, "body": match.group(2).strip()})
    except ValidationError as error:
        raise CaseError(f"{path}: {describe_validation_error(error)}") from None


def load_cases(cases_dir: Path, known_dimensions: set[str], known_programs: set[str],
               known_criteria: set[str] | None = None) -> list[TrainingCase]:
    cases: list[TrainingCase] = []
    seen: dict[str, Path] = {}
    for path in sorted(cases_dir.glob("*.md")):
        case = load_case(path)
        if case.id in seen:
            raise CaseError(f"{path}: case id {case.id!r} is already used by {seen[case.id]}")
        unknown = sorted(set(case.dimensions) - known_dimensions)
        if unknown:
            raise CaseError(f"{path}: field dimensions: unknown {unknown}")
        unknown = sorted(set(case.programs) - known_programs)
        if unknown:
            raise CaseError(f"{path}: field programs: unknown {unknown} (known: {sorted(known_programs)})")
        unknown = sorted(set(case.criteria) - known_criteria) if known_criteria is not None else []
        if unknown:
            raise CaseError(f"{path}: field criteria: unknown {unknown} (known: {sorted(known_criteria or [])})")
        seen[case.id] = path
        cases.append(case)
    return cases


def load_programs(path: Path) -> dict[str, Program]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CaseError(f"{path}: {error}") from None
    programs = {}
    for program_id, item in (data or {}).items():
        try:
            programs[program_id] = Program.model_validate({**item, "id": program_id})
        except ValidationError as error:
            raise CaseError(f"{path}: {program_id}: {describe_validation_error(error)}") from None
    return programs
