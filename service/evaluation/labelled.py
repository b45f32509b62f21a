"""A labelled set: transcripts with human scores per label and rater, whatever file they came from.

Raters keep their names so that each can be graded against the model and against the other raters. Iceberg's own
format is JSON lines, one call per line::

    {"transcript": {...a transcript...}, "labels": {"answering_skill": {"rev-li": 4, "rev-wang": 3}, "logic": 4}}

A label given as a bare number is one anonymous rater's score. Reviewer corrections export to this format.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError, field_validator

from service.transcripts.schemas import Transcript
from service.validation import describe_validation_error


class LabelledDialogue(BaseModel):
    transcript: Transcript
    ratings: dict[str, dict[str, float]]  # label -> rater -> score, on the label's own scale

    def mean(self, label: str) -> float | None:
        """The raters' mean for the label; None when nobody rated it."""
        values = list(self.ratings.get(label, {}).values())
        return sum(values) / len(values) if values else None


class _IcebergLine(BaseModel):
    transcript: Transcript
    labels: dict[str, dict[str, float] | float]

    @field_validator("labels")
    @classmethod
    def _some_label(cls, labels: dict[str, dict[str, float] | float]) -> dict[str, dict[str, float] | float]:
        if not labels:
            raise ValueError("at least one label is needed")
        return labels


def load_iceberg(path: Path) -> list[LabelledDialogue]:
    """Read Iceberg's labelled JSON lines; a bad line is named with its number and field."""
    dialogues = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                item = _IcebergLine.model_validate_json(line)
            except ValidationError as error:
                raise ValueError(f"{path}: line {lineno}: {describe_validation_error(error)}") from None
            ratings = {
                label: value if isinstance(value, dict) else {"rater": float(value)}
                for label, value in item.labels.items()
            }
            dialogues.append(LabelledDialogue(transcript=item.transcript, ratings=ratings))
    return dialogues


def dump_iceberg(dialogues: list[LabelledDialogue]) -> str:
    """The JSON lines ``load_iceberg`` reads back."""
    lines = []
    for d in dialogues:
        line = {"transcript": d.transcript.model_dump(mode="json", exclude_none=True), "labels": d.ratings}
        lines.append(json.dumps(line, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines) + ("\n" if lines else "")
