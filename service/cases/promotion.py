"""Best responses from the team's own calls as training cases.

A candidate is an agent turn that scored at the top of a criterion with verified evidence; candidates are found
automatically and flagged for review, and become "exemplary excerpt" cases only when a reviewer promotes them.
The excerpt is masked again (a quote is short, but it is the customer's call), and links back to its call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from service.cases.library import TrainingCase
from service.redaction import redact_text
from service.rubrics.schemas import Rubric
from service.scoring.schemas import Assessment

TOP = 5


@dataclass(frozen=True)
class Candidate:
    assessment_id: str
    transcript_id: str
    agent_id: str
    criterion_id: str
    turn: int
    quote: str
    rationale: str


def candidates(assessment: Assessment, threshold: int = TOP) -> list[Candidate]:
    """Top-scored criteria whose evidence is a verified agent turn; a reviewer's score, when set, decides."""
    found = []
    for score in assessment.scores:
        if score.final_score is None or score.final_score < threshold or not score.counts:
            continue
        evidence = next((e for e in score.evidence if e.status in ("verified", "repointed") and e.turn > 0), None)
        if evidence:
            found.append(Candidate(assessment.id, assessment.transcript_id, assessment.agent_id, score.criterion_id,
                                   evidence.turn, redact_text(evidence.quote).text, score.rationale))
    return found


def excerpt_case(candidate: Candidate, rubric: Rubric, promoted_by: str) -> TrainingCase:
    criterion = rubric.criterion(candidate.criterion_id)
    digest = hashlib.sha256(f"{candidate.assessment_id}|{candidate.criterion_id}".encode()).hexdigest()[:10]
    program = ["strengthening_base", "leaving_tail"]
    body = (f"## 原话\n“{candidate.quote}”（通话 {candidate.transcript_id} 第 {candidate.turn} 句）\n\n"
            f"## 为什么好\n{criterion.name.zh}达到 {TOP} 分：{criterion.levels[TOP].zh}\n\n"
            f"## 评分理由\n{candidate.rationale}\n\n## 推荐人\n{promoted_by}\n")
    return TrainingCase(
        id=f"excerpt-{digest}", title=f"本组优秀应答：{criterion.name.zh}（{candidate.transcript_id}）", language="zh",
        dimensions=[criterion.dimension], criteria=[criterion.id], programs=program, format="exemplary_excerpt",
        level="basic", duration_minutes=5, body=body, source=f"/assessments/{candidate.assessment_id}",
    )
