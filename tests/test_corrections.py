"""Reviewer corrections over the HTTP API: the model's score kept beside the reviewer's, audited, used by
portraits, and exported as labelled data that `iceberg eval` grades."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.context import ServiceContext
from service.corrections.export import corrections_as_labels
from service.transcripts.parsing import load_transcript_file
from service.web.app import create_app
from tests.conftest import EXAMPLES, api_client, live_server
from tests.scripted_llm import ScriptedLLM


def test_a_reviewer_corrects_a_score(context: ServiceContext, scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    first = context.assessor.assess(load_transcript_file(EXAMPLES / "C2001.json"))  # every model score is 3
    with live_server(create_app(context)) as url, api_client(url, context, "reviewer", name="rev-li") as client:
        path = f"/v1/assessments/{first.id}/corrections"
        fixed = client.post(path, json={"criterion_id": "answering_skill", "score": 5, "comment": "答案准确完整",
                                        "reviewer": "rev-li"})
        assert fixed.status_code == 200, fixed.text
        score = next(s for s in fixed.json()["scores"] if s["criterion_id"] == "answering_skill")
        assert score["score"] == 3 and score["override"]["score"] == 5 and score["override"]["reviewer"] == "rev-li"
        again = client.post(path, json={"criterion_id": "answering_skill", "score": 4, "comment": "语气扣一分",
                                        "reviewer": "rev-wang"})
        assert again.status_code == 200
        history = client.get(path).json()
        assert [(h["reviewer"], h["model_score"], h["before"], h["after"]) for h in history] == [
            ("rev-li", 3, 3, 5), ("rev-wang", 3, 5, 4)]
        assert client.get(f"/v1/assessments/{first.id}").json()["scores"][0]["override"] is not None

        # what to fix is named
        wrong = client.post(path, json={"criterion_id": "charm", "score": 4, "comment": "x", "reviewer": "r"})
        assert wrong.status_code == 422 and "criterion_id: 'charm' is not scored" in wrong.text
        no_comment = client.post(path, json={"criterion_id": "logic", "score": 4, "reviewer": "r"})
        assert no_comment.status_code == 422 and no_comment.json()["errors"][0]["field"] == "comment"
        blank = client.post(path, json={"criterion_id": "logic", "score": 4, "comment": "  ", "reviewer": "r"})
        assert blank.status_code == 422 and "must not be blank" in blank.text
        too_high = client.post(path, json={"criterion_id": "logic", "score": 7, "comment": "x", "reviewer": "r"})
        assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "score"
        assert client.post("/v1/assessments/nope/corrections",
                           json={"criterion_id": "logic", "score": 4, "comment": "x", "reviewer": "r"}).status_code == 404
        # the page's correction form goes through the same checks
        form = client.post(f"/assessments/{first.id}/corrections", data={"criterion_id": "logic", "score": "7",
                                                                          "comment": "x"})
        assert form.status_code == 422 and "score" in form.json()["detail"]
        blank_form = client.post(f"/assessments/{first.id}/corrections", data={"criterion_id": "logic", "score": "na",
                                                                                "comment": " "})
        assert blank_form.status_code == 422 and "comment" in blank_form.json()["detail"]
        assert len(client.get(path).json()) == 2  # nothing recorded for the refused ones
        by_form = client.post(f"/assessments/{first.id}/corrections", data={"criterion_id": "logic", "score": "na",
                                                                             "comment": "无法判断"})
        assert by_form.status_code == 303 and client.get(path).json()[-1]["after"] is None
        assert client.get(path).json()[-1]["reviewer"] == "rev-li"  # the key's holder

    # the portrait reads the reviewer's value: answering skill 4 (not the model's 3)
    portrait = context.portrait("A002")
    assert portrait is not None
    answering = next(d for d in portrait.dimensions if d.dimension == "answering_skill")
    assert answering.mean == 4.0 and portrait.placement.overridden_scores == 2  # answering skill, and logic by the form

    # a cached re-assessment returns the corrected assessment, not a fresh copy of the model's
    cached = context.assessor.assess(load_transcript_file(EXAMPLES / "C2001.json"))
    assert cached.cached and cached.scores[0].override and cached.scores[0].override.score == 4

    with context.sessions() as session:
        [labelled], skipped = corrections_as_labels(session)
    assert labelled.transcript.id == "C2001" and skipped == 1  # rev-li's "not assessable" on logic is no label
    assert labelled.ratings == {"answering_skill": {"rev-li": 5.0, "rev-wang": 4.0}}


def test_corrections_export_feeds_the_evaluation(context: ServiceContext, scripted_llm: ScriptedLLM,
                                                 tmp_path: Path) -> None:
    from service.scoring.schemas import ReviewerOverride
    from service.storage import repository

    when = context.assessor.assess(load_transcript_file(EXAMPLES / "C1001.json")).created_at
    for name, reviewer_scores in (("C1001", (5, 4)), ("C1002", (4, 4)), ("C2001", (2, 1))):
        assessment = context.assessor.assess(load_transcript_file(EXAMPLES / f"{name}.json"))
        for reviewer, score in zip(("rev-li", "rev-wang"), reviewer_scores):
            with context.sessions.begin() as session:
                repository.correct_score(session, assessment.id, "logic",
                                         ReviewerOverride(score=score, reviewer=reviewer, comment="复核", at=when))
    env = {**os.environ, "ICEBERG_DATA_DIR": str(context.settings.data_dir), "ICEBERG_LLM_MODEL": "openai/scripted",
           "ICEBERG_LLM_API_BASE": scripted_llm.api_base, "ICEBERG_LLM_API_KEY": "sk-test"}
    out = tmp_path / "corrections.jsonl"
    exported = subprocess.run([sys.executable, "-m", "service.cli", "corrections", "export", "--out", str(out)],
                              env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0 and "3 corrected calls (6 reviewer scores)" in exported.stderr
    calls_before = len(scripted_llm.requests)
    evaluated = subprocess.run([sys.executable, "-m", "service.cli", "eval", "--format", "iceberg", str(out),
                                "--out", str(tmp_path / "eval")], env=env, capture_output=True, text=True, timeout=120)
    assert evaluated.returncode == 0, evaluated.stderr
    assert len(scripted_llm.requests) == calls_before  # the calls were scored before: all from the cache
    report = json.loads((tmp_path / "eval" / "report.json").read_text(encoding="utf-8"))
    [logic] = report["criteria"]
    # the model's own 3s against the reviewers' means 4.5, 4 and 1.5: the corrections are the labels
    assert logic["criterion"] == "logic" and logic["n"] == 3 and logic["exact"] == 0.0
    assert logic["bias"] == -0.333
    graders = {g["rater"]: g for g in report["graders"]}
    assert sorted(graders) == ["rev-li", "rev-wang"] and graders["rev-li"]["n"] == 3
    assert graders["rev-li"]["peers_exact"] == 0.333  # rev-li agrees with rev-wang on C1002 only
