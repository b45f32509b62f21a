"""Batches through the HTTP API: 202 and progress, idempotent re-sending, bad lines named, failures recorded,
a completion webhook, and a kill -9 in the middle of a batch that loses and duplicates nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from service.batches import queue
from service.batches.worker import WorkerPool
from service.config import Settings
from service.context import ServiceContext
from service.storage.tables import AssessmentRow, BatchRow, JobRow
from service.transcripts.schemas import Transcript, Turn
from service.web.app import create_app
from tests.conftest import api_client, live_server, make_key
from tests.serve_process import free_port, start_serve
from tests.scripted_llm import ScriptedLLM, answer_from_schema, completion


def _call(n: int, text: str = "您好，请问有什么可以帮您？") -> dict[str, Any]:
    return Transcript(id=f"b{n}", agent_id=f"A{n % 3}", team_id="T1",
                      turns=[Turn(speaker="agent", text=text), Turn(speaker="customer", text=f"问题{n}")]
                      ).model_dump(mode="json")


def _wait_done(client: httpx.Client, batch_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/v1/batches/{batch_id}", params={"limit": 500}).json()
        if status["status"] == "done":
            return status
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not done: {status['counts']}")


class Hooks:
    """A webhook receiver over real HTTP."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                hooks.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    receiver = Hooks()
    yield receiver
    receiver.server.shutdown()


def test_model_calls_in_flight_never_exceed_the_configured_workers(
    context: ServiceContext, scripted_llm: ScriptedLLM
) -> None:
    """Nine jobs, three workers, a model that takes 150 ms: at most three calls at once, and three are reached."""
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def slow(request: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return 200, completion(answer_from_schema(request)), {}

    scripted_llm.handler = slow
    context.settings.batch_workers = 3
    with live_server(create_app(context, workers=True)) as url, api_client(url, context) as client:
        batch = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(9)]}).json()
        assert _wait_done(client, batch["id"])["counts"]["scored"] == 9
    assert len(scripted_llm.requests) == 9 and peak[0] == 3


def test_batch_is_accepted_scored_and_reported(context: ServiceContext, scripted_llm: ScriptedLLM, hooks: Hooks) -> None:
    context.settings.batch_workers = 3
    with live_server(create_app(context, workers=True)) as url, api_client(url, context) as client:
        accepted = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(6)],
                                                     "webhook_url": hooks.url})
        assert accepted.status_code == 202 and accepted.headers["location"] == accepted.json()["status_url"]
        body = accepted.json()
        assert body["total"] == 6 and body["new_jobs"] == 6
        status = _wait_done(client, body["id"])
        assert status["counts"] == {"queued": 0, "running": 0, "scored": 6, "failed": 0}
        assert [i["transcript_id"] for i in status["items"]] == [f"b{n}" for n in range(6)]
        assert all(i["assessment_id"] for i in status["items"])
        assert client.get(f"/v1/assessments/{status['items'][0]['assessment_id']}").json()["status"] == "scored"
        paged = client.get(f"/v1/batches/{body['id']}", params={"limit": 4}).json()
        rest = client.get(f"/v1/batches/{body['id']}", params={"limit": 4, "cursor": paged["next_cursor"]}).json()
        assert len(paged["items"]) == 4 and len(rest["items"]) == 2 and rest["next_cursor"] is None

        # re-sending is idempotent: only the new call costs a model call
        calls = len(scripted_llm.requests)
        again = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(7)]}).json()
        assert again["new_jobs"] == 1
        _wait_done(client, again["id"])
        assert len(scripted_llm.requests) == calls + 1
        # the same calls again, all finished before: done at once
        instant = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(3)]}).json()
        assert instant["status"] == "done" and instant["new_jobs"] == 0

        deadline = time.monotonic() + 10
        while not hooks.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hooks.received and hooks.received[0]["id"] == body["id"]
        assert hooks.received[0]["counts"]["scored"] == 6 and hooks.received[0]["status"] == "done"
        assert client.get(f"/v1/batches/{body['id']}").json()["webhook_outcome"].startswith("HTTP 204")
        metrics = client.get("/metrics").text
        assert 'iceberg_batch_queue_depth{state="queued"} 0.0' in metrics
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AssessmentRow)) == 7  # one per call, never two


def test_bad_input_is_named_and_nothing_is_queued(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    lines = [json.dumps(_call(1), ensure_ascii=False), '{"id": "x", "agent_id": "A1", "turns": []}', "not json",
             json.dumps(_call(2), ensure_ascii=False)]
    with live_server(create_app(context, workers=True)) as url, api_client(url, context) as client:
        bad = client.post("/v1/batches", content="\n".join(lines).encode(),
                          headers={"Content-Type": "application/x-ndjson"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        detail = bad.json()["detail"]
        assert "2 bad transcript(s), nothing was queued" in detail and "line 2: field turns" in detail
        assert "line 3:" in detail
        doubled = client.post("/v1/batches", json={"transcripts": [_call(1), _call(1)]})
        assert doubled.status_code == 422 and "'b1'" in doubled.json()["detail"]
        empty = client.post("/v1/batches", json={"transcripts": []})
        assert empty.status_code == 422 and "transcripts" in empty.json()["detail"]
        garbage = client.post("/v1/batches", content=b"{oops", headers={"Content-Type": "application/json"})
        assert garbage.status_code == 422 and "not JSON" in garbage.json()["detail"]
        assert client.get("/v1/batches/nope").status_code == 404

        good = client.post("/v1/batches", content="\n".join([lines[0], lines[3]]).encode(),
                           headers={"Content-Type": "application/x-ndjson"})
        assert good.status_code == 202 and good.json()["total"] == 2
        assert _wait_done(client, good.json()["id"])["counts"]["scored"] == 2
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BatchRow)) == 1


def test_a_failed_call_is_recorded_and_a_resend_retries_it(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    broken = {"on": True}

    def handler(request: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if broken["on"] and "坏掉" in request["messages"][-1]["content"]:
            return 500, {"error": {"message": "boom"}}, {}
        return 200, completion(answer_from_schema(request)), {}

    scripted_llm.handler = handler
    with live_server(create_app(context, workers=True)) as url, api_client(url, context) as client:
        first = client.post("/v1/batches", json={"transcripts": [_call(1), _call(2, "坏掉的通话")]}).json()
        status = _wait_done(client, first["id"])
        failed = next(i for i in status["items"] if i["transcript_id"] == "b2")
        assert failed["state"] == "failed" and "InternalServerError" in failed["error"] and "boom" in failed["error"]
        assert status["counts"]["scored"] == 1
        broken["on"] = False
        retry = client.post("/v1/batches", json={"transcripts": [_call(2, "坏掉的通话")]}).json()
        assert retry["new_jobs"] == 0 and retry["status"] == "queued"
        assert _wait_done(client, retry["id"])["items"][0]["state"] == "scored"


def _platform_key(data_dir: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(ServiceContext(Settings(data_dir=data_dir)), 'platform')}"}


def _serve(data_dir: Path, scripted: ScriptedLLM, port: int) -> subprocess.Popen[bytes]:
    return start_serve(data_dir, scripted.api_base, port, workers=4, lease_s=2)


def test_kill_9_mid_batch_loses_and_duplicates_nothing(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    scripted_llm.delay_s = 0.2
    port = free_port()
    headers = _platform_key(tmp_path / "data")
    server = _serve(tmp_path / "data", scripted_llm, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
            batch = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(40)]}).json()
            deadline = time.monotonic() + 60
            while client.get(f"/v1/batches/{batch['id']}").json()["counts"]["scored"] < 10:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        server.send_signal(signal.SIGKILL)  # mid-batch: some calls are in flight at the model
        server.wait(10)
        server = _serve(tmp_path / "data", scripted_llm, port)
        with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
            status = _wait_done(client, batch["id"], timeout_s=120)
        assert status["counts"] == {"queued": 0, "running": 0, "scored": 40, "failed": 0}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    ctx = ServiceContext(Settings(data_dir=tmp_path / "data"))
    with ctx.sessions() as session:
        per_transcript = session.execute(select(AssessmentRow.transcript_id, func.count())
                                         .group_by(AssessmentRow.transcript_id)).all()
        assert len(per_transcript) == 40 and all(count == 1 for _, count in per_transcript)
        assert session.scalar(select(func.count()).select_from(JobRow).where(JobRow.state != "scored")) == 0
        retried = session.scalar(select(func.count()).select_from(JobRow).where(JobRow.attempts > 1))
    # the calls in flight at the kill were taken again after their lease ran out: at most one per worker
    assert 40 <= len(scripted_llm.requests) <= 40 + 4 and retried <= 4


def test_a_slow_model_keeps_its_lease(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    """A call longer than the lease is renewed, not taken by a second worker."""
    scripted_llm.delay_s = 2.5
    context.settings.batch_lease_s = 0.9
    context.settings.batch_workers = 3
    with live_server(create_app(context, workers=True)) as url, api_client(url, context) as client:
        batch = client.post("/v1/batches", json={"transcripts": [_call(1)]}).json()
        status = _wait_done(client, batch["id"], timeout_s=30)
    assert status["items"][0]["attempts"] == 1 and len(scripted_llm.requests) == 1


def test_idle_workers_find_work_queued_elsewhere(context: ServiceContext, scripted_llm: ScriptedLLM) -> None:
    """Work queued without waking this pool, as another process or machine queues it, is found by the pool's
    watcher within its poll, not after the idle workers' own 5 s wait."""
    pool = WorkerPool(context, 2, lease_s=30, idle_s=0.1).start()
    try:
        time.sleep(0.5)  # both workers found the queue empty and wait
        with context.sessions.begin() as session:
            queue.enqueue_batch(session, [Transcript.model_validate(_call(1))], None)
        queued = time.monotonic()
        while pool.processed < 1:
            assert time.monotonic() - queued < 3, "the idle workers did not see the queued job"
            time.sleep(0.02)
    finally:
        pool.stop()
    assert len(scripted_llm.requests) == 1


def test_worker_processes_beside_the_server_share_the_queue(scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    """ICEBERG_BATCH_PROCESSES=2: `iceberg serve` starts a second worker process; both score jobs, each job once,
    and the child stops with the server."""
    scripted_llm.delay_s = 0.3
    port = free_port()
    data = tmp_path / "data"
    headers = _platform_key(data)
    server = start_serve(data, scripted_llm.api_base, port, workers=4, lease_s=10, processes=2)
    log = data / "logs" / "worker-1.log"
    try:
        deadline = time.monotonic() + 60
        while "2 worker(s) scoring" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the second worker process did not start"
            time.sleep(0.1)
        children = [int(c) for c in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=headers) as client:
            batch = client.post("/v1/batches", json={"transcripts": [_call(n) for n in range(24)]}).json()
            status = _wait_done(client, batch["id"], timeout_s=120)
        assert status["counts"]["scored"] == 24
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert len(children) == 1
    deadline = time.monotonic() + 30
    while Path(f"/proc/{children[0]}").exists() and "zombie" not in Path(f"/proc/{children[0]}/status").read_text():
        assert time.monotonic() < deadline, "the worker process outlived the server"
        time.sleep(0.1)
    ctx = ServiceContext(Settings(data_dir=data))
    with ctx.sessions() as session:
        owners = session.scalars(select(JobRow.lease_owner)).all()
        assert session.scalar(select(func.count()).select_from(AssessmentRow)) == 24 == len(scripted_llm.requests)
    pids = {owner.split(":")[1] for owner in owners}
    assert pids == {str(server.pid), str(children[0])}  # both processes scored


def test_worker_processes_are_not_started_beside_the_bundled_model(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """The bundled model uses every core already: ICEBERG_BATCH_PROCESSES is ignored, and the log says so."""
    ctx = ServiceContext(Settings(data_dir=tmp_path, batch_processes=2, batch_workers=2))
    with caplog.at_level("WARNING", logger="iceberg.worker"):
        pool = ctx.start_workers()
    try:
        assert pool.workers == 2 and ctx._processes is None
        assert "ICEBERG_BATCH_PROCESSES=2 ignored" in caplog.text
    finally:
        ctx.stop_workers()
