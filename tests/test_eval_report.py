"""The evaluation report's parts: Iceberg's labelled format, grading the graders, stability, the HTML page."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from service.evaluation.harness import (
    EvalReport,
    LabelMapping,
    agreement_report,
    grader_report,
    identity_mapping,
    report_items,
    stability_report,
)
from service.evaluation.labelled import LabelledDialogue, dump_iceberg, load_iceberg
from service.evaluation.report_page import render_report
from service.scoring.schemas import Assessment, CriterionScore, ReviewerOverride
from service.transcripts.schemas import Transcript, Turn

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def _transcript(n: int, text: str = "您好") -> Transcript:
    return Transcript(id=f"c{n}", agent_id="A1", turns=[Turn(speaker="customer", text="问题"),
                                                          Turn(speaker="agent", text=text)])


def _assessment(n: int, scores: dict[str, int | None]) -> Assessment:
    return Assessment(
        id=f"a{n}", transcript_id=f"c{n}", agent_id="A1", status="scored", rubric_version="r", prompt_version="p",
        model="m", created_at=NOW,
        scores=[CriterionScore(criterion_id=c, dimension="answering_skill", score=v, rationale="", evidence=[],
                               needs_review=False, source="model:m") for c, v in scores.items()],
    )


def test_iceberg_format_round_trips_and_names_bad_lines(tmp_path: Path) -> None:
    dialogues = [
        LabelledDialogue(transcript=_transcript(1), ratings={"answering_skill": {"rev-li": 4.0, "rev-wang": 3.0}}),
        LabelledDialogue(transcript=_transcript(2, "<b>稍等</b>"), ratings={"logic": {"rater": 2.0}}),
    ]
    path = tmp_path / "set.jsonl"
    path.write_text(dump_iceberg(dialogues), encoding="utf-8")
    assert load_iceberg(path) == dialogues

    path.write_text('{"transcript": {"id": "x", "agent_id": "A", "turns": [{"speaker": "agent", "text": "hi"}]},'
                    ' "labels": {"logic": 4}}\n{"transcript": {"id": "y", "agent_id": "A", "turns": []},'
                    ' "labels": {"logic": 3}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"set.jsonl: line 2: field transcript.turns"):
        load_iceberg(path)
    bare = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(bare + "\n", encoding="utf-8")
    [one] = load_iceberg(path)
    assert one.ratings == {"logic": {"rater": 4.0}} and one.mean("logic") == 4.0


def test_identity_mapping_uses_only_labels_that_name_criteria() -> None:
    dialogues = [LabelledDialogue(transcript=_transcript(1), ratings={"logic": {"r": 3.0}, "mood": {"r": 1.0}})]
    assert identity_mapping(dialogues, {"logic", "answering_skill"}) == {"logic": LabelMapping(criterion="logic")}


def test_graders_are_graded_against_the_model_and_their_peers() -> None:
    # rater "same" always gives the model's score; "peer" gives model+1 capped; "off" the reverse order
    model = [1, 2, 3, 4, 5]
    pairs = []
    for n, score in enumerate(model):
        ratings = {"logic": {"same": float(score), "peer": float(min(5, score + 1)), "off": float(6 - score)}}
        pairs.append((LabelledDialogue(transcript=_transcript(n), ratings=ratings), _assessment(n, {"logic": score})))
    rows = {g.rater: g for g in grader_report(pairs, {"logic": LabelMapping(criterion="logic")})}
    assert rows["same"].model_qwk == 1.0 and rows["same"].model_exact == 1.0 and rows["same"].n == 5
    assert rows["off"].model_spearman == -1.0
    assert rows["peer"].model_exact == pytest.approx(0.2)  # only the capped 5 matches
    # against the others: "same" vs mean(peer, off) = (6.5 - ... ) is constant 3.5 on four of five items
    peers_of_same = [(min(5, s + 1) + 6 - s) / 2 for s in model]
    assert rows["same"].bias_vs_peers == pytest.approx(round(sum(m - p for m, p in zip(model, peers_of_same)) / 5, 3))


def test_the_model_is_measured_not_the_reviewer_who_corrected_it() -> None:
    assessment = _assessment(1, {"logic": 2})
    assessment.scores[0].override = ReviewerOverride(score=5, reviewer="rev-li", comment="看漏了", at=NOW)
    dialogue = LabelledDialogue(transcript=_transcript(1), ratings={"logic": {"rev-li": 5.0}})
    other = (LabelledDialogue(transcript=_transcript(2), ratings={"logic": {"r": 1.0}}), _assessment(2, {"logic": 1}))
    [report] = agreement_report([(dialogue, assessment), other], {"logic": LabelMapping(criterion="logic")}, seed=0)
    assert report.exact == 0.5 and report.bias == -1.5  # the model's 2 against the reviewer's 5


def test_stability_spread_by_hand() -> None:
    repeats = {"c1": {"logic": [3, 3, 3]}, "c2": {"logic": [2, 4, 3]}, "c3": {"logic": [5, None]}}
    [row] = stability_report(repeats, ["logic"])
    assert (row.dialogues, row.runs, row.max_range) == (2, 3, 2)
    assert row.mean_sd == pytest.approx(0.5) and row.all_agree == 0.5


def test_report_page_escapes_ids_and_draws_every_criterion() -> None:
    pairs = [(LabelledDialogue(transcript=_transcript(n).model_copy(update={"id": f"<script>{n}"}),
                               ratings={"logic": {"r1": float(s), "r2": float(max(1, s - 1))}}),
              _assessment(n, {"logic": s})) for n, s in enumerate([1, 3, 5, 4])]
    mapping = {"logic": LabelMapping(criterion="logic")}
    report = EvalReport(
        created_at=NOW, model="m", rubric_version="r", prompt_version="p", dataset="set.jsonl", sample=None, seed=0,
        scored=4, failed=0, criteria=agreement_report(pairs, mapping, 0), graders=grader_report(pairs, mapping),
        stability=stability_report({"x": {"logic": [2, 3]}}, ["logic"]), items=report_items(pairs, mapping, {}),
    )
    page = render_report(report)
    assert "<script>" not in page and "&lt;script&gt;1" in page
    assert page.count("<circle") == 4  # one dot per scored call
    assert "Stability" in page and "r1" in page and "human ceiling" in page
