"""The grader's side of the workers: start them with a clean environment, hand out requests, replace the dead."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
from pathlib import Path
from typing import Any

WORKER_ENV_KEEP = ("PATH", "LANG", "LC_ALL")


def worker_env(cache_dir: Path) -> dict[str, str]:
    """None of the grader's own variables (tokens, credentials) reach a worker, hence no student."""
    env = {k: os.environ[k] for k in WORKER_ENV_KEEP if k in os.environ}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg",
               MPLCONFIGDIR=str(cache_dir / "matplotlib"), HOME=str(cache_dir))
    return env


class Worker:
    def __init__(self, slot: int, work_dir: Path, isolate: bool) -> None:
        self.slot = slot
        self.work_dir = work_dir
        self.isolate = isolate
        self.process: subprocess.Popen[str] | None = None
        self.ready = False

    def start(self) -> None:
        """Start the worker process; it preloads in the background until the first request."""
        log = open(self.work_dir / f"worker-{self.slot}.log", "a")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.worker", "--slot", str(self.slot), *(["--isolate"] if self.isolate else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.work_dir,
            env=worker_env(self.work_dir),
        )
        log.close()
        self.ready = False

    def _wait_ready(self) -> None:
        if not self.process.stdout.readline():
            raise RuntimeError(f"a grading worker failed to start; see {self.work_dir / f'worker-{self.slot}.log'}")
        self.ready = True

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """One request and its answer; a worker that dies is replaced and the request is reported lost."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        if not self.ready:
            self._wait_ready()
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.stop()
            return {"id": message.get("id"), "frames": [], "killed": "the grading worker died while running this submission", "exit": -1}
        return json.loads(line)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream:
                    stream.close()
            self.process = None


class Pool:
    """`jobs` workers; `request` blocks until one is free. Use as a context manager."""

    def __init__(self, jobs: int, work_dir: Path, isolate: bool) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.workers = [Worker(slot, work_dir, isolate) for slot in range(jobs)]
        for worker in self.workers:
            self.idle.put(worker)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        worker = self.idle.get()
        try:
            return worker.request(message)
        finally:
            self.idle.put(worker)

    def __enter__(self) -> "Pool":
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.stop()
