"""Reading transcript files. Every error names the file and the line or field to fix."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.transcripts.schemas import Transcript
from service.validation import describe_validation_error


class TranscriptError(ValueError):
    """A transcript that cannot be read; the message names the source and the line or field."""


# Speaker labels of the plain-text format; full-width and ASCII colons both accepted.
_SPEAKER_LABELS = {
    "坐席": "agent",
    "客服": "agent",
    "agent": "agent",
    "客户": "customer",
    "customer": "customer",
}
_TURN_LINE = re.compile(r"^\s*(坐席|客服|客户|agent|customer)\s*[:：]\s*(.*)$", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*#\s*([A-Za-z_]+)\s*[:：]\s*(.*?)\s*$")
_HEADER_FIELDS = {"id", "agent_id", "agent_name", "team_id", "channel", "time", "language", "reviewer_notes"}


def transcript_from_dict(data: Any, source: str) -> Transcript:
    if not isinstance(data, dict):
        raise TranscriptError(f"{source}: expected a JSON object with id, agent_id and turns, got {type(data).__name__}")
    try:
        return Transcript.model_validate(data)
    except ValidationError as error:
        raise TranscriptError(f"{source}: {describe_validation_error(error)}") from None


def parse_json_text(text: str, source: str) -> Transcript:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TranscriptError(f"{source}: line {error.lineno} column {error.colno}: invalid JSON ({error.msg})") from None
    return transcript_from_dict(data, source)


def parse_plain_text(text: str, source: str, defaults: dict[str, str] | None = None) -> Transcript:
    """One turn per line (``坐席：…`` / ``客户：…`` / ``Agent: …``); ``# field: value`` lines set metadata.

    A line without a speaker label continues the previous turn, since long utterances are often wrapped.
    """
    fields: dict[str, Any] = dict(defaults or {})
    turns: list[dict[str, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        header = _HEADER_LINE.match(line)
        if header:
            key = header.group(1).lower()
            if key not in _HEADER_FIELDS:
                known = ", ".join(sorted(_HEADER_FIELDS))
                raise TranscriptError(f"{source}: line {lineno}: unknown header '{key}' (known: {known})")
            fields[key] = header.group(2)
            continue
        match = _TURN_LINE.match(line)
        if match:
            speaker = _SPEAKER_LABELS[match.group(1).lower()]
            content = match.group(2).strip()
            if not content:
                raise TranscriptError(f"{source}: line {lineno}: the {match.group(1)} turn has no text")
            turns.append({"speaker": speaker, "text": content})
        elif turns:
            turns[-1]["text"] += " " + line
        else:
            raise TranscriptError(
                f"{source}: line {lineno}: expected a turn starting with 坐席：, 客服：, 客户：, Agent: or Customer:, "
                f"got {line[:40]!r}"
            )
    if not turns:
        raise TranscriptError(f"{source}: no turns found (one turn per line, e.g. '坐席：您好')")
    fields["turns"] = turns
    if "agent_id" not in fields:
        raise TranscriptError(f"{source}: no agent id: add a '# agent_id: A001' line or pass --agent")
    return transcript_from_dict(fields, source)


def load_transcript_file(path: Path, agent_id: str | None = None) -> Transcript:
    """Read a ``.json`` or plain-text transcript; ``agent_id`` fills (or, for text, defaults) the agent."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TranscriptError(f"{source}: no such file") from None
    except UnicodeDecodeError as error:
        raise TranscriptError(f"{source}: not UTF-8 text (byte {error.start})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise TranscriptError(
                f"{source}: line {error.lineno} column {error.colno}: invalid JSON ({error.msg})"
            ) from None
        if isinstance(data, dict):
            data.setdefault("id", path.stem)
            if agent_id:
                data["agent_id"] = agent_id
        return transcript_from_dict(data, source)
    defaults = {"id": path.stem}
    if agent_id:
        defaults["agent_id"] = agent_id
    transcript = parse_plain_text(text, source, defaults)
    if agent_id and transcript.agent_id != agent_id:
        transcript = transcript.model_copy(update={"agent_id": agent_id})
    return transcript
