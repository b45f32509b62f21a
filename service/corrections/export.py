"""Reviewer corrections as a labelled set (Iceberg's format for `iceberg eval --format iceberg`).

Each reviewer's latest score for a criterion of a call is one rater's label; the model's score is not a label.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from service.evaluation.labelled import LabelledDialogue
from service.storage import repository


def corrections_as_labels(session: Session) -> tuple[list[LabelledDialogue], int]:
    """The labelled calls, and how many corrections were skipped (reviewer said "not assessable", or the
    transcript is gone)."""
    latest: dict[tuple[str, str, str], int | None] = {}
    for row in repository.corrections(session):
        latest[(row.transcript_id, row.criterion_id, row.reviewer)] = row.after
    labels: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    skipped = 0
    for (transcript_id, criterion_id, reviewer), score in sorted(latest.items()):
        if score is None:
            skipped += 1
            continue
        labels[transcript_id][criterion_id][reviewer] = float(score)
    dialogues = []
    for transcript_id in sorted(labels):
        transcript = repository.get_transcript(session, transcript_id)
        if transcript is None:
            skipped += sum(len(v) for v in labels[transcript_id].values())
            continue
        dialogues.append(LabelledDialogue(transcript=transcript, ratings={c: dict(r) for c, r in labels[transcript_id].items()}))
    return dialogues, skipped
