"""Extra ``iceberg worker`` processes beside ``iceberg serve``, for a model fast enough that one process is the
bottleneck.

Python runs one thread at a time in a process. A job costs the service some milliseconds of CPU (litellm's client,
the evidence check, the database writes), so one process keeps at most latency / CPU-per-job calls in flight, whatever
its thread count: against a 200 ms model that is about 15-25. Each extra process claims from the same durable
queue, so a crash of any of them loses nothing (its leases run out and the jobs are taken again).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from service.child_process import die_with_parent
from service.config import PROJECT_ROOT, Settings

log = logging.getLogger("iceberg.worker")


class WorkerProcesses:
    def __init__(self, settings: Settings, processes: int, threads_each: int) -> None:
        self.settings = settings
        self.processes = processes
        self.threads_each = threads_each
        self._children: list[subprocess.Popen[bytes]] = []

    def start(self) -> "WorkerProcesses":
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        # A child is a plain worker: it must not start processes of its own.
        env = {**os.environ, **self.settings.as_env(), "ICEBERG_BATCH_PROCESSES": "1"}
        for n in range(self.processes):
            with Path(logs / f"worker-{n + 1}.log").open("ab") as out:
                self._children.append(subprocess.Popen(
                    [sys.executable, "-m", "service.cli", "worker", "--workers", str(self.threads_each)],
                    cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent(),
                ))
        log.info("%d worker process(es) of %d threads beside this one; logs in %s", self.processes,
                 self.threads_each, logs)
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM: each child finishes the calls it has in flight and exits; killed if it takes longer."""
        for child in self._children:
            if child.poll() is None:
                child.terminate()
        for child in self._children:
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._children.clear()
