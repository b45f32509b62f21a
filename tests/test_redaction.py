from __future__ import annotations

import pytest

from service.redaction import luhn_valid, redact_text, redact_transcript, resident_id_valid
from service.transcripts.schemas import Transcript

VALID_ID = "11010519491231002X"
VALID_CARD = "6222021234567890"  # made Luhn-valid below


def _luhn_complete(prefix: str) -> str:
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError


def test_resident_id_check_digit() -> None:
    assert resident_id_valid(VALID_ID)
    assert not resident_id_valid("110105194912310021")


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        (f"身份证号{VALID_ID}", "[身份证号]"),
        ("手机13812345678联系我", "[手机号]"),
        ("座机010-62345678", "[电话号码]"),
        ("邮箱 zhang.wei@example.com", "[邮箱]"),
        ("账号 6011 2233 4455", "[账号]"),
    ],
)
def test_masks_each_kind(text: str, placeholder: str) -> None:
    masked = redact_text(text)
    assert placeholder in masked.text
    assert not any(ch.isdigit() for ch in masked.text.split(placeholder)[0][-4:])


def test_card_numbers_pass_luhn_even_with_spaces() -> None:
    card = _luhn_complete("622202123456789")
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    masked = redact_text(f"卡号是{spaced}，请核实")
    assert masked.text == "卡号是[银行卡号]，请核实"
    assert masked.counts["bank_card"] == 1


def test_short_numbers_are_kept() -> None:
    text = "工号1021，后四位0312，转账50000元，利率1.75%"
    assert redact_text(text).text == text


def test_transcript_masking_keeps_turns_and_numbering() -> None:
    transcript = Transcript(
        id="t", agent_id="A1",
        turns=[{"speaker": "agent", "text": "请报一下手机号"}, {"speaker": "customer", "text": "13812345678"},
               {"speaker": "agent", "text": f"身份证{VALID_ID}已核实"}],
        reviewer_notes="客户留了邮箱 a@b.cn",
    )
    redacted = redact_transcript(transcript)
    masked, counts = redacted.transcript, redacted.counts
    assert redacted.by_turn == {2: {"mobile": 1}, 3: {"resident_id": 1}}
    assert len(masked.turns) == 3
    assert masked.turns[1].text == "[手机号]"
    assert masked.turns[2].text == "身份证[身份证号]已核实"
    assert masked.reviewer_notes == "客户留了邮箱 [邮箱]"
    assert counts == {"mobile": 1, "resident_id": 1, "email": 1}
    assert transcript.turns[1].text == "13812345678"  # the stored original is untouched
