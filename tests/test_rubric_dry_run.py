"""Trying a draft rubric on a sample transcript before it goes live: scored, explained, and stored nowhere."""

from __future__ import annotations

import copy

import yaml
from sqlalchemy import func, select

from service.config import PROJECT_ROOT
from service.context import ServiceContext
from service.storage.tables import AssessmentRow, ModelCallRow, TranscriptRow
from service.transcripts.parsing import load_transcript_file
from service.web.app import create_app
from tests.conftest import EXAMPLES, api_client, live_server
from tests.scripted_llm import ScriptedLLM


def _criteria_file(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / "rubrics" / "criteria" / f"{name}.yaml").read_text(encoding="utf-8"))


def test_a_draft_is_scored_and_nothing_is_stored(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    transcript = load_transcript_file(EXAMPLES / "C1001.json").model_dump(mode="json")
    draft = _criteria_file("logic")
    draft["criteria"][0]["levels"][5]["zh"] += "（草案：要求先复述客户问题）"
    with live_server(create_app(context)) as url, api_client(url, context) as admin:
        tried = admin.post("/v1/rubrics/test", json={"transcript": transcript, "criteria": [draft]})
        assert tried.status_code == 200, tried.text
        body = tried.json()
        assert body["draft_version"] != body["current_version"]
        assert [s["criterion_id"] for s in body["assessment"]["scores"]] == ["logic"]
        assert body["assessment"]["rubric_version"] == body["draft_version"]
        # the draft went to the model: its level text is in the prompt
        assert "草案：要求先复述客户问题" in scripted_llm.requests[-1]["messages"][0]["content"]

        broken = copy.deepcopy(draft)
        broken["criteria"][0]["levels"].pop(3)
        bad = admin.post("/v1/rubrics/test", json={"transcript": transcript, "criteria": [broken]})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("criteria[0]: criteria[0] (")
        unknown = admin.post("/v1/rubrics/test", json={"transcript": transcript,
                                                        "criteria": [{**draft, "dimension": "charisma"}]})
        assert unknown.status_code == 422 and "dimension 'charisma' is not in model" in unknown.json()["detail"]
        with api_client(url, context, "reviewer") as reviewer:
            assert reviewer.post("/v1/rubrics/test", json={"transcript": transcript, "criteria": [draft]}).status_code == 403
            assert reviewer.get("/v1/rubrics/current").json()["version"] == body["current_version"]
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AssessmentRow)) == 0
        assert session.scalar(select(func.count()).select_from(TranscriptRow)) == 0
        assert session.scalar(select(func.count()).select_from(ModelCallRow)) == 1  # the call it cost is logged
