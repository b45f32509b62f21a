"""How well and how fast the case library answers: each retrieval channel on the written query set, then the
chosen setup at 10,000 cases.

Quality (``knowledge/eval/case_queries.yaml``, each query with the cases a trainer would hand out):
- recall@3: of a query's relevant cases, the share found in the top 3 (out of at most 3, so a query with four
  relevant cases is not held to an impossible bar), averaged over queries;
- MRR: the mean of 1 / rank of the first relevant case in the top 10;
- for embeddings alone, BM25 alone, their reciprocal-rank fusion, and the fusion with MMR diversification
  (with its mean pairwise similarity of the three cases returned: lower is more varied).

Speed: indexing throughput and median query latency with the library copied up to ``--cases`` (synthetic copies
with varied text), against a query over the real 60-odd cases measured in the same run.

    .venv/bin/python benchmarks/case_retrieval.py [--cases 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.cases.retrieval import CaseIndex  # noqa: E402
from service.config import PROJECT_ROOT  # noqa: E402
from service.context import ServiceContext  # noqa: E402


def quality(index: CaseIndex, queries: list[dict], mode: str, diversity: float) -> dict[str, float]:
    recalls, reciprocal, spreads, times = [], [], [], []
    for item in queries:
        relevant = set(item["relevant"])
        started = time.perf_counter()
        top = [m.case_id for m in index.search(item["q"], k=10 if diversity == 0 else 3, mode=mode,  # type: ignore[arg-type]
                                               diversity=diversity)]
        times.append((time.perf_counter() - started) * 1000)
        recalls.append(len(relevant & set(top[:3])) / min(len(relevant), 3))
        rank = next((i for i, c in enumerate(top[:10], start=1) if c in relevant), None)
        reciprocal.append(1 / rank if rank else 0.0)
        vectors = index._vectors(top[:3])
        pairs = [float(vectors[a] @ vectors[b]) for a, b in combinations(top[:3], 2) if a in vectors and b in vectors]
        if pairs:
            spreads.append(sum(pairs) / len(pairs))
    return {"recall_at_3": round(statistics.mean(recalls), 3), "mrr": round(statistics.mean(reciprocal), 3),
            "mean_pairwise_similarity_top3": round(statistics.mean(spreads), 3) if spreads else None,
            "median_query_ms": round(statistics.median(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200, help="latency queries at scale")
    args = parser.parse_args()
    ctx = ServiceContext()
    cases = ctx.cases
    queries = yaml.safe_load((PROJECT_ROOT / "knowledge" / "eval" / "case_queries.yaml").read_text(encoding="utf-8"))["queries"]
    out: dict[str, object] = {"library_cases": len(cases), "queries": len(queries)}
    with tempfile.TemporaryDirectory() as tmp:
        index = CaseIndex(Path(tmp) / "small")
        index.sync(cases)
        out["quality"] = {
            "embedding": quality(index, queries, "embedding", 0.0),
            "keyword_bm25": quality(index, queries, "keyword", 0.0),
            "hybrid_rrf": quality(index, queries, "hybrid", 0.0),
            "hybrid_rrf_mmr_0.1 (shipped)": quality(index, queries, "hybrid", 0.1),
            "hybrid_rrf_mmr_0.3": quality(index, queries, "hybrid", 0.3),
        }
        small_latency = out["quality"]["hybrid_rrf_mmr_0.1 (shipped)"]["median_query_ms"]  # type: ignore[index]

        copies = []
        n = 0
        while len(copies) < args.cases:
            for case in cases:
                if len(copies) >= args.cases:
                    break
                n += 1
                copies.append(case.model_copy(update={
                    "id": f"{case.id}-copy{n}",
                    "title": f"{case.title}（第{n}版）",
                    "body": case.body + f"\n\n## 备注\n第{n}次修订，适用于第{n % 37}期培训班。",
                }))
        big = CaseIndex(Path(tmp) / "big")
        started = time.perf_counter()
        for start in range(0, len(copies), 1000):  # the way a large library is loaded: in chunks
            chunk = copies[: start + 1000]
            big.sync(chunk)
        index_s = time.perf_counter() - started
        texts = [q["q"] for q in queries]
        times = []
        for i in range(args.queries):
            t0 = time.perf_counter()
            big.search(texts[i % len(texts)], k=3)
            times.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(times)
        out["scale"] = {
            "cases": len(copies), "index_s": round(index_s, 1),
            "cases_per_s": round(len(copies) / index_s, 1),
            "median_query_ms": round(median, 1), "p95_query_ms": round(float(np.percentile(times, 95)), 1),
            "ratio_to_60_cases": round(median / small_latency, 2) if small_latency else None,
            "target_median_ms": 50,
        }
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
