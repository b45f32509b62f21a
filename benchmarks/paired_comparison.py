"""Is a change in agreement with humans real? Two eval reports of the same dialogues, compared pair by pair.

`iceberg eval` gives each report's metrics with their own bootstrap intervals; two such intervals overlap for any
change a 60-dialogue sample can show. Both runs scored the same dialogues, so resampling the dialogues once for both
(a paired bootstrap) measures the change itself, with the noise the two runs share taken out.

    .venv/bin/python benchmarks/paired_comparison.py BEFORE/report.json AFTER/report.json [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.evaluation.metrics import (  # noqa: E402
    adjacent_agreement,
    quadratic_weighted_kappa,
    spearman,
    to_scale,
)

Row = tuple[int, int, float]  # before's score, after's score, the raters' mean on the rubric's scale
METRICS: dict[str, tuple[Callable[[Sequence[float], Sequence[float]], float], bool]] = {
    "qwk": (quadratic_weighted_kappa, True),  # True: against the raters' mean rounded to a scale point
    "spearman": (spearman, False),
    "adjacent": (adjacent_agreement, True),
}


def paired_rows(before: dict, after: dict, label: str, criterion: str, offset: float) -> list[Row]:
    first = {i["dialogue_id"]: i for i in before["items"]}
    rows = []
    for item in after["items"]:
        old = first.get(item["dialogue_id"])
        if old is None:
            continue
        x, y, human = old["model"].get(criterion), item["model"].get(criterion), item["human"].get(label)
        if x is not None and y is not None and human is not None:
            rows.append((x, y, human + offset))
    return rows


def change(rows: list[Row], metric: str) -> float:
    function, rounded = METRICS[metric]
    human = [to_scale(h) if rounded else h for _, _, h in rows]
    return function([y for _, y, _ in rows], human) - function([x for x, _, _ in rows], human)


def compare(before: dict, after: dict, rounds: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    results = []
    for criterion in after["criteria"]:
        rows = paired_rows(before, after, criterion["label"], criterion["criterion"], criterion["offset"])
        if len(rows) < 3:
            continue
        for metric in METRICS:
            resampled = []
            for _ in range(rounds):
                sample = [rows[rng.randrange(len(rows))] for _ in rows]
                try:
                    value = change(sample, metric)
                except (ZeroDivisionError, ValueError):
                    continue  # a resample with no spread has no correlation
                if value == value:  # NaN: the same
                    resampled.append(value)
            resampled.sort()
            results.append({
                "criterion": criterion["criterion"], "label": criterion["label"], "metric": metric,
                "n": len(rows), "scores_changed": sum(x != y for x, y, _ in rows),
                "change": round(change(rows, metric), 3),
                "low": round(resampled[int(0.025 * len(resampled))], 3),
                "high": round(resampled[int(0.975 * len(resampled)) - 1], 3),
                "share_of_resamples_improved": round(sum(v > 0 for v in resampled) / len(resampled), 2),
            })
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    before, after = (json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after))
    print(json.dumps(compare(before, after, args.rounds, args.seed), indent=2))


if __name__ == "__main__":
    main()
