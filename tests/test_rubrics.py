from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from service.config import PROJECT_ROOT
from service.rubrics.loader import RubricError, load_rubric


def test_bundled_rubric_covers_required_criteria_in_both_languages() -> None:
    rubric = load_rubric(PROJECT_ROOT / "rubrics")
    ids = {c.id for c in rubric.criteria}
    assert {"answering_skill", "service_attitude", "logic"} <= ids
    for criterion in rubric.criteria:
        assert sorted(criterion.levels) == [1, 2, 3, 4, 5]
        assert all(level.zh and level.en for level in criterion.levels.values())
    assert len(rubric.version) == 12
    assert all(c.examples.zh and c.examples.en for c in rubric.criteria)  # examples of evidence, both languages


def test_version_follows_content(rubrics_copy: Path) -> None:
    before = load_rubric(rubrics_copy).version
    assert load_rubric(rubrics_copy).version == before
    path = rubrics_copy / "criteria" / "logic.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["criteria"][0]["levels"][3]["zh"] += "（修订）"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_rubric(rubrics_copy).version != before


def test_placement_settings_re_place_but_never_re_score(rubrics_copy: Path) -> None:
    before = load_rubric(rubrics_copy)
    _edit(rubrics_copy / "model.yaml", lambda d: d["thresholds"].update(ability=55))
    _edit(rubrics_copy / "model.yaml", lambda d: d["placement"].update(hysteresis_margin=5))
    after = load_rubric(rubrics_copy)
    assert after.version == before.version  # stored scores stay current
    assert after.model_version != before.model_version and after.model.placement.hysteresis_margin == 5
    _edit(rubrics_copy / "model.yaml", lambda d: d["dimensions"]["logic"].update(zh="逻辑"))
    assert load_rubric(rubrics_copy).version != before.version  # the model is asked about dimensions by name


def test_placement_policy_errors_name_the_field(rubrics_copy: Path) -> None:
    _edit(rubrics_copy / "model.yaml", lambda d: d["placement"]["window"].update(last_calls=0))
    with pytest.raises(RubricError, match=r"model.yaml: .*placement.window.last_calls"):
        load_rubric(rubrics_copy)


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_missing_level_is_named(rubrics_copy: Path) -> None:
    _edit(rubrics_copy / "criteria" / "logic.yaml", lambda d: d["criteria"][0]["levels"].pop(4))
    with pytest.raises(RubricError, match=r"logic.yaml: criteria\[0\] \(logic\): field levels: .*levels \[4\] are not described"):
        load_rubric(rubrics_copy)


def test_duplicate_criterion_id_is_named(rubrics_copy: Path) -> None:
    _edit(rubrics_copy / "criteria" / "service_attitude.yaml", lambda d: d["criteria"][0].update(id="logic"))
    with pytest.raises(RubricError, match="criterion id 'logic' is already defined"):
        load_rubric(rubrics_copy)


def test_weights_must_sum_to_one(rubrics_copy: Path) -> None:
    _edit(rubrics_copy / "model.yaml", lambda d: d["axes"]["ability"]["weights"].update(answering_skill=0.9))
    with pytest.raises(RubricError, match=r"axes.ability.weights.*sum to 1.500"):
        load_rubric(rubrics_copy)


def test_unknown_dimension_is_named(rubrics_copy: Path) -> None:
    _edit(rubrics_copy / "criteria" / "logic.yaml", lambda d: d.update(dimension="telepathy"))
    with pytest.raises(RubricError, match="dimension 'telepathy' is not in model.yaml"):
        load_rubric(rubrics_copy)


def test_invalid_yaml_names_the_line(rubrics_copy: Path) -> None:
    (rubrics_copy / "criteria" / "logic.yaml").write_text("dimension: logic\ncriteria:\n  - id: x\n    name: a: b\n")
    with pytest.raises(RubricError, match="logic.yaml: invalid YAML at line 4"):
        load_rubric(rubrics_copy)
