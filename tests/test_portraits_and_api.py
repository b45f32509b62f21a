"""Portraits from stored assessments, served by a real uvicorn server, and the static files the CLI writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from service.context import ServiceContext
from service.publishing import write_portraits
from service.transcripts.parsing import load_transcript_file
from service.transcripts.schemas import Transcript
from service.web.app import create_app
from tests.conftest import EXAMPLES, api_client, live_server
from tests.scripted_llm import ScriptedLLM, answer_from_schema, completion

# The scripted model scores by agent behaviour it can see: rude words pull everything down.
RUDE = ("你听不懂", "随便你", "自己去", "你自己", "说。", "喂")


ABILITY_CRITERIA = {"answering_skill", "professional_knowledge", "general_knowledge", "tool_use"}


def _behaviour_score(cid: str, text: str) -> int:
    """Rude agents score 1; 陈静 is kind but unsure of the products (a strengthening-base agent); the rest 5."""
    if any(word in text for word in RUDE):
        return 1
    if "陈静" in text and _dimension(cid) in ABILITY_CRITERIA:
        return 2
    return 5


def _dimension(cid: str) -> str:
    from service.config import PROJECT_ROOT
    from service.rubrics.loader import load_rubric

    return load_rubric(PROJECT_ROOT / "rubrics").criterion(cid).dimension


@pytest.fixture
def assessed(context: ServiceContext, scripted_llm: ScriptedLLM) -> ServiceContext:
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(r, _behaviour_score)), {})
    for path in sorted(EXAMPLES.glob("*")):
        assert context.assessor.assess(load_transcript_file(path)).status == "scored"
    return context


@pytest.fixture
def server(assessed: ServiceContext) -> Iterator[str]:
    with live_server(create_app(assessed)) as url:
        yield url


@pytest.fixture
def client(server: str, assessed: ServiceContext) -> Iterator[httpx.Client]:
    with api_client(server, assessed) as admin:
        yield admin


def test_portrait_places_agents_and_recommends_cases(assessed: ServiceContext) -> None:
    good = assessed.portrait("A001")
    poor = assessed.portrait("A004")
    assert good and poor
    assert good.placement.quadrant == "lead_goose" and good.program and good.program.name == "头雁工程"
    assert poor.placement.quadrant == "leaving_tail"
    assert poor.cases and all("leaving_tail" in c.programs for c in poor.cases)
    assert poor.program and poor.program.measures
    assert good.placement.assessed_calls == 5


def test_history_trend_and_mentor_pairs(assessed: ServiceContext) -> None:
    mentor, apprentice = assessed.portrait("A001"), assessed.portrait("A003")
    assert mentor and apprentice
    assert apprentice.placement.quadrant == "strengthening_base"
    # two periods of calls: October (2 calls each, below the minimum of 5) and November
    assert [(h.period, h.status) for h in apprentice.history] == [("2026-10", "not_yet_placeable"),
                                                                  ("2026-11", "placed")]
    assert apprentice.trend.shown and [p.calls for p in apprentice.trend.periods] == [2, 3]
    [pair] = apprentice.mentoring
    assert (pair.role, pair.partner_id, pair.partner_name) == ("apprentice", "A001", "王晓雯")
    assert {c.dimension for c in pair.covers} <= {"answering_skill", "professional_knowledge"} and pair.covers
    assert all(c.mentor_score > c.apprentice_score for c in pair.covers)
    assert [(m.role, m.partner_id) for m in mentor.mentoring] == [("mentor", "A003")]

    view = assessed.team("T01")
    assert (view.period, view.previous_period) == ("2026-11", "2026-10")
    assert {m.agent_id: (m.from_quadrant, m.to_quadrant) for m in view.movements}["A003"] == (None, "strengthening_base")
    assert view.counts["strengthening_base"] == 1 and sum(view.counts.values()) == 4
    assert [(p.mentor_id, p.apprentice_id) for p in view.pairs] == [("A001", "A003")]

    # every placement shown is stored with its inputs; showing it again stores nothing new
    from service.storage import repository

    with assessed.sessions() as session:
        rows = repository.placement_records(session, "A003")
        assert [r.period for r in rows] == ["2026-10", "2026-11"]
        assert rows[-1].assessment_ids == apprentice.placement.assessment_ids and len(rows[-1].assessment_ids) == 5
    assessed.portrait("A003")
    with assessed.sessions() as session:
        assert len(repository.placement_records(session, "A003")) == 2


def test_api_serves_portraits_pages_and_assessments(client: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    if True:
        assert client.get("/healthz").json() == {"status": "ok"}
        portrait = client.get("/v1/agents/A001/portrait").json()
        assert portrait["placement"]["quadrant"] == "lead_goose"
        assert client.get("/v1/agents/nobody/portrait").status_code == 404
        page = client.get("/agents/A004?lang=en")
        assert page.status_code == 200 and "Leaving the Tail" in page.text and "<svg" in page.text
        team = client.get("/teams/T01")
        assert team.status_code == 200 and "王晓雯" in team.text
        spec = client.get("/openapi.json").json()
        assert "/v1/assessments" in spec["paths"] and "Portrait" in spec["components"]["schemas"]
        schemas = spec["components"]["schemas"]
        assert {"history", "trend", "mentoring"} <= set(schemas["Portrait"]["properties"])
        assert {"movements", "counts", "pairs"} <= set(schemas["TeamView"]["properties"])
        assert "/v1/teams/{team_id}/pairings" in spec["paths"]

        pairs = client.get("/v1/teams/T01/pairings").json()
        assert [(p["mentor_id"], p["apprentice_id"]) for p in pairs["pairs"]] == [("A001", "A003")]
        assert client.get("/v1/teams/nobody/pairings").status_code == 404
        apprentice_page = client.get("/agents/A003").text
        assert "冰山模型" in apprentice_page and "维度雷达图" in apprentice_page and "王晓雯" in apprentice_page
        assert "分类历史" in apprentice_page and "2026-10" in apprentice_page
        english = client.get("/agents/A003?lang=en").text
        assert "Placement history" in english and "Mentor" in english and 'href="/agents/A001?lang=en"' in english
        october = client.get("/v1/agents/A003/portrait", params={"since": "2026-10-01", "until": "2026-10-31"}).json()
        assert october["placement"]["assessed_calls"] == 2 and october["placement"]["calls_needed"] == 3
        assert {c["transcript_id"] for c in october["calls"]} == {"C3004", "C3005"}
        backwards = client.get("/v1/teams/T01", params={"since": "2026-11-30", "until": "2026-10-01"})
        assert backwards.status_code == 422 and "since (2026-11-30) is after until" in backwards.text
        assert client.get("/v1/teams/T01", params={"since": "yesterday"}).status_code == 422
        team_page = client.get("/teams/T01?lang=en").text
        assert "Movements since the previous period" in team_page and "mentor pairs" in team_page

        transcript = load_transcript_file(EXAMPLES / "C1002.json").model_copy(update={"id": "new-call"})
        created = client.post("/v1/assessments", json=transcript.model_dump(mode="json"))
        assert created.status_code == 200 and created.json()["status"] == "scored"
        bad = client.post("/v1/assessments", json={"id": "x", "agent_id": "A1", "turns": []})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        problem = bad.json()
        assert problem["status"] == 422 and problem["title"] == "Invalid request"
        assert any(err["field"] == "turns" and err["in"] == "body" for err in problem["errors"])
        assert "turns:" in problem["detail"]

        scripted_llm.handler = lambda r: (200, completion("not json"), {})
        failing = transcript.model_copy(update={"id": "another", "turns": transcript.turns[:3]})
        failed = client.post("/v1/assessments", json=failing.model_dump(mode="json"))
        assert failed.status_code == 502 and "not valid JSON" in failed.json()["error"]


def test_html_escapes_transcript_text(context: ServiceContext, scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    for n in range(3):
        hostile = Transcript(
            id=f"x{n}", agent_id="A<script>", agent_name="<b>Eve</b>",
            turns=[{"speaker": "agent", "text": f"您好<script>alert({n})</script>，请讲"}],
        )
        assert context.assessor.assess(hostile).status == "scored"
    written = write_portraits(context, tmp_path / "out")
    assert len(written) == 1
    html = (tmp_path / "out" / "agents" / "A_script_.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Eve" in html
    team = (tmp_path / "out" / "team.html").read_text(encoding="utf-8")
    assert "<b>Eve</b>" not in team


def test_written_portraits_match_the_api_json(assessed: ServiceContext, tmp_path: Path) -> None:
    portraits = write_portraits(assessed, tmp_path)
    assert sorted(p.agent_id for p in portraits) == ["A001", "A002", "A003", "A004"]
    data = json.loads((tmp_path / "agents" / "A002.json").read_text(encoding="utf-8"))
    assert data == assessed.portrait("A002").model_dump(mode="json")
    assert (tmp_path / "team.html").is_file() and (tmp_path / "agents" / "A002.html").is_file()


def test_team_matrix_needs_no_case_retrieval(assessed: ServiceContext) -> None:
    fresh = ServiceContext(assessed.settings)
    view = fresh.team("T01")
    assert [m.agent_id for m in view.members] == ["A001", "A002", "A003", "A004"]
    assert "A001" in view.by_quadrant["lead_goose"] and view.members[0].program_name == "头雁工程"
    assert "A004" in view.by_quadrant["leaving_tail"] and view.not_yet_placeable == []
    assert "case_index" not in fresh.__dict__  # the vector store was never opened for the team page
