"""Agreement metrics between model scores and human scores, with seeded bootstrap intervals.

Pure functions over plain lists: the same inputs (and seed) always give the same figures.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel


def quadratic_weighted_kappa(model: Sequence[int], human: Sequence[int], low: int = 1, high: int = 5) -> float:
    """Cohen's kappa with quadratic weights over the categories ``low..high``; 1 is perfect, 0 chance level."""
    k = high - low + 1
    n = len(model)
    observed = [[0.0] * k for _ in range(k)]
    for a, b in zip(model, human):
        observed[a - low][b - low] += 1
    hist_model = [sum(row) for row in observed]
    hist_human = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    numerator = denominator = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            numerator += weight * observed[i][j]
            denominator += weight * hist_model[i] * hist_human[j] / n
    return 1.0 - numerator / denominator if denominator else float("nan")


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2 + 1  # ties share their mean rank
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(_ranks(x), _ranks(y))


def exact_agreement(model: Sequence[int], human: Sequence[int]) -> float:
    return sum(a == b for a, b in zip(model, human)) / len(model)


def adjacent_agreement(model: Sequence[int], human: Sequence[int]) -> float:
    return sum(abs(a - b) <= 1 for a, b in zip(model, human)) / len(model)


def bias(model: Sequence[float], human: Sequence[float]) -> float:
    """Mean model - human: positive is more lenient than the humans, negative stricter."""
    return sum(a - b for a, b in zip(model, human)) / len(model)


def confusion(model: Sequence[int], human: Sequence[int], low: int = 1, high: int = 5) -> list[list[int]]:
    """Rows: human score; columns: model score."""
    matrix = [[0] * (high - low + 1) for _ in range(high - low + 1)]
    for a, b in zip(model, human):
        matrix[b - low][a - low] += 1
    return matrix


class Estimate(BaseModel):
    """A metric and its 95% interval; None where undefined (e.g. a correlation with a constant rater), so that
    reports stay standard JSON."""

    value: float | None
    low: float | None
    high: float | None


def _defined(value: float) -> float | None:
    return None if math.isnan(value) else value


def bootstrap(
    metric: Callable[[list, list], float], model: Sequence, human: Sequence, *, samples: int = 1000, seed: int = 0
) -> Estimate:
    """The metric with a 95% percentile interval from resampling the pairs; seeded, so reproducible."""
    rng = random.Random(seed)
    pairs = list(zip(model, human))
    values = []
    for _ in range(samples):
        drawn = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        value = metric([a for a, _ in drawn], [b for _, b in drawn])
        if not math.isnan(value):
            values.append(value)
    values.sort()
    point = _defined(metric(list(model), list(human)))
    if not values:
        return Estimate(value=point, low=None, high=None)
    return Estimate(value=point, low=values[int(0.025 * (len(values) - 1))], high=values[int(0.975 * (len(values) - 1))])


def human_ceiling(
    ratings: Sequence[Mapping[str, float]] | Sequence[Sequence[float]], metric: Callable[[list, list], float]
) -> float:
    """How well one rater agrees with the mean of the others, averaged over raters: what humans achieve.

    ``ratings[item]`` maps rater to score (or lists scores by rater position). A rater is compared on the items
    they rated together with at least one other rater.
    """
    items = [dict(r) if isinstance(r, Mapping) else {str(i): v for i, v in enumerate(r)} for r in ratings]
    scores = []
    for rater in sorted({name for item in items for name in item}):
        one, rest = peer_pairs(items, rater)
        value = metric(one, rest) if len(one) >= 2 else float("nan")
        if not math.isnan(value):
            scores.append(value)
    return sum(scores) / len(scores) if scores else float("nan")


def peer_pairs(items: Sequence[Mapping[str, float]], rater: str) -> tuple[list[float], list[float]]:
    """The rater's scores and, item by item, the mean of the other raters' scores."""
    one, rest = [], []
    for item in items:
        if rater in item and len(item) > 1:
            one.append(item[rater])
            rest.append((sum(item.values()) - item[rater]) / (len(item) - 1))
    return one, rest


def to_scale(value: float, low: int = 1, high: int = 5) -> int:
    """A mean score as a whole scale point (half up), clipped to the scale."""
    return min(high, max(low, int(math.floor(value + 0.5))))
