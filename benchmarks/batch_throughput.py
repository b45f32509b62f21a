"""Batches at the QA platform's scale: N transcripts through the batch API against a scripted model server with a
fixed latency, K calls in flight.

Measured in the same run:
- completion time of each batch as a ratio to the ideal (N / K x latency): what the service adds to the model,
  with the workers in one process and shared between ``--processes`` (ICEBERG_BATCH_PROCESSES);
- the service's CPU time per job, all its processes together;
- the API server's peak resident memory for two batch sizes (it must not grow with the batch);
- a kill -9 of the server in the middle of a batch, a restart, and a count that every transcript was scored
  exactly once.

Real processes throughout: the scripted model server and ``iceberg serve`` each run in a process of their own.

    .venv/bin/python benchmarks/batch_throughput.py [--transcripts 1000] [--in-flight 32] [--latency-ms 200]
        [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serve_process import free_port, start_serve  # noqa: E402

HEADERS: dict[str, str] = {}


def _platform_key(data_dir: Path) -> None:
    """The batch API needs a key: made in the data folder the server will use, before it starts."""
    from service.access.keys import create_key
    from service.config import Settings
    from service.context import ServiceContext

    ctx = ServiceContext(Settings(data_dir=data_dir))
    with ctx.sessions.begin() as session:
        HEADERS["Authorization"] = f"Bearer {create_key(session, 'benchmark', 'platform')}"


def _scripted(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.scripted_llm", "--delay-ms", str(latency_ms)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout
    return process, process.stdout.readline().strip()


def _serve(data_dir: Path, api_base: str, workers: int, port: int, processes: int = 1) -> subprocess.Popen[bytes]:
    if not (data_dir / "iceberg.sqlite3").exists():
        _platform_key(data_dir)
    return start_serve(data_dir, api_base, port, workers, lease_s=5, processes=processes)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _family(pid: int) -> list[int]:
    """The process and its children (the worker processes the server started)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(c) for c in children.read_text().split())] if children.exists() else [pid]


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _throughput(base_dir: Path, api_base: str, args: argparse.Namespace, processes: int) -> dict[str, object]:
    """A warm-up batch of a quarter the size (its figures show the cold start), then the measured batch."""
    ideal = args.transcripts / args.in_flight * args.latency_ms / 1000
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(base_dir / f"p{processes}", api_base, args.in_flight, port, processes)
    try:
        small = max(1, args.transcripts // 4)
        _, small_s = _run_batch(base, _transcripts("warm", small))
        rss_small = _peak_rss_mb(server.pid)
        family = _family(server.pid)
        cpu_before = _cpu_s(family)
        _, took = _run_batch(base, _transcripts("main", args.transcripts))
        cpu_ms = (_cpu_s(family) - cpu_before) * 1000 / args.transcripts
        rss_large = _peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    return {
        "processes": len(family),
        "completion_s": round(took, 2), "ratio_to_ideal": round(took / ideal, 2), "target_ratio": 1.25,
        "service_cpu_ms_per_job": round(cpu_ms, 2),
        "small_batch": {"transcripts": small, "completion_s": round(small_s, 2),
                        "ratio_to_ideal": round(small_s / (small / args.in_flight * args.latency_ms / 1000), 2)},
        "peak_rss_mb_first_process": {f"after {small}": rss_small, f"after {args.transcripts} more": rss_large},
    }


def _transcripts(prefix: str, n: int) -> list[dict[str, object]]:
    return [{"id": f"{prefix}-{i}", "agent_id": f"A{i % 50}", "team_id": f"T{i % 5}", "turns": [
        {"speaker": "agent", "text": "您好，星河银行，请问有什么可以帮您？"},
        {"speaker": "customer", "text": f"我想查询第{i}笔交易的状态。"},
        {"speaker": "agent", "text": "好的，已为您查到，这笔交易已经入账，请放心。"}]} for i in range(n)]


def _run_batch(base: str, transcripts: list[dict[str, object]], until_scored: int | None = None) -> tuple[str, float]:
    with httpx.Client(base_url=base, timeout=120, headers=HEADERS) as client:
        started = time.perf_counter()
        batch = client.post("/v1/batches", json={"transcripts": transcripts}).json()
        while True:
            status = client.get(f"/v1/batches/{batch['id']}", params={"limit": 1}).json()
            if status["status"] == "done" or (until_scored and status["counts"]["scored"] >= until_scored):
                return batch["id"], time.perf_counter() - started
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--processes", type=int, default=2, help="also measured with the workers in N processes")
    args = parser.parse_args()
    ideal = args.transcripts / args.in_flight * args.latency_ms / 1000
    scripted, api_base = _scripted(args.latency_ms)
    servers: list[subprocess.Popen[bytes]] = []
    results: dict[str, object] = {"transcripts": args.transcripts, "in_flight": args.in_flight,
                                  "latency_ms": args.latency_ms, "ideal_s": round(ideal, 2)}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results["one_process"] = _throughput(Path(tmp), api_base, args, 1)
            if args.processes > 1:
                results[f"{args.processes}_processes"] = _throughput(Path(tmp), api_base, args, args.processes)

            # kill -9 mid-batch, restart, finish: every transcript scored exactly once
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            data = Path(tmp) / "b"
            server = _serve(data, api_base, args.in_flight, port, args.processes)
            servers.append(server)
            batch_id, _ = _run_batch(base, _transcripts("kill", args.transcripts), until_scored=args.transcripts // 3)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            server = _serve(data, api_base, args.in_flight, port, args.processes)
            servers.append(server)
            with httpx.Client(base_url=base, timeout=120, headers=HEADERS) as client:
                while client.get(f"/v1/batches/{batch_id}", params={"limit": 1}).json()["status"] != "done":
                    time.sleep(0.1)
                counts = client.get(f"/v1/batches/{batch_id}", params={"limit": 1}).json()["counts"]
            server.send_signal(signal.SIGTERM)
            server.wait(30)
            with sqlite3.connect(data / "iceberg.sqlite3") as db:
                per_call = db.execute("SELECT COUNT(*), COUNT(DISTINCT transcript_id) FROM assessments").fetchone()
                retried = db.execute("SELECT COUNT(*) FROM jobs WHERE attempts > 1").fetchone()[0]
            results["kill_9"] = {"counts": counts, "assessments": per_call[0], "distinct_transcripts": per_call[1],
                                 "exactly_once": per_call[0] == per_call[1] == args.transcripts,
                                 "jobs_taken_again_after_the_kill": retried}
    finally:
        for process in servers:  # a failed run must not leave servers behind
            if process.poll() is None:
                process.kill()
        scripted.terminate()
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
