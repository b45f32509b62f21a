from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from service.evaluation.metrics import (
    adjacent_agreement,
    bias,
    bootstrap,
    confusion,
    exact_agreement,
    human_ceiling,
    pearson,
    quadratic_weighted_kappa,
    spearman,
)
from service.evaluation.stc3 import load_stc3
from tests.conftest import SHARED


def test_kappa_against_hand_computed_values() -> None:
    assert quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == 1.0
    assert quadratic_weighted_kappa([1, 1, 2, 2], [1, 2, 1, 2], 1, 2) == 0.0
    # O has one (3,2) disagreement, weight 1/4; expected disagreement 0.75 -> 1 - 0.25/0.75
    assert quadratic_weighted_kappa([1, 2, 3], [1, 2, 2], 1, 3) == pytest.approx(2 / 3)


def test_correlations_agreement_and_bias() -> None:
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [10, 20, 20, 40]) == pytest.approx(pearson([1, 2, 3, 4], [1, 2.5, 2.5, 4]))
    assert exact_agreement([1, 2, 3, 4], [1, 2, 4, 2]) == 0.5
    assert adjacent_agreement([1, 2, 3, 4], [1, 2, 4, 2]) == 0.75
    assert bias([4, 4, 4], [3, 4, 2]) == 1.0  # more lenient than the humans
    assert confusion([1, 2], [2, 2], 1, 2) == [[0, 0], [1, 1]]
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_bootstrap_is_seeded_and_brackets_the_value() -> None:
    model = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 2, 3]
    human = [1, 3, 3, 4, 4, 3, 1, 5, 5, 2, 2, 2]
    first = bootstrap(quadratic_weighted_kappa, model, human, samples=300, seed=7)
    assert first == bootstrap(quadratic_weighted_kappa, model, human, samples=300, seed=7)
    assert first.low <= first.value <= first.high


def test_human_ceiling_rewards_agreeing_raters() -> None:
    agreeing = [[1, 1, 1], [2, 2, 3], [3, 3, 3], [4, 5, 4]]
    noisy = [[1, 3, 2], [2, 1, 3], [3, 2, 1], [4, 2, 3]]
    assert human_ceiling(agreeing, pearson) > human_ceiling(noisy, pearson)


def test_stc3_adapter_on_a_small_file(tmp_path: Path) -> None:
    path = tmp_path / "dev_cn.jsonl"
    rows = [{"id": str(n), "turns": [{"sender": "customer", "utterances": ["卡丢了"]},
                                     {"sender": "helpdesk", "utterances": ["您好", "请提供卡号"]}],
             "quality": {"A": [2] * 19, "S": [0] * 19, "E": [-2] * 19}} for n in range(5)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    dialogues = load_stc3(path)
    first = dialogues[0]
    assert [t.speaker for t in first.transcript.turns] == ["customer", "agent"]
    assert first.transcript.turns[1].text == "您好 请提供卡号"
    assert (first.mean("A"), first.mean("S"), first.mean("E")) == (2, 0, -2)
    assert sorted(first.ratings["A"])[:2] == ["r01", "r02"] and len(first.ratings["A"]) == 19
    assert [d.transcript.id for d in load_stc3(path, sample=3, seed=1)] == \
        [d.transcript.id for d in load_stc3(path, sample=3, seed=1)]


@pytest.mark.skipif(not (SHARED / "data" / "stc3" / "dev_cn.jsonl").exists(),
                    reason="../shared/data/stc3 is not present beside this checkout")
def test_stc3_shared_data_loads_with_19_raters() -> None:
    dialogues = load_stc3(SHARED / "data" / "stc3" / "dev_cn.jsonl")
    assert len(dialogues) == 2469
    assert all(len(d.ratings["S"]) == 19 for d in dialogues[:50])
    ceiling = human_ceiling([d.ratings["S"] for d in dialogues[:300]], spearman)
    assert 0 < ceiling < 1


def test_human_ceiling_by_rater_name_matches_positional_and_skips_missing_raters() -> None:
    rows = [[1, 2, 2], [3, 3, 4], [5, 4, 5], [2, 2, 1]]
    named = [{"a": r[0], "b": r[1], "c": r[2]} for r in rows]
    assert human_ceiling(named, pearson) == pytest.approx(human_ceiling(rows, pearson))
    # rater c missing on one item: c is compared on the other three, a and b on all four
    partial = [dict(item) for item in named]
    del partial[3]["c"]
    expected_c = pearson([2, 4, 5], [1.5, 3, 4.5])
    expected_a = pearson([1, 3, 5, 2], [2, 3.5, 4.5, 2])
    expected_b = pearson([2, 3, 4, 2], [1.5, 3.5, 5, 2])
    assert human_ceiling(partial, pearson) == pytest.approx((expected_a + expected_b + expected_c) / 3)


def test_paired_comparison_measures_the_change_not_the_level() -> None:
    """Two runs on the same dialogues: no change gives exactly zero; moving scores onto the raters' gives a gain
    whose whole interval is above zero."""
    from benchmarks.paired_comparison import compare

    humans = [1, 2, 3, 4, 5, 2, 3, 4, 1, 5, 3, 2, 4, 5, 1, 3, 2, 4, 3, 5]
    off = [min(5, h + 2) if n % 2 else max(1, h - 2) for n, h in enumerate(humans)]

    def report(scores: list[int]) -> dict:
        return {"criteria": [{"criterion": "logic", "label": "E", "offset": 0.0}],
                "items": [{"dialogue_id": str(n), "model": {"logic": s}, "human": {"E": float(h)}}
                          for n, (s, h) in enumerate(zip(scores, humans))]}

    same = {r["metric"]: r for r in compare(report(off), report(off), rounds=200, seed=1)}
    assert all(r["change"] == r["low"] == r["high"] == 0 and r["scores_changed"] == 0 for r in same.values())
    better = {r["metric"]: r for r in compare(report(off), report(humans), rounds=200, seed=1)}
    assert better["qwk"]["low"] > 0 and better["adjacent"]["low"] > 0
    assert better["qwk"]["scores_changed"] == sum(o != h for o, h in zip(off, humans))
    assert compare(report(off), report(humans), rounds=200, seed=1) == compare(report(off), report(humans),
                                                                              rounds=200, seed=1)
