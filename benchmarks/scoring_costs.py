"""What one assessment costs besides the model's own time.

1. Prompt tokens: our single call (instructions + whole rubric + transcript) against the per-criterion baseline
   (one call per criterion, instructions + that criterion + the transcript each time), over the example calls.
   Also against "one rubric plus one transcript" (the asked criteria with their levels, the critical items, the
   numbered call and the notes, as bare text), to show what instructions and format cost on top.
2. Service overhead: wall time per assessment minus the scripted server's fixed latency, as a share of it, split
   into the model call's client path (litellm and below) and our own work; beside it, what bare httpx, the OpenAI
   SDK and litellm alone pay for the same request in the same run, the same assessments back to back against a
   server that answers at once (hot), and the machine's wake-up penalty after an idle wait of that latency.

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
from service.scoring.prompt import answer_schema  # noqa: E402
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


def _scripted_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """The scripted model in a process of its own, so it shares no GIL with the client being measured."""
    server = subprocess.Popen([sys.executable, "-m", "tests.scripted_llm", "--delay-ms", str(latency_ms)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    return server, server.stdout.readline().strip()  # type: ignore[union-attr]


def _assessments(api_base: str, count: int, examples: list[Transcript]) -> dict[str, float]:
    """``count`` assessments one after another: wall time each, time inside the model call, process CPU each."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ServiceContext(Settings(data_dir=Path(tmp), llm_model="openai/scripted",
                                      llm_api_base=api_base, llm_api_key="sk-bench"))
        for n in range(3):
            ctx.assessor.assess(examples[n % len(examples)].model_copy(update={"id": f"warm-{n}",
                                                                               "reviewer_notes": "warm"}))
        walls = []
        cpu = time.process_time()
        for n in range(count):
            base = examples[n % len(examples)]
            unique = base.model_copy(update={"id": f"bench-{n}", "reviewer_notes": f"第{n}次"})
            t0 = time.perf_counter()
            assessment = ctx.assessor.assess(unique)
            walls.append((time.perf_counter() - t0) * 1000)
            assert assessment.status == "scored" and not assessment.cached, assessment.error
        cpu = (time.process_time() - cpu) * 1000 / count
        with ctx.sessions() as session:
            rows = session.scalars(select(ModelCallRow).order_by(ModelCallRow.id))
            in_call = [row.latency_ms for row in rows][3:]  # after the warm-up calls
    return {"wall": statistics.median(walls), "in_call": statistics.median(in_call), "cpu": cpu}


def _client_floor(api_base: str, latency_ms: float, count: int, request: dict) -> dict[str, float]:
    """The same request, one after another, by bare httpx, by the OpenAI SDK and by litellm, minus the latency:
    what any client pays on this machine, measured beside our own figure."""
    import httpx
    import litellm
    import openai

    litellm.suppress_debug_info = True
    http = httpx.Client()
    sdk = openai.OpenAI(base_url=api_base, api_key="sk-bench", max_retries=0)
    clients = {
        "httpx": lambda: http.post(f"{api_base}/chat/completions", json={"model": "scripted", **request}).json(),
        "openai_sdk": lambda: sdk.chat.completions.create(model="scripted", **request),
        "litellm": lambda: litellm.completion(model="openai/scripted", api_base=api_base, api_key="sk-bench",
                                              num_retries=0, max_retries=0, **request),
    }
    floor = {}
    for name, send in clients.items():
        for _ in range(3):
            send()
        walls = []
        for _ in range(count):
            t0 = time.perf_counter()
            send()
            walls.append((time.perf_counter() - t0) * 1000)
        floor[f"{name}_ms_median"] = round(statistics.median(walls) - latency_ms, 2)
    http.close()
    return floor


def _wake_penalty(latency_ms: float, request: dict, rounds: int = 30) -> float:
    """A fixed piece of CPU work timed right after a sleep of the model's latency, over the same work done hot.

    An idle vCPU can come back slower (cold caches, a lower clock): a millisecond of work after a model call can
    cost more than it does back to back. This ratio says how much, so the figures above can be read.
    """
    def work() -> float:
        t0 = time.perf_counter()
        for _ in range(20):
            json.loads(json.dumps(request, ensure_ascii=False))
        return time.perf_counter() - t0

    hot = statistics.median(work() for _ in range(rounds))
    woken = []
    for _ in range(rounds):
        time.sleep(latency_ms / 1000)
        woken.append(work())
    return round(statistics.median(woken) / hot, 2)


def overhead(latency_ms: float, count: int, examples: list[Transcript]) -> dict[str, object]:
    """Service overhead per assessment: wall time minus the model's latency, one assessment after another.

    Split into the model call's client path (litellm, the OpenAI SDK, HTTP on loopback) and our own work, and
    set beside what bare clients pay for the same request in the same run. Back to back against a server that
    answers at once, the same work is measured hot, without the machine's wake-up cost.
    """
    slow, slow_base = _scripted_server(latency_ms)
    fast, fast_base = _scripted_server(0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = ServiceContext(Settings(data_dir=Path(tmp)))
            transcript = examples[0]
            request = {"messages": ctx.prompt.messages(ctx.rubric, transcript), "max_tokens": 1500,
                       "temperature": 0.0,
                       "response_format": {"type": "json_schema", "json_schema": {
                           "name": "assessment", "strict": True,
                           "schema": answer_schema(ctx.rubric, list(transcript.numbered_turns()),
                                                   transcript.reviewer_notes)}}}
        sequential = _assessments(slow_base, count, examples)
        hot = _assessments(fast_base, count * 3, examples)
        floor = _client_floor(slow_base, latency_ms, count, request)
        penalty = _wake_penalty(latency_ms, request)
    finally:
        for server in (slow, fast):
            server.terminate()
            server.wait()
    whole = sequential["wall"] - latency_ms
    own = sequential["wall"] - sequential["in_call"]
    hot_own = hot["wall"] - hot["in_call"]
    return {
        "assessments": count,
        "model_latency_ms": latency_ms,
        "sequential": {
            "overhead_ms_median": round(whole, 1),
            "overhead_share_of_latency": round(whole / latency_ms, 4),
            # inside the model call, beyond the server's latency: litellm, the OpenAI SDK, HTTP on loopback
            "client_and_http_ms_median": round(sequential["in_call"] - latency_ms, 1),
            "iceberg_own_ms_median": round(own, 1),
            "iceberg_own_share_of_latency": round(own / latency_ms, 4),
            "process_cpu_ms_per_assessment": round(sequential["cpu"], 1),
        },
        "same_request_by_bare_clients": floor,
        "hot_back_to_back": {
            "assessments": count * 3,
            "overhead_ms_median": round(hot["wall"], 1),
            "client_and_http_ms_median": round(hot["in_call"], 1),
            "iceberg_own_ms_median": round(hot_own, 1),
            "iceberg_own_share_of_latency": round(hot_own / latency_ms, 4),
            "process_cpu_ms_per_assessment": round(hot["cpu"], 1),
        },
        "wake_penalty": penalty,
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
