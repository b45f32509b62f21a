"""Best responses from the team's own calls: found automatically, promoted by a reviewer, masked, searchable."""

from __future__ import annotations

from datetime import datetime, timezone

from service.cases.promotion import candidates
from service.context import ServiceContext
from service.scoring.schemas import Assessment, CriterionScore, Evidence
from service.transcripts.parsing import load_transcript_file
from service.web.app import create_app
from tests.conftest import EXAMPLES, api_client, live_server
from tests.scripted_llm import ScriptedLLM, answer_from_schema, completion


def test_candidates_need_a_top_score_and_verified_agent_evidence_and_are_masked_again() -> None:
    def score(cid: str, value: int, status: str = "verified", turn: int = 2, quote: str = "您好，请拨打13812345678") -> CriterionScore:
        return CriterionScore(criterion_id=cid, dimension=cid, score=value, rationale="好", needs_review=status != "verified",
                              evidence=[Evidence(turn=turn, quote=quote, status=status)], source="m")

    assessment = Assessment(
        id="a1", transcript_id="t1", agent_id="A1", status="scored", rubric_version="r", prompt_version="p", model="m",
        created_at=datetime.now(timezone.utc),
        scores=[score("answering_skill", 5), score("logic", 4), score("service_attitude", 5, "unverified"),
                score("customer_first", 5, turn=0)],
    )
    [only] = candidates(assessment)
    assert only.criterion_id == "answering_skill" and "13812345678" not in only.quote and "[手机号]" in only.quote


def test_a_reviewer_promotes_a_best_answer_into_the_library(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(r, lambda cid, text: 5)), {})
    assessment = context.assessor.assess(load_transcript_file(EXAMPLES / "C1004.json"))
    with live_server(create_app(context)) as url, api_client(url, context, "reviewer", name="李质检") as reviewer:
        found = reviewer.get("/v1/cases/candidates").json()
        assert found and all(c["review"] == "pending" and c["assessment_id"] == assessment.id for c in found)
        first = found[0]
        made = reviewer.post("/v1/cases/promote", json={"assessment_id": assessment.id,
                                                         "criterion_id": first["criterion_id"]})
        assert made.status_code == 201, made.text
        case = made.json()
        assert case["format"] == "exemplary_excerpt" and case["source"] == f"/assessments/{assessment.id}"
        assert first["quote"] in case["body"] and "李质检" in case["body"]
        again = reviewer.post("/v1/cases/promote", json={"assessment_id": assessment.id,
                                                          "criterion_id": first["criterion_id"]})
        assert again.status_code == 409
        assert first["criterion_id"] not in {c["criterion_id"] for c in reviewer.get("/v1/cases/candidates").json()}
        wrong = reviewer.post("/v1/cases/promote", json={"assessment_id": assessment.id, "criterion_id": "charm"})
        assert wrong.status_code == 422 and "only such answers can be promoted" in wrong.json()["detail"]
        listed = reviewer.get("/v1/cases", params={"dimension": case["dimensions"][0], "k": 50}).json()["items"]
        assert case["id"] in {c["case_id"] for c in listed}
        searched = reviewer.get("/v1/cases", params={"q": first["quote"], "k": 3, "mode": "keyword"}).json()["items"]
        assert searched[0]["case_id"] == case["id"]
        with api_client(url, context, "platform") as platform:
            assert platform.get("/v1/cases/candidates").status_code == 403
