"""Loading rubric YAML files into a validated ``Rubric`` with a content-derived version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service.validation import describe_validation_error
from service.rubrics.schemas import CompetencyModel, CriticalItem, Criterion, Rubric


class RubricError(ValueError):
    """A rubric file that does not validate; the message names the file and the field."""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"{path}: no such file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "somewhere"
        raise RubricError(f"{path}: invalid YAML at {where}: {getattr(error, 'problem', error)}") from None



# The parts of model.yaml the model is asked about; the rest (axes, lines, quadrants, placement policy) only
# places agents, and changing it must not make every stored score look stale.
SCORING_KEYS = ("id", "scale", "dimensions")


def content_digest(*parts: Any) -> str:
    """A short digest of content: same content, same digest, wherever the files live."""
    canonical = json.dumps(list(parts), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def rubric_version(model_data: Any, criteria_data: list[Any]) -> str:
    """The version of what scoring reads: criteria, critical items and the model's dimensions and scale."""
    scoring = {k: v for k, v in (model_data or {}).items() if k in SCORING_KEYS}
    return content_digest(scoring, criteria_data)


def load_rubric(rubrics_dir: Path) -> Rubric:
    model_path = rubrics_dir / "model.yaml"
    criteria_files = sorted((rubrics_dir / "criteria").glob("*.yaml"))
    if not criteria_files:
        raise RubricError(f"{rubrics_dir / 'criteria'}: no criteria files (*.yaml)")
    critical_path = rubrics_dir / "critical_items.yaml"
    critical_data = (_read_yaml(critical_path) or []) if critical_path.is_file() else []
    return rubric_from_data(
        _read_yaml(model_path), [(str(path), _read_yaml(path)) for path in criteria_files], critical_data,
        model_source=str(model_path), critical_source=str(critical_path),
    )


def rubric_from_data(
    model_data: Any,
    criteria_files: list[tuple[str, Any]],
    critical_data: Any,
    model_source: str = "model",
    critical_source: str = "critical_items",
) -> Rubric:
    """A validated rubric from parsed data: the files on disk, or a draft sent to the dry-run endpoint.

    ``criteria_files`` are (source name, ``{dimension, criteria}``) pairs; errors name the source and the field.
    """
    model_name = Path(model_source).name
    try:
        model = CompetencyModel.model_validate(model_data)
    except ValidationError as error:
        raise RubricError(f"{model_source}: {describe_validation_error(error)}") from None

    criteria: list[Criterion] = []
    criteria_data: list[Any] = []
    seen: dict[str, str] = {}
    if not criteria_files:
        raise RubricError("criteria: at least one criteria file is needed")
    for path, data in criteria_files:
        if not isinstance(data, dict) or "dimension" not in data or not isinstance(data.get("criteria"), list):
            raise RubricError(f"{path}: expected 'dimension: <id>' and a 'criteria:' list")
        dimension = data["dimension"]
        if dimension not in model.dimensions:
            raise RubricError(f"{path}: dimension {dimension!r} is not in {model_name} (known: {sorted(model.dimensions)})")
        if model.axis_of(dimension) is None:
            raise RubricError(f"{path}: dimension {dimension!r} is on no axis in {model_name}")
        for index, item in enumerate(data["criteria"]):
            if not isinstance(item, dict):
                raise RubricError(f"{path}: criteria[{index}] is not a mapping")
            try:
                criterion = Criterion.model_validate({**item, "dimension": dimension})
            except ValidationError as error:
                raise RubricError(f"{path}: criteria[{index}] ({item.get('id', '?')}): {describe_validation_error(error)}") from None
            if criterion.id in seen:
                raise RubricError(f"{path}: criterion id {criterion.id!r} is already defined in {seen[criterion.id]}")
            seen[criterion.id] = path
            criteria.append(criterion)
        criteria_data.append(data)
    critical: list[CriticalItem] = []
    if not isinstance(critical_data, list):
        raise RubricError(f"{critical_source}: expected a list of critical items")
    for index, item in enumerate(critical_data):
        try:
            critical.append(CriticalItem.model_validate(item))
        except ValidationError as error:
            raise RubricError(f"{critical_source}: [{index}]: {describe_validation_error(error)}") from None
    ids = [c.id for c in critical]
    if len(set(ids)) != len(ids):
        raise RubricError(f"{critical_source}: critical item ids must be unique")
    return Rubric(
        model=model,
        criteria=tuple(criteria),
        critical_items=tuple(critical),
        version=rubric_version(model_data, [*criteria_data, critical_data]),
        model_version=content_digest(model_data),
    )
