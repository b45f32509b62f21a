"""Who may do what: keys hashed at rest, roles, supervisors limited to their teams, and sign-in for the pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from service.cli import _announce_first_key
from service.context import ServiceContext
from service.transcripts.parsing import load_transcript_file
from service.web.app import create_app
from tests.conftest import EXAMPLES, api_client, live_server, make_key
from tests.scripted_llm import ScriptedLLM


@pytest.fixture
def scored(context: ServiceContext, scripted_llm: ScriptedLLM) -> ServiceContext:
    for name in ("C1001", "C1002", "C1003", "C1004", "C1005"):
        context.assessor.assess(load_transcript_file(EXAMPLES / f"{name}.json"))
    return context


def test_keys_roles_and_team_scope(scored: ServiceContext) -> None:
    transcript = load_transcript_file(EXAMPLES / "C2001.json").model_dump(mode="json")
    with live_server(create_app(scored)) as url:
        anonymous = httpx.get(f"{url}/v1/teams/T01")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in anonymous.json()["detail"]
        assert httpx.get(f"{url}/v1/teams/T01", headers={"Authorization": "Bearer ice_nope"}).status_code == 401
        assert httpx.get(f"{url}/healthz").status_code == 200  # health needs no key

        with api_client(url, scored, "supervisor", ["T01"]) as supervisor:
            assert supervisor.get("/v1/teams/T01").status_code == 200
            assert supervisor.get("/v1/agents/A001/portrait").status_code == 200
            other = supervisor.get("/v1/teams/T02")
            assert other.status_code == 403 and "own teams only" in other.json()["detail"]
            assert supervisor.post("/v1/assessments", json=transcript).status_code == 403
        with api_client(url, scored, "supervisor", ["T02"]) as elsewhere:
            denied = elsewhere.get("/v1/agents/A001/portrait")
            assert denied.status_code == 403 and "agent A001 is in team T01" in denied.json()["detail"]
            assert elsewhere.get("/v1/agents/A001/placements").status_code == 403
        with api_client(url, scored, "supervisor", ["T01"]) as supervisor:
            assert supervisor.get("/v1/agents/A001/portrait").status_code == 200
            records = supervisor.get("/v1/agents/A001/placements").json()
            assert [(r["period"], r["in_force"]) for r in records] == [("2026-10", True), ("2026-11", True)]
            assert len(records[-1]["assessment_ids"]) == 5 and records[-1]["quadrant"]
        with api_client(url, scored, "platform") as platform:
            assert platform.post("/v1/assessments", json=transcript).status_code == 200
            some = platform.get("/v1/assessments", params={"limit": 1}).json()["items"][0]["id"]
            denied = platform.post(f"/v1/assessments/{some}/corrections",
                                   json={"criterion_id": "logic", "score": 4, "comment": "x"})
            assert denied.status_code == 403 and "needs one of: admin, reviewer" in denied.json()["detail"]
            assert platform.get("/metrics").status_code == 200
        with api_client(url, scored, "reviewer", name="李质检") as reviewer:
            assert reviewer.get("/v1/agents/A001/portrait").status_code == 403
            fixed = reviewer.post(f"/v1/assessments/{some}/corrections",
                                  json={"criterion_id": "logic", "score": 4, "comment": "复核"})
            assert fixed.status_code == 200
            logic = next(s for s in fixed.json()["scores"] if s["criterion_id"] == "logic")
            assert logic["override"]["reviewer"] == "李质检"  # the key's holder, when no name is given

        key = make_key(scored, "platform", name="to revoke")
        from service.access.keys import list_keys, revoke

        with scored.sessions.begin() as session:
            row = next(r for r in list_keys(session) if r.name == "to revoke")
            assert revoke(session, row.id)
        assert httpx.get(f"{url}/v1/assessments", headers={"Authorization": f"Bearer {key}"}).status_code == 401

    with scored.sessions() as session:  # hashed at rest: no key appears in the table
        stored = " ".join(str(v) for row in session.execute(text("SELECT * FROM api_keys")) for v in row)
    assert key not in stored and key[:10] in stored


def test_pages_send_strangers_to_sign_in_and_remember_the_key(scored: ServiceContext) -> None:
    key = make_key(scored, "supervisor", ["T01"], name="王主管")
    with live_server(create_app(scored)) as url, httpx.Client(base_url=url, timeout=30) as browser:
        first = browser.get("/agents/A001?lang=en")
        assert first.status_code == 303 and first.headers["location"] == "/signin?next=/agents/A001%3Flang%3Den"
        wrong = browser.post("/signin", data={"key": "ice_wrong", "next": "/agents/A001"})
        assert wrong.status_code == 303 and "error=1" in wrong.headers["location"]
        signed = browser.post("/signin", data={"key": key, "next": "/agents/A001?lang=en"})
        assert signed.status_code == 303 and signed.headers["location"] == "/agents/A001?lang=en"
        cookie = signed.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        page = browser.get("/agents/A001?lang=en")
        assert page.status_code == 200 and "王晓雯" in page.text
        home = browser.get("/")
        assert "王主管" in home.text and "/teams/T01" in home.text and "/submit" not in home.text
        assert browser.get("/submit").status_code == 403
        offsite = browser.post("/signin", data={"key": key, "next": "//evil.example/"})
        assert offsite.headers["location"] == "/"


def test_first_admin_key_is_printed_once_and_keys_cli(context: ServiceContext, capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    _announce_first_key(context)
    first = capsys.readouterr().err
    assert "first admin key" in first and "ice_" in first
    _announce_first_key(context)
    assert capsys.readouterr().err == ""  # never again

    env = {**os.environ, "ICEBERG_DATA_DIR": str(context.settings.data_dir)}

    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "service.cli", "keys", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    no_team = keys("create", "--role", "supervisor", "--name", "主管")
    assert no_team.returncode == 2 and "teams: a supervisor key needs at least one team" in no_team.stderr
    made = keys("create", "--role", "supervisor", "--name", "主管", "--team", "T01", "--team", "T02")
    assert made.returncode == 0 and made.stdout.startswith("ice_") and "shown only now" in made.stderr
    listing = keys("list").stdout
    assert "supervisor\tT01,T02\tactive\t主管" in listing and made.stdout.strip() not in listing
