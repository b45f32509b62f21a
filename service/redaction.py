"""Masking customer PII before any model call.

Placeholders are typed (``[身份证号]``, ``[银行卡号]`` …) so the model still knows what was said, and masking works
turn by turn, so turn numbering is untouched and evidence quotes (taken from the masked text) still verify.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from service.transcripts.schemas import Transcript

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_RESIDENT_ID = re.compile(r"(?<![0-9])[1-9]\d{16}[0-9Xx](?![0-9])")
# Cards are read out in groups: allow single spaces or hyphens between digits.
_DIGIT_RUN = re.compile(r"(?<![0-9])\d(?:[ -]?\d){7,22}(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(?:0\d{2,3}[ -]?)?[2-9]\d{6,7}(?![0-9])")

PLACEHOLDERS = {
    "email": "[邮箱]",
    "resident_id": "[身份证号]",
    "bank_card": "[银行卡号]",
    "mobile": "[手机号]",
    "landline": "[电话号码]",
    "account": "[账号]",
}


def resident_id_valid(number: str) -> bool:
    """GB 11643 check digit: the ISO 7064 MOD 11-2 checksum over the first 17 digits."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: Counter[str]


def redact_text(text: str) -> Redaction:
    counts: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], kind: str, text: str, accept=lambda s: True) -> str:
        def replace(match: re.Match[str]) -> str:
            if not accept(match.group(0)):
                return match.group(0)
            counts[kind] += 1
            return PLACEHOLDERS[kind]

        return pattern.sub(replace, text)

    text = sub(_EMAIL, "email", text)
    text = sub(_RESIDENT_ID, "resident_id", text, resident_id_valid)

    def classify_digits(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            kind = "bank_card"
        elif _MOBILE.fullmatch(raw):
            kind = "mobile"
        elif _LANDLINE.fullmatch(raw):
            kind = "landline"
        elif len(digits) >= 8:
            kind = "account"
        else:
            return raw
        counts[kind] += 1
        return PLACEHOLDERS[kind]

    text = _DIGIT_RUN.sub(classify_digits, text)
    text = sub(_MOBILE, "mobile", text)
    return Redaction(text=text, counts=counts)


@dataclass(frozen=True)
class RedactedTranscript:
    transcript: Transcript
    counts: Counter[str]
    by_turn: dict[int, Counter[str]]  # turn number -> what was masked in it


def redact_transcript(transcript: Transcript) -> RedactedTranscript:
    """A copy of the transcript with every turn and the reviewer notes masked, and what was masked where."""
    counts: Counter[str] = Counter()
    by_turn: dict[int, Counter[str]] = {}
    turns = []
    for number, turn in transcript.numbered_turns():
        masked = redact_text(turn.text)
        counts.update(masked.counts)
        if masked.counts:
            by_turn[number] = masked.counts
        turns.append(turn.model_copy(update={"text": masked.text}))
    notes = transcript.reviewer_notes
    if notes:
        masked_notes = redact_text(notes)
        counts.update(masked_notes.counts)
        notes = masked_notes.text
    masked_transcript = transcript.model_copy(update={"turns": turns, "reviewer_notes": notes})
    return RedactedTranscript(masked_transcript, counts, by_turn)
