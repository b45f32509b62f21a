"""The evaluation report as a page: agreement per criterion beside the human ceiling, confusion matrices, a
scatter of model against human scores, the graders and the stability runs. Inline SVG only: it opens offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service.evaluation.harness import CriterionReport, EvalReport

PLOT = 220  # the scatter's inner square, in pixels
PAD = 28


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


def _jitter(index: int) -> float:
    """A fixed small offset per point so that equal scores do not hide each other; no randomness."""
    return ((index * 37) % 11 - 5) / 5 * 0.12


def scatter(report: EvalReport, criterion: CriterionReport) -> list[Dot]:
    """Model score (x) against the raters' mean on the rubric scale (y), both 1..5."""
    offset = criterion.offset
    dots = []
    for index, item in enumerate(i for i in report.items if i.status == "scored"):
        model, human = item.model.get(criterion.criterion), item.human.get(criterion.label)
        if model is None or human is None:
            continue
        x = PAD + (model + _jitter(index) - 1) / 4 * PLOT
        y = PAD + (1 - (human + offset - 1) / 4) * PLOT
        dots.append(Dot(round(x, 1), round(y, 1), f"{item.dialogue_id}: model {model}, humans {human + offset:.2f}"))
    return dots


def heat(count: int, row_total: int) -> str:
    """A cell colour for the confusion matrix: deeper where more of the row falls."""
    share = count / row_total if row_total else 0.0
    return f"rgba(47, 111, 163, {0.08 + 0.72 * share:.2f})" if count else "transparent"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("service.evaluation", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
    )
    env.globals.update(heat=heat, PLOT=PLOT, PAD=PAD)
    return env


def render_report(report: EvalReport) -> str:
    return _environment().get_template("report.html").render(
        report=report,
        scatters={c.label: scatter(report, c) for c in report.criteria},
        graders={c.label: [g for g in report.graders if g.label == c.label] for c in report.criteria},
    )
