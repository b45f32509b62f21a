"""Indexing the case library and finding the cases that fit an agent's weak spots.

Two channels: embeddings in chromadb (meaning) and BM25 over the same texts (exact business terms), fused by
reciprocal rank; then maximal marginal relevance picks cases that do not all teach the same thing.
`benchmarks/case_retrieval.py` measures each channel and the fusion on `knowledge/eval/case_queries.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel

from service.cases.embedding import UniversalSentenceEncoder
from service.cases.keywords import KeywordIndex
from service.cases.library import TrainingCase

COLLECTION = "training_cases"
Mode = Literal["hybrid", "embedding", "keyword"]
# Reciprocal rank fusion's damping. Small, so that a case either channel ranks first counts for much: chosen by
# benchmarks/case_retrieval.py on the query set (5: recall@3 0.853; the textbook 60: 0.833).
RRF_K = 5


class CaseMatch(BaseModel):
    case_id: str
    title: str
    format: str
    duration_minutes: int
    dimensions: list[str]
    programs: list[str]
    similarity: float
    reason: str


@dataclass
class IndexReport:
    added: int
    updated: int
    removed: int
    unchanged: int


class CaseIndex:
    def __init__(self, chroma_dir: Path) -> None:
        chroma_dir.mkdir(parents=True, exist_ok=True)
        self.client = chromadb.PersistentClient(
            path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.embedder = UniversalSentenceEncoder()
        self.collection = self.client.get_or_create_collection(
            COLLECTION, embedding_function=self.embedder, metadata={"hnsw:space": "cosine"}
        )
        self.cases: dict[str, TrainingCase] = {}
        self.keywords = KeywordIndex([])

    def sync(self, cases: list[TrainingCase]) -> IndexReport:
        """Bring the index in line with the library: embed new or changed cases only, drop deleted ones."""
        existing = self.collection.get(include=["metadatas"])
        indexed = {cid: (meta or {}).get("hash") for cid, meta in zip(existing["ids"], existing["metadatas"] or [])}
        wanted = {case.id: case for case in cases}
        stale = [cid for cid in indexed if cid not in wanted]
        changed = [case for case in cases if indexed.get(case.id) != case.content_hash()]
        if stale:
            self.collection.delete(ids=stale)
        if changed:
            self.collection.upsert(
                ids=[c.id for c in changed],
                documents=[c.embedding_text() for c in changed],
                metadatas=[self._metadata(c) for c in changed],
            )
        self.cases = dict(wanted)
        self.keywords = KeywordIndex((c.id, f"{c.title}\n{c.title}\n{c.body}") for c in cases)
        added = sum(1 for c in changed if c.id not in indexed)
        return IndexReport(
            added=added, updated=len(changed) - added, removed=len(stale), unchanged=len(cases) - len(changed)
        )

    @staticmethod
    def _metadata(case: TrainingCase) -> dict[str, str | int | bool]:
        meta: dict[str, str | int | bool] = {
            "hash": case.content_hash(),
            "title": case.title,
            "format": case.format,
            "duration_minutes": case.duration_minutes,
            "dimensions": ",".join(case.dimensions),
            "programs": ",".join(case.programs),
        }
        # chromadb filters on scalar metadata: one flag per program and dimension.
        meta.update({f"program:{p}": True for p in case.programs})
        meta.update({f"dimension:{d}": True for d in case.dimensions})
        return meta

    def search(
        self,
        query: str,
        k: int = 3,
        program: str | None = None,
        dimensions: list[str] | None = None,
        mode: Mode = "hybrid",
        diversity: float = 0.1,
        evidence: str | None = None,
    ) -> list[CaseMatch]:
        """The ``k`` cases that fit ``query`` best, within the program and dimensions when given.

        ``diversity`` (0-1) is the weight MMR gives to being unlike the cases already chosen; 0 is pure relevance.
        ``evidence``, the agent's own words the query came from, is quoted in each match's reason.
        """
        count = self.collection.count()
        if count == 0 or k <= 0:
            return []
        pool = min(count, max(k * 5, 20))
        allowed = {cid for cid, case in self.cases.items() if _fits(case, program, dimensions)} if self.cases else None
        ranked: dict[str, float] = {}
        embedded: dict[str, float] = {}
        if mode in ("hybrid", "embedding"):
            result = self.collection.query(query_texts=[query], n_results=pool, where=_where(program, dimensions),
                                           include=["distances"])
            for rank, (cid, distance) in enumerate(zip(result["ids"][0], result["distances"][0]), start=1):
                embedded[cid] = 1 - float(distance)
                ranked[cid] = ranked.get(cid, 0.0) + 1 / (RRF_K + rank)
        if mode in ("hybrid", "keyword"):
            for rank, (cid, _) in enumerate(self.keywords.scores(query, allowed, limit=pool), start=1):
                ranked[cid] = ranked.get(cid, 0.0) + 1 / (RRF_K + rank)
        candidates = sorted(ranked, key=lambda c: (-ranked[c], c))[:pool]
        chosen = self._diversify(query, candidates, ranked, k, diversity) if diversity > 0 else candidates[:k]
        if any(c not in embedded for c in chosen):
            embedded.update(self._similarities(query, [c for c in chosen if c not in embedded]))
        return [self._match(cid, embedded.get(cid, 0.0), dimensions, evidence) for cid in chosen]

    def _vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        got = self.collection.get(ids=ids, include=["embeddings"])
        return {cid: _unit(np.asarray(vector, dtype=np.float32)) for cid, vector in zip(got["ids"], got["embeddings"])}

    def _similarities(self, query: str, ids: list[str]) -> dict[str, float]:
        q = _unit(np.asarray(self.embedder([query])[0], dtype=np.float32))
        return {cid: float(vector @ q) for cid, vector in self._vectors(ids).items()}

    def _diversify(self, query: str, candidates: list[str], ranked: dict[str, float], k: int, diversity: float
                   ) -> list[str]:
        """Maximal marginal relevance: each next case is relevant (its fused rank score, scaled to 0-1) and unlike
        the ones already chosen (cosine of the case embeddings)."""
        if len(candidates) <= 1:
            return candidates[:k]
        vectors = self._vectors(candidates)
        top = max(ranked[c] for c in candidates)
        relevance = {c: ranked[c] / top for c in candidates}
        chosen: list[str] = []
        rest = [c for c in candidates if c in vectors]
        while rest and len(chosen) < k:
            def gain(c: str) -> float:
                overlap = max((float(vectors[c] @ vectors[s]) for s in chosen), default=0.0)
                return (1 - diversity) * relevance[c] - diversity * overlap
            best = max(rest, key=lambda c: (gain(c), -candidates.index(c)))
            chosen.append(best)
            rest.remove(best)
        return chosen

    def _match(self, cid: str, similarity: float, dimensions: list[str] | None, evidence: str | None) -> CaseMatch:
        meta = self.collection.get(ids=[cid], include=["metadatas"])["metadatas"][0]
        case_dims = str(meta["dimensions"]).split(",")
        hit = [d for d in (dimensions or []) if d in case_dims]
        reason = f"trains {', '.join(hit) or ', '.join(case_dims)}"
        if evidence:
            reason += f"; answers: “{evidence[:60]}”"
        return CaseMatch(
            case_id=cid, title=str(meta["title"]), format=str(meta["format"]),
            duration_minutes=int(meta["duration_minutes"]), dimensions=case_dims,
            programs=str(meta["programs"]).split(","), similarity=round(similarity, 3), reason=reason,
        )


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _fits(case: TrainingCase, program: str | None, dimensions: list[str] | None) -> bool:
    return (program is None or program in case.programs) and (not dimensions or bool(set(dimensions) & set(case.dimensions)))


def _where(program: str | None, dimensions: list[str] | None) -> dict | None:
    clauses: list[dict] = []
    if program:
        clauses.append({f"program:{program}": True})
    if dimensions:
        dims = [{f"dimension:{d}": True} for d in dimensions]
        clauses.append(dims[0] if len(dims) == 1 else {"$or": dims})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
