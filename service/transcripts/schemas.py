"""The transcript model. Turn numbers start at 1 and are what evidence cites."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Speaker = Literal["agent", "customer"]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str = Field(min_length=1)
    start_s: float | None = Field(default=None, ge=0, description="Seconds from the start of the call.")
    end_s: float | None = Field(default=None, ge=0)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("turn text is blank")
        return value.strip()


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=200)
    agent_name: str | None = None
    team_id: str | None = None
    channel: str = "phone"
    time: datetime | None = None
    language: Literal["zh", "en"] = "zh"
    turns: list[Turn] = Field(min_length=1)
    reviewer_notes: str | None = None

    def numbered_turns(self) -> list[tuple[int, Turn]]:
        return list(enumerate(self.turns, start=1))

    def content_hash(self) -> str:
        """Identifies what the model reads: the same words give the same hash, whatever the file looked like."""
        payload = {
            "turns": [[t.speaker, t.text] for t in self.turns],
            "notes": self.reviewer_notes or "",
            "language": self.language,
        }
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
