"""The rubric model. Validation lives here so that a bad rubric file fails at load with the field named."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AxisName = Literal["ability", "cognition"]
AXES: tuple[AxisName, AxisName] = ("ability", "cognition")
LEVELS = (1, 2, 3, 4, 5)


class Text(BaseModel):
    """A text in Chinese (first) and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    dimension: str
    name: Text
    description: Text
    about: Literal["agent", "customer", "call"] = "agent"
    # transcript: judged from the call; notes: only from the reviewer's notes, else not assessable.
    source: Literal["transcript", "notes"] = "transcript"
    weight: float = Field(default=1.0, gt=0)
    levels: dict[int, Text]
    examples: Examples = Field(default_factory=Examples, description="Examples of evidence, for reviewers.")

    @field_validator("levels")
    @classmethod
    def _every_level_described(cls, levels: dict[int, Text]) -> dict[int, Text]:
        missing = [lvl for lvl in LEVELS if lvl not in levels]
        extra = [lvl for lvl in levels if lvl not in LEVELS]
        if missing:
            raise ValueError(f"levels {missing} are not described (every level 1-5 needs zh and en)")
        if extra:
            raise ValueError(f"levels {extra} are outside the 1-5 scale")
        return dict(sorted(levels.items()))


class Axis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    weights: dict[str, float]

    @field_validator("weights")
    @classmethod
    def _weights_sum_to_one(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("an axis needs at least one dimension")
        if any(w <= 0 for w in weights.values()):
            raise ValueError("dimension weights must be positive")
        total = sum(weights.values())
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"dimension weights sum to {total:.3f}; they must sum to 1.0")
        return weights


class QuadrantRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ability: Literal["high", "low"]
    cognition: Literal["high", "low"]
    program: str


class WindowPolicy(BaseModel):
    """Which of an agent's calls a placement reads: the last N, the last D days before the newest call, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    last_calls: int | None = Field(default=20, ge=1)
    days: int | None = Field(default=None, ge=1)


class RelativeThresholds(BaseModel):
    """Team-relative lines: the team's percentile of each axis, when enough agents are placeable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    percentile: float = Field(default=50, gt=0, lt=100)
    min_agents: int = Field(default=4, ge=2, description="Fewer placeable agents: the absolute lines apply.")


class TrendPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: Literal["month", "week"] = "month"
    min_calls_per_period: int = Field(default=2, ge=1)
    min_periods: int = Field(default=2, ge=2)
    steady_band: float = Field(default=2.0, ge=0, description="Points per period within which a trend is steady.")


class PairingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_apprentices: int = Field(default=2, ge=1, description="Apprentices one mentor takes at most.")
    weak_dimensions: int = Field(default=2, ge=1, description="How many of the apprentice's weakest dimensions count.")


class PlacementPolicy(BaseModel):
    """How placements are made beyond the lines themselves: window, hysteresis, team-relative lines, trend,
    mentor pairing. Not part of the scoring rubric's version: changing it re-places, it never re-scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: WindowPolicy = WindowPolicy()
    hysteresis_margin: float = Field(default=3.0, ge=0, description="Points past the line needed to change level.")
    relative_thresholds: RelativeThresholds | None = None
    trend: TrendPolicy = TrendPolicy()
    pairing: PairingPolicy = PairingPolicy()


class CompetencyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: Text
    scale: dict[str, int]
    dimensions: dict[str, Text]
    axes: dict[AxisName, Axis]
    thresholds: dict[AxisName, float]
    min_assessed_calls: int = Field(default=5, ge=1)
    quadrants: dict[str, QuadrantRule]
    placement: PlacementPolicy = PlacementPolicy()

    @model_validator(mode="after")
    def _consistent(self) -> "CompetencyModel":
        if set(self.axes) != set(AXES):
            raise ValueError(f"axes must be exactly {list(AXES)}, got {sorted(self.axes)}")
        for axis_name, axis in self.axes.items():
            unknown = sorted(set(axis.weights) - set(self.dimensions))
            if unknown:
                raise ValueError(f"axes.{axis_name}.weights: unknown dimensions {unknown}")
        placed = [d for axis in self.axes.values() for d in axis.weights]
        doubled = sorted({d for d in placed if placed.count(d) > 1})
        if doubled:
            raise ValueError(f"dimensions {doubled} are on both axes; each belongs to one")
        for axis_name in AXES:
            if axis_name not in self.thresholds:
                raise ValueError(f"thresholds.{axis_name} is missing")
            if not 0 <= self.thresholds[axis_name] <= 100:
                raise ValueError(f"thresholds.{axis_name} must be within 0-100")
        combos = {(q.ability, q.cognition) for q in self.quadrants.values()}
        if len(combos) != 4 or len(self.quadrants) != 4:
            raise ValueError("quadrants must name each high/low combination of ability and cognition exactly once")
        return self

    def axis_of(self, dimension: str) -> AxisName | None:
        for axis_name, axis in self.axes.items():
            if dimension in axis.weights:
                return axis_name
        return None


class CriticalItem(BaseModel):
    """An automatic-fail item: raises a compliance flag, kept apart from the scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    detector: Literal["model", "rule"]
    name: Text
    description: Text


class Rubric(BaseModel):
    """A loaded, validated rubric: the model, its criteria in file order, and a version derived from content."""

    model_config = ConfigDict(frozen=True)

    model: CompetencyModel
    criteria: tuple[Criterion, ...]
    critical_items: tuple[CriticalItem, ...] = ()
    version: str = Field(description="What scoring reads: a new version re-scores (the cache key includes it).")
    model_version: str = Field(default="", description="All of model.yaml: a new one re-places, never re-scores.")

    @property
    def transcript_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.source == "transcript"]

    @property
    def notes_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.source == "notes"]

    @property
    def model_critical_items(self) -> list[CriticalItem]:
        return [i for i in self.critical_items if i.detector == "model"]

    @cached_property
    def criterion_weights(self) -> dict[str, tuple[str, float]]:
        """criterion id -> (dimension, weight): looked up for every score of every call placed."""
        return {c.id: (c.dimension, c.weight) for c in self.criteria}

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)

    def criteria_of(self, dimension: str) -> list[Criterion]:
        return [c for c in self.criteria if c.dimension == dimension]
