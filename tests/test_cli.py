"""The ``iceberg`` console script as users run it: a real subprocess against the scripted model server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.scripted_llm import ScriptedLLM


def _run(args: list[str], scripted_llm: ScriptedLLM, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ICEBERG_DATA_DIR": str(data_dir),
        "ICEBERG_LLM_MODEL": "openai/scripted",
        "ICEBERG_LLM_API_BASE": scripted_llm.api_base,
        "ICEBERG_LLM_API_KEY": "sk-test",
    }
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_demo_writes_team_page_and_portraits(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = _run(["demo", "--out", str(out)], scripted_llm, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert len(scripted_llm.requests) == len(list(EXAMPLES.glob("*")))
    assert (out / "team.html").is_file()
    for agent in ("A001", "A002", "A003", "A004"):
        portrait = json.loads((out / "agents" / f"{agent}.json").read_text(encoding="utf-8"))
        assert portrait["agent_id"] == agent and portrait["placement"]["assessed_calls"] == 3
        assert (out / "agents" / f"{agent}.html").is_file()
    assert "team.html" in result.stderr and "iceberg serve" in result.stderr

    again = _run(["demo", "--out", str(out)], scripted_llm, tmp_path / "data")
    assert again.returncode == 0 and "scored (cached)" in again.stderr
    assert len(scripted_llm.requests) == len(list(EXAMPLES.glob("*")))  # nothing scored twice


def test_assess_prints_json_and_names_bad_files(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    text_call = tmp_path / "call.txt"
    text_call.write_text("坐席：您好，请问有什么可以帮您？\n客户：我想查余额\n坐席：好的，请稍等。\n", encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "b", "agent_id": "A1", "turns": [{"speaker": "agent"}]}', encoding="utf-8")
    result = _run(["assess", str(text_call), str(broken), "--agent", "A42", "--json"], scripted_llm, tmp_path / "d")
    assert result.returncode == 1
    assert "broken.json: field turns.0.text: Field required" in result.stderr
    [assessment] = json.loads(result.stdout)
    assert assessment["agent_id"] == "A42" and assessment["transcript_id"] == "call"
    assert assessment["status"] == "scored"


def test_portrait_without_assessments_says_what_to_do(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    result = _run(["portrait", "--out", str(tmp_path / "p")], scripted_llm, tmp_path / "empty")
    assert result.returncode == 1 and "iceberg assess" in result.stderr
