from __future__ import annotations

import shutil
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from service.cases.library import CaseError, load_cases, load_programs
from service.cases.retrieval import COLLECTION, CaseIndex
from service.config import PROJECT_ROOT
from service.rubrics.loader import load_rubric

RUBRIC = load_rubric(PROJECT_ROOT / "rubrics")
PROGRAMS = load_programs(PROJECT_ROOT / "knowledge" / "programs.yaml")


def _load(cases_dir: Path):  # type: ignore[no-untyped-def]
    return load_cases(cases_dir, set(RUBRIC.model.dimensions), set(PROGRAMS))


def test_library_covers_every_program_and_the_scored_dimensions() -> None:
    cases = _load(PROJECT_ROOT / "knowledge" / "cases")
    assert len(cases) >= 12
    assert set(PROGRAMS) <= {p for c in cases for p in c.programs}
    assert {c.dimension for c in RUBRIC.criteria} <= {d for c in cases for d in c.dimensions}
    assert all(program.measures for program in PROGRAMS.values())


def test_bad_case_is_rejected_with_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nid: bad\ntitle: x\ndimensions: [logic]\nprograms: [nowhere]\n"
                                     "format: lesson\nlevel: basic\nduration_minutes: 5\n---\nbody\n", encoding="utf-8")
    with pytest.raises(CaseError, match=r"bad.md: field programs: unknown \['nowhere'\]"):
        _load(tmp_path)
    (tmp_path / "bad.md").write_text("---\nid: bad\ntitle: x\n---\nbody\n", encoding="utf-8")
    with pytest.raises(CaseError, match=r"bad.md: field dimensions: Field required"):
        _load(tmp_path)


def test_index_is_incremental_and_reopens_without_the_embedding_function(tmp_path: Path) -> None:
    cases_dir = tmp_path / "cases"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "cases", cases_dir)
    index = CaseIndex(tmp_path / "chroma")
    total = len(_load(cases_dir))
    assert index.sync(_load(cases_dir)).added == total
    assert index.sync(_load(cases_dir)).unchanged == total

    (cases_dir / "case-001.md").write_text(
        (cases_dir / "case-001.md").read_text(encoding="utf-8") + "\n补充：找到卡后要解挂。\n", encoding="utf-8")
    (cases_dir / "case-002.md").unlink()
    report = index.sync(_load(cases_dir))
    assert (report.updated, report.removed, report.added) == (1, 1, 0)
    assert index.collection.count() == total - 1

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    reopened = client.get_collection(COLLECTION)  # no embedding function passed: the registered one is used
    hits = reopened.query(query_texts=["客户情绪激动，坐席需要安抚"], n_results=1)
    assert hits["ids"][0]


def test_search_finds_the_case_for_a_weak_behaviour(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "chroma")
    index.sync(_load(PROJECT_ROOT / "knowledge" / "cases"))
    matches = index.search("坐席说查不了，让客户自己去网点问，推卸责任", k=3)
    assert "case-004" in [m.case_id for m in matches]
    filtered = index.search("理财产品会不会亏", k=5, program="lead_goose")
    assert filtered and all("lead_goose" in m.programs for m in filtered)
