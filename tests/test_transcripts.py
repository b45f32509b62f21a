from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.transcripts.parsing import TranscriptError, load_transcript_file, parse_plain_text
from tests.conftest import EXAMPLES


def test_every_bundled_example_loads_with_numbered_turns() -> None:
    files = sorted(EXAMPLES.glob("*"))
    assert len(files) >= 12
    agents = {load_transcript_file(f).agent_id for f in files}
    assert len(agents) == 4
    first = load_transcript_file(EXAMPLES / "C1001.json")
    numbered = first.numbered_turns()
    assert numbered[0][0] == 1 and numbered[0][1].speaker == "agent"
    assert numbered[-1][0] == len(first.turns)


def test_plain_text_format_with_headers_and_wrapped_lines() -> None:
    text = "# agent_id: A9\n# team_id: T2\n坐席：您好，\n请问有什么可以帮您？\n客户: 我的卡丢了\nAgent: Let me help.\n客服：好的"
    transcript = parse_plain_text(text, "call.txt", {"id": "call"})
    assert transcript.agent_id == "A9" and transcript.team_id == "T2"
    assert [t.speaker for t in transcript.turns] == ["agent", "customer", "agent", "agent"]
    assert transcript.turns[0].text == "您好， 请问有什么可以帮您？"


def test_plain_text_error_names_the_line() -> None:
    with pytest.raises(TranscriptError, match=r"call.txt: line 2: expected a turn"):
        parse_plain_text("\n这行没有说话人\n坐席：您好\n", "call.txt", {"id": "c", "agent_id": "A1"})
    with pytest.raises(TranscriptError, match=r"call.txt: line 3: the 客户 turn has no text"):
        parse_plain_text("坐席：您好\n客户：嗯\n客户：\n", "call.txt", {"id": "c", "agent_id": "A1"})
    with pytest.raises(TranscriptError, match=r"call.txt: line 1: unknown header 'agnet'"):
        parse_plain_text("# agnet: A1\n坐席：您好\n", "call.txt", {"id": "c", "agent_id": "A1"})


def test_plain_text_without_agent_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("坐席：您好\n客户：你好\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="--agent"):
        load_transcript_file(path)
    assert load_transcript_file(path, agent_id="A7").agent_id == "A7"


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "agent_id": "A1",\n  "turns": [\n}', encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"bad.json: line 4 column 1"):
        load_transcript_file(path)


def test_json_field_error_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"id": "x", "agent_id": "A1", "turns": [{"speaker": "robot", "text": "hi"}]}))
    with pytest.raises(TranscriptError, match=r"field turns\.0\.speaker"):
        load_transcript_file(path)


def test_content_hash_ignores_file_layout_but_not_words(tmp_path: Path) -> None:
    original = load_transcript_file(EXAMPLES / "C1001.json")
    same = original.model_copy(update={"id": "other-id", "channel": "chat"})
    changed = original.model_copy(update={"turns": original.turns[:-1]})
    assert original.content_hash() == same.content_hash()
    assert original.content_hash() != changed.content_hash()
