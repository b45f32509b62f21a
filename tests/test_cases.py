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
    return load_cases(cases_dir, set(RUBRIC.model.dimensions), set(PROGRAMS), {c.id for c in RUBRIC.criteria})


def test_library_covers_every_program_and_every_dimension() -> None:
    cases = _load(PROJECT_ROOT / "knowledge" / "cases")
    assert len(cases) >= 60 and sum(c.language == "en" for c in cases) >= 3
    assert set(PROGRAMS) <= {p for c in cases for p in c.programs}
    assert set(RUBRIC.model.dimensions) <= {d for c in cases for d in c.dimensions}
    assert {"exemplary_excerpt", "lesson", "role_play", "simulated_call", "compliance_refresher"} == {c.format for c in cases}
    assert all(program.measures for program in PROGRAMS.values())


def test_the_query_set_is_well_formed() -> None:
    import yaml

    ids = {c.id for c in _load(PROJECT_ROOT / "knowledge" / "cases")}
    queries = yaml.safe_load((PROJECT_ROOT / "knowledge" / "eval" / "case_queries.yaml").read_text(encoding="utf-8"))
    assert len(queries["queries"]) >= 40
    for item in queries["queries"]:
        assert item["q"].strip() and item["relevant"] and set(item["relevant"]) <= ids, item


@pytest.mark.parametrize(("front", "body", "message"), [
    ("format: lecture", "## 场景\na\n## 好的做法\nb\n## 常见错误\nc\n## 练习任务\nd", r"field format: Input should be"),
    ("format: lesson", "## 场景\na\n## 好的做法\nb", r"body: missing section\(s\) 常见错误, 练习任务"),
    ("format: lesson\ncriteria: [charm]", "## 场景\na\n## 好的做法\nb\n## 常见错误\nc\n## 练习任务\nd",
     r"field criteria: unknown \['charm'\]"),
])
def test_case_schema_names_what_to_fix(tmp_path: Path, front: str, body: str, message: str) -> None:
    (tmp_path / "c.md").write_text(f"---\nid: c\ntitle: t\ndimensions: [logic]\nprograms: [lead_goose]\n{front}\n"
                                   f"level: basic\nduration_minutes: 5\n---\n{body}\n", encoding="utf-8")
    with pytest.raises(CaseError, match=message):
        _load(tmp_path)


def test_bad_case_is_rejected_with_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nid: bad\ntitle: x\ndimensions: [logic]\nprograms: [nowhere]\n"
                                     "format: lesson\nlevel: basic\nduration_minutes: 5\n---\n## 场景\na\n## 好的做法\nb\n"
                                     "## 常见错误\nc\n## 练习任务\nd\n", encoding="utf-8")
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


def test_bm25_ranks_by_shared_terms_and_is_deterministic() -> None:
    from service.cases.keywords import KeywordIndex, tokens

    assert tokens("卡丢了 SWIFT fee") == ["卡丢", "丢了", "swift", "fee"]
    index = KeywordIndex([("b", "转账限额说明"), ("a", "挂失补卡流程"), ("c", "挂失后补卡的费用与补卡时效")])
    ranked = index.scores("挂失补卡")
    assert [doc for doc, _ in ranked] == ["a", "c"]  # "b" shares no term; the shorter exact match ranks first
    assert index.scores("挂失补卡", allowed={"c"})[0][0] == "c"
    twins = KeywordIndex([("y", "分期手续费"), ("x", "分期手续费")])
    assert [d for d, _ in twins.scores("手续费")] == ["x", "y"]  # equal scores: by id


def test_channels_fusion_and_diversity(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "chroma")
    index.sync(_load(PROJECT_ROOT / "knowledge" / "cases"))
    # an exact term the keyword channel catches
    assert index.search("SWIFT OUR SHA BEN", k=1, mode="keyword")[0].case_id == "case-042"
    query = "客户情绪激动，坐席态度冷淡，也没有给解决办法"
    plain = index.search(query, k=3, diversity=0.0)
    varied = index.search(query, k=3, diversity=0.9)

    def overlap(ids: list[str]) -> float:
        vectors = index._vectors(ids)
        return sum(float(vectors[a] @ vectors[b]) for i, a in enumerate(ids) for b in ids[i + 1:]) / 3

    assert overlap([m.case_id for m in varied]) <= overlap([m.case_id for m in plain])
    explained = index.search(query, k=2, dimensions=["service_attitude"], evidence="自己看")
    assert all("service_attitude" in m.reason and "自己看" in m.reason for m in explained)
    assert index.search(query, k=3) == index.search(query, k=3)  # same input, same answer
