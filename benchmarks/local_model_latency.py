"""Latency of the bundled local model per assessment: the first call (rubric prefix not yet cached) against the
following ones (prefix cached by llama.cpp), with tokens, measured in one run.

    .venv/bin/python benchmarks/local_model_latency.py [--calls 4] [--local-model qwen2.5-coder-1.5b]
        [--compare-speculation]

Prints one JSON object; ratios are against the first call of the same run. With --compare-speculation the same
calls run twice, with and without n-gram speculative decoding, and the speed-up is their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from service.config import PROJECT_ROOT, Settings
from service.context import ServiceContext
from service.llm.provider import resolve_endpoint, stop_local_servers
from service.storage.tables import ModelCallRow
from service.transcripts.parsing import load_transcript_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--compare-speculation", action="store_true")
    args = parser.parse_args()
    files = sorted((PROJECT_ROOT / "examples" / "transcripts").glob("*"))[: args.calls]
    runs = {"speculative": run(files, args.local_model, True)}
    if args.compare_speculation:
        runs["plain"] = run(files, args.local_model, False)
        runs["later_calls_speedup_from_speculation"] = round(
            runs["plain"]["later_calls_median_s"] / runs["speculative"]["later_calls_median_s"], 2)
    print(json.dumps(runs, indent=2))


def run(files: list[Path], local_model: str, speculative: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ServiceContext(Settings(data_dir=Path(tmp), local_model=local_model, local_speculative=speculative))
        t0 = time.perf_counter()
        resolve_endpoint(ctx.settings)  # start the server outside the measured calls
        startup = time.perf_counter() - t0
        wall = []
        for path in files:
            t = time.perf_counter()
            assessment = ctx.assessor.assess(load_transcript_file(path))
            wall.append(time.perf_counter() - t)
            assert assessment.status == "scored", assessment.error
        with ctx.sessions() as session:
            calls = list(session.scalars(select(ModelCallRow).order_by(ModelCallRow.id)))
        stop_local_servers()
    first, rest = wall[0], wall[1:]
    return {
        "model": local_model,
        "server_start_s": round(startup, 1),
        "first_call_s": round(first, 1),
        "later_calls_median_s": round(statistics.median(rest), 1) if rest else None,
        "later_over_first": round(statistics.median(rest) / first, 2) if rest else None,
        "prompt_tokens": [c.prompt_tokens for c in calls],
        "cached_prompt_tokens": [c.cached_tokens for c in calls],
        "completion_tokens": [c.completion_tokens for c in calls],
    }


if __name__ == "__main__":
    main()
