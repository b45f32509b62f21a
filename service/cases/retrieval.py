"""Indexing the case library in chromadb and finding the cases that fit an agent's weak dimensions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel

from service.cases.embedding import UniversalSentenceEncoder
from service.cases.library import TrainingCase

COLLECTION = "training_cases"


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
        self.collection = self.client.get_or_create_collection(
            COLLECTION, embedding_function=UniversalSentenceEncoder(), metadata={"hnsw:space": "cosine"}
        )

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
        self, query: str, k: int = 3, program: str | None = None, dimensions: list[str] | None = None
    ) -> list[CaseMatch]:
        where = _where(program, dimensions)
        count = self.collection.count()
        if count == 0:
            return []
        result = self.collection.query(
            query_texts=[query], n_results=min(k, count), where=where, include=["metadatas", "distances"]
        )
        matches = []
        for cid, meta, distance in zip(result["ids"][0], result["metadatas"][0], result["distances"][0]):
            case_dims = str(meta["dimensions"]).split(",")
            hit = [d for d in (dimensions or []) if d in case_dims]
            matches.append(
                CaseMatch(
                    case_id=cid,
                    title=str(meta["title"]),
                    format=str(meta["format"]),
                    duration_minutes=int(meta["duration_minutes"]),
                    dimensions=case_dims,
                    programs=str(meta["programs"]).split(","),
                    similarity=round(1 - float(distance), 3),
                    reason=f"trains {', '.join(hit) or ', '.join(case_dims)}",
                )
            )
        return matches


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
