"""What one assessment costs besides the model's own time.

1. Prompt tokens: our single call (instructions + whole rubric + transcript) against the per-criterion baseline
   (one call per criterion, instructions + that criterion + the transcript each time), over the example calls.
   Also against "one rubric plus one transcript" (the asked criteria with their levels, the critical items, the
   numbered call and the notes, as bare text), to show what instructions and format cost on top.
2. Service overhead: wall time per assessment minus the scripted server's fixed latency, as a share of it.

    .venv/bin/python benchmarks/scoring_costs.py [--latency-ms 250] [--assessments 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.config import PROJECT_ROOT, Settings  # noqa: E402
from service.context import ServiceContext  # noqa: E402
from service.llm.completion import count_tokens  # noqa: E402
from service.storage.tables import ModelCallRow  # noqa: E402
from service.transcripts.parsing import load_transcript_file  # noqa: E402
from service.transcripts.schemas import Transcript  # noqa: E402

MODEL = "openai/gpt-4o-mini"  # only names the tokenizer litellm counts with


def prompt_tokens(ctx: ServiceContext, transcripts: list[Transcript]) -> dict[str, float]:
    """Our one call against the per-criterion baseline and against the bare rubric and call, summed over calls.

    The baseline asks each criterion the call is scored on in a call of its own (same instructions, that one
    criterion, the whole transcript and notes), plus one call for the critical items: a per-criterion design
    still has to check them, and one call for all of them is the cheapest way it could.
    """
    rubric = ctx.rubric
    ours, baseline, bare = [], [], []
    if not transcripts:
        return {"calls": 0}
    for transcript in transcripts:
        ours.append(count_tokens(MODEL, ctx.prompt.messages(rubric, transcript)))
        asked = rubric.transcript_criteria + (rubric.notes_criteria if transcript.reviewer_notes else [])
        singles = [rubric.model_copy(update={"criteria": (c,), "critical_items": ()}) for c in asked]
        singles.append(rubric.model_copy(update={"criteria": ()}))  # the critical items alone
        baseline.append(sum(count_tokens(MODEL, ctx.prompt.messages(s, transcript)) for s in singles))
        rubric_text = "\n".join(
            f"{c.id} {c.name.zh} {c.description.zh} " + " ".join(f"{n} {t.zh}" for n, t in c.levels.items())
            for c in asked
        ) + "\n" + "\n".join(f"{i.id} {i.description.zh}" for i in rubric.model_critical_items)
        call_text = "\n".join(f"[{n}] {t.speaker}: {t.text}" for n, t in transcript.numbered_turns())
        call_text += "\n" + (transcript.reviewer_notes or "")
        bare.append(count_tokens(MODEL, [{"role": "user", "content": rubric_text + "\n" + call_text}]))
    return {
        "calls": len(transcripts),
        "tokens_per_assessment": round(statistics.mean(ours), 1),
        "per_criterion_baseline_tokens": round(statistics.mean(baseline), 1),
        "baseline_over_ours": round(sum(baseline) / sum(ours), 2),
        "ours_over_rubric_plus_transcript": round(sum(ours) / sum(bare), 3),
    }


def by_notes(ctx: ServiceContext, transcripts: list[Transcript]) -> dict[str, dict[str, float]]:
    """Calls with reviewer notes are scored on the full rubric (all ten criteria); calls without, on the six the
    transcript shows: the two are reported apart, since the baseline's call count differs."""
    with_notes = [t for t in transcripts if t.reviewer_notes]
    without = [t for t in transcripts if not t.reviewer_notes]
    return {"full_rubric_with_notes": prompt_tokens(ctx, with_notes),
            "transcript_criteria_only": prompt_tokens(ctx, without)}


def overhead(latency_ms: float, count: int, examples: list[Transcript]) -> dict[str, float]:
    server = subprocess.Popen([sys.executable, "-m", "tests.scripted_llm", "--delay-ms", str(latency_ms)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    api_base = server.stdout.readline().strip()  # type: ignore[union-attr]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = ServiceContext(Settings(data_dir=Path(tmp), llm_model="openai/scripted",
                                          llm_api_base=api_base, llm_api_key="sk-bench"))
            ctx.assessor.assess(examples[0].model_copy(update={"id": "warm-up", "reviewer_notes": "warm"}))
            walls, in_call = [], []
            for n in range(count):
                base = examples[n % len(examples)]
                unique = base.model_copy(update={"id": f"bench-{n}", "reviewer_notes": f"第{n}次"})
                t0 = time.perf_counter()
                assessment = ctx.assessor.assess(unique)
                walls.append((time.perf_counter() - t0) * 1000)
                assert assessment.status == "scored" and not assessment.cached, assessment.error
            with ctx.sessions() as session:
                in_call = [row.latency_ms for row in session.scalars(select(ModelCallRow))][1:]
    finally:
        server.terminate()
        server.wait()
    median = statistics.median(walls)
    return {
        "assessments": count,
        "model_latency_ms": latency_ms,
        "wall_ms_median": round(median, 1),
        "overhead_ms_median": round(median - latency_ms, 1),
        "overhead_share_of_latency": round((median - latency_ms) / latency_ms, 4),
        # inside the model call, beyond the server's sleep: litellm, the OpenAI SDK, HTTP on loopback
        "client_and_http_ms_median": round(statistics.median(in_call) - latency_ms, 1),
        "iceberg_own_ms_median": round(median - statistics.median(in_call), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--assessments", type=int, default=40)
    args = parser.parse_args()
    files = sorted((PROJECT_ROOT / "examples" / "transcripts").glob("*"))
    examples = [load_transcript_file(f) for f in files]
    # Real calls run 30-60 turns; the examples run 7-10. Four examples joined make a realistic long call.
    long_calls = [
        examples[i].model_copy(update={"id": f"long-{i}", "turns": [t for e in examples[i:i + 4] for t in e.turns],
                                       "reviewer_notes": " ".join(e.reviewer_notes for e in examples[i:i + 4]
                                                                  if e.reviewer_notes) or None})
        for i in range(0, len(examples) - 3)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ServiceContext(Settings(data_dir=Path(tmp)))
        tokens = {"example_calls": by_notes(ctx, examples), "long_calls": by_notes(ctx, long_calls)}
    print(json.dumps({"prompt_tokens": tokens, "service_overhead": overhead(args.latency_ms, args.assessments,
                                                                           examples)}, indent=2))


if __name__ == "__main__":
    main()
