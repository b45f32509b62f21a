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
        assert portrait["agent_id"] == agent and portrait["placement"]["assessed_calls"] == 5
        assert [h["period"] for h in portrait["history"]] == ["2026-10", "2026-11"]
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


def test_eval_reports_agreement_and_gates_on_a_baseline(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    from tests.scripted_llm import answer_from_schema, completion

    # The scripted model scores 5 when the helpdesk says 您好 and 1 otherwise; the humans agree on that.
    rows = []
    for n in range(12):
        polite = n % 2 == 0
        rating = [2] * 19 if polite else [-2] * 19
        rows.append({"id": str(n), "turns": [{"sender": "customer", "utterances": [f"问题{n}"]},
                                             {"sender": "helpdesk", "utterances": ["您好，马上处理" if polite else "自己看"]}],
                     "quality": {"A": rating, "S": rating, "E": rating}})
    data = tmp_path / "dev_cn.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(
        r, lambda cid, text: 5 if "您好" in text.split("<transcript>")[1] else 1)), {})

    out = tmp_path / "eval"
    result = _run(["eval", "--format", "stc3", str(data), "--sample", "10", "--seed", "3", "--out", str(out)],
                  scripted_llm, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_criterion = {c["criterion"]: c for c in report["criteria"]}
    assert set(by_criterion) == {"service_attitude", "answering_skill", "logic"}
    assert by_criterion["service_attitude"]["qwk"]["value"] == 1.0 and by_criterion["logic"]["exact"] == 1.0
    assert report["sample"] == 10 and report["seed"] == 3 and report["scored"] == 10
    assert "[####################] 10/10" in result.stderr

    # a worse "model" against that report as the baseline fails the gate; the re-run costs no call for cached ones
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(r, lambda cid, text: 3)), {})
    worse = _run(["eval", "--format", "stc3", str(data), "--sample", "10", "--seed", "3", "--out", str(tmp_path / "e2"),
                  "--baseline", str(out / "report.json")], scripted_llm, tmp_path / "other-data")
    assert worse.returncode == 1 and "REGRESSION service_attitude/S" in worse.stderr
    # a constant scorer has no defined correlation: the report says null, and stays standard JSON
    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    strict = json.loads((tmp_path / "e2" / "report.json").read_text(encoding="utf-8"), parse_constant=reject)
    assert strict["criteria"][0]["spearman"]["value"] is None


def test_eval_names_a_bad_line(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    data = tmp_path / "dev_cn.jsonl"
    data.write_text('{"id": "1", "turns": [], "quality": {}}\n{"id": "2"}\n', encoding="utf-8")
    result = _run(["eval", "--format", "stc3", str(data)], scripted_llm, tmp_path / "data")
    assert result.returncode == 2 and "dev_cn.jsonl: line 1: not a STC-3 dialogue" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_on_iceberg_format_with_stability_runs(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    from service.evaluation.labelled import LabelledDialogue, dump_iceberg
    from service.transcripts.schemas import Transcript, Turn
    from tests.scripted_llm import answer_from_schema, completion

    dialogues = []
    for n in range(6):
        polite = n % 2 == 0
        transcript = Transcript(id=f"call-{n}", agent_id="A9", turns=[
            Turn(speaker="customer", text=f"问题{n}"), Turn(speaker="agent", text="您好，马上处理" if polite else "自己看")])
        score = 5.0 if polite else 1.0
        dialogues.append(LabelledDialogue(transcript=transcript, ratings={
            "answering_skill": {"rev-li": score, "rev-wang": score if n < 4 else 3.0}, "mood": {"rev-li": 1.0}}))
    data = tmp_path / "labelled.jsonl"
    data.write_text(dump_iceberg(dialogues), encoding="utf-8")
    scripted_llm.handler = lambda r: (200, completion(answer_from_schema(
        r, lambda cid, text: 5 if "您好" in text.split("<transcript>")[1] else 1)), {})

    out = tmp_path / "eval"
    result = _run(["eval", "--format", "iceberg", str(data), "--out", str(out), "--repeat", "3", "--repeat-sample", "2"],
                  scripted_llm, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert len(scripted_llm.requests) == 6 + 2 * 2  # every call once, then two fresh runs of two calls
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    [criterion] = report["criteria"]  # "mood" names no criterion and is left out
    # rev-wang's 3s on the last two calls pull their means to 4 and 2: four of six calls match exactly
    assert criterion["criterion"] == "answering_skill" and criterion["exact"] == 0.667 and criterion["adjacent"] == 1.0
    assert {g["rater"] for g in report["graders"]} == {"rev-li", "rev-wang"}
    [stability] = report["stability"]
    assert stability["runs"] == 3 and stability["dialogues"] == 2 and stability["all_agree"] == 1.0
    assert (out / "report.html").read_text(encoding="utf-8").count("<circle") == 6

    # the fresh runs were not stored: a second evaluation is served from the cache alone
    again = _run(["eval", "--format", "iceberg", str(data), "--out", str(tmp_path / "e2")], scripted_llm, tmp_path / "data")
    assert again.returncode == 0 and len(scripted_llm.requests) == 10
