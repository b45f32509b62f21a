"""The service's own surface over real HTTP: readiness, metrics, pagination, and errors as problem details."""

from __future__ import annotations

import socket

import httpx

from service.config import Settings
from service.context import ServiceContext
from service.transcripts.schemas import Transcript, Turn
from service.web.app import create_app
from tests.conftest import api_client, live_server
from tests.scripted_llm import ScriptedLLM


def _call(n: int) -> Transcript:
    return Transcript(id=f"p{n}", agent_id="A7", team_id="T9",
                      turns=[Turn(speaker="agent", text=f"您好，第{n}通"), Turn(speaker="customer", text="查余额")])


def test_readiness_names_each_dependency(context: ServiceContext, settings: Settings) -> None:
    with live_server(create_app(context)) as url:
        ready = httpx.get(f"{url}/readyz", timeout=60)
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["database"] == {"ok": True, "detail": "sqlite"}
        assert checks["vector_store"]["ok"] and "answered 200" in checks["model"]["detail"]
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    down = ServiceContext(settings.model_copy(update={"llm_api_base": dead}))
    with live_server(create_app(down)) as url:
        not_ready = httpx.get(f"{url}/readyz", timeout=60)
        assert not_ready.status_code == 503
        body = not_ready.json()
        assert body["status"] == "not_ready" and body["checks"]["model"]["ok"] is False
        assert "unreachable" in body["checks"]["model"]["detail"] and body["checks"]["database"]["ok"]
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}  # alive, though not ready


def test_metrics_count_requests_and_model_calls(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    with live_server(create_app(context)) as url, api_client(url, context) as client:
        before = client.get("/metrics").text
        assert client.post("/v1/assessments", json=_call(1).model_dump(mode="json")).status_code == 200
        client.get("/v1/assessments/does-not-exist")
        text = client.get("/metrics").text

    def value(exposition: str, prefix: str) -> float:
        lines = [ln for ln in exposition.splitlines() if ln.startswith(prefix)]
        return sum(float(ln.rsplit(" ", 1)[1]) for ln in lines)

    calls = 'iceberg_model_calls_total{model="openai/scripted",outcome="ok"}'
    assert value(text, calls) - value(before, calls) == 1
    assert value(text, 'iceberg_model_tokens_total{kind="prompt",model="openai/scripted"}') >= 100
    assert value(text, 'iceberg_assessments_total{result="scored"}') >= 1
    # the route template is the label, not the id asked for
    assert 'route="/v1/assessments/{assessment_id}",status="404"' in text and "does-not-exist" not in text


def test_assessments_are_listed_page_by_page(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    made = {context.assessor.assess(_call(n)).id for n in range(5)}
    with live_server(create_app(context)) as url, api_client(url, context) as client:
        seen, cursor, pages = [], None, 0
        while True:
            page = client.get("/v1/assessments", params={"agent_id": "A7", "limit": 2,
                                                         **({"cursor": cursor} if cursor else {})}).json()
            seen.extend(item["id"] for item in page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert pages == 3 and len(seen) == 5 and set(seen) == made
        assert client.get("/v1/assessments", params={"team_id": "nobody"}).json() == {"items": [], "next_cursor": None}
        bad = client.get("/v1/assessments", params={"cursor": "not-ours"})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("cursor:")
        too_many = client.get("/v1/assessments", params={"limit": 5000})
        assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "limit"


def test_an_unexpected_failure_is_a_problem_with_a_reference_not_a_traceback(context: ServiceContext) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    context.portrait = broken  # type: ignore[method-assign]
    with live_server(create_app(context)) as url:
        with api_client(url, context) as client:
            response = client.get("/v1/agents/A1/portrait")
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reference"] in body["detail"] and "disk on fire" not in response.text
    assert "Traceback" not in response.text


def test_cases_are_searched_and_listed_over_http(context: ServiceContext) -> None:
    with live_server(create_app(context)) as url, api_client(url, context, "supervisor", ["T1"]) as client:
        found = client.get("/v1/cases", params={"q": "坐席让客户自己去网点，推卸责任", "k": 3}).json()["items"]
        assert len(found) == 3 and "case-004" in [c["case_id"] for c in found]
        listed = client.get("/v1/cases", params={"dimension": "tool_use", "program": "leaving_tail", "k": 50}).json()
        assert listed["items"] and all("tool_use" in c["dimensions"] and "leaving_tail" in c["programs"]
                                       for c in listed["items"])
        bad = client.get("/v1/cases", params={"dimension": "charm"})
        assert bad.status_code == 422 and "dimension: unknown ['charm']" in bad.json()["detail"]
