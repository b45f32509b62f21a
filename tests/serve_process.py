"""``iceberg serve`` in a process of its own against a scripted model: for the kill -9 test and the batch
benchmark, which must kill a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(data_dir: Path, api_base: str, port: int, workers: int, lease_s: float,
                processes: int = 1) -> subprocess.Popen[bytes]:
    """Start it and wait until ``/healthz`` answers; killed, with an error saying so, if it never does."""
    env = {**os.environ, "ICEBERG_DATA_DIR": str(data_dir), "ICEBERG_LLM_MODEL": "openai/scripted",
           "ICEBERG_LLM_API_BASE": api_base, "ICEBERG_LLM_API_KEY": "sk-test",
           "ICEBERG_BATCH_WORKERS": str(workers), "ICEBERG_BATCH_LEASE_S": str(lease_s),
           "ICEBERG_BATCH_PROCESSES": str(processes)}
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"iceberg serve did not answer /healthz on port {port} within 60 s")
