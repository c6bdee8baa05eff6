"""The grader's side of the sandbox: a zygote per slot, a job file and a named pipe per submission,
and the clock: a child silent for longer than a cell's limit, or past the submission's limit,
is killed with everything it started.
"""

from __future__ import annotations

import json
import math
import os
import queue
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from grader.zygote import PRELOADS

WORKER_ENV_KEEP = ("PATH", "LANG", "LC_ALL")
MAX_CHANNEL_BYTES = 64 * 2**20
GRACE_SECONDS = 2.0


def worker_env(cache_dir: Path) -> dict[str, str]:
    """None of the grader's own variables (tokens, credentials) reach a zygote, hence no student."""
    env = {k: os.environ[k] for k in WORKER_ENV_KEEP if k in os.environ}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg",
               MPLCONFIGDIR=str(cache_dir / "matplotlib"), HOME=str(cache_dir))
    return env


class Frames:
    """Length-prefixed JSON frames from the child, bounded in size; anything else marks the channel corrupt."""

    def __init__(self) -> None:
        self.buffer = b""
        self.total = 0
        self.frames: list[Any] = []
        self.corrupt = ""

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self.total > MAX_CHANNEL_BYTES:
            self.corrupt = f"the submission sent more than {MAX_CHANNEL_BYTES // 2**20} MB of results"
            return
        self.buffer += data
        while not self.corrupt:
            header, newline, rest = self.buffer.partition(b"\n")
            if not newline:
                if len(header) > 12:
                    self.corrupt = "the result channel was written to by something else"
                return
            if not header.isdigit() or len(header) > 12:
                self.corrupt = "the result channel was written to by something else"
                return
            size = int(header)
            if len(rest) < size:
                return
            try:
                self.frames.append(json.loads(rest[:size]))
            except (ValueError, RecursionError):
                self.corrupt = "the result channel carried data that is not JSON"
                return
            self.buffer = rest[size:]


def _kill(pidfd: int | None) -> None:
    """SIGKILL through a pidfd, so the signal can only reach the child even if its pid were reused."""
    if pidfd is None:
        return
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:  # it had already ended
        pass


def watch(pidfd: int | None, read_fd: int, limits: dict[str, float], started: float) -> tuple[Frames, str]:
    """Collect frames until every writer is gone; kill the child when it is quiet too long or runs past its time."""
    frames = Frames()
    quiet_limit = max(limits["cell_timeout"], limits["call_timeout"]) + GRACE_SECONDS
    deadline = started + limits["submission_timeout"]
    last = time.monotonic()
    killed = ""
    while True:
        now = time.monotonic()
        wait = min(deadline - now, last + quiet_limit - now)
        if wait <= 0 or frames.corrupt:
            killed = frames.corrupt or ("submission_timeout" if now >= deadline else "hung")
            _kill(pidfd)
            break
        ready, _, _ = select.select([read_fd], [], [], wait)
        if not ready:
            continue
        data = os.read(read_fd, 1 << 20)
        if not data:
            break
        last = time.monotonic()
        frames.feed(data)
    return frames, killed


class ZygoteError(RuntimeError):
    pass


class Zygote:
    """A zygote process (see zygote.py), with numpy, matplotlib or torch preloaded."""

    def __init__(self, slot: int, work_dir: Path, isolate: bool, preload: str) -> None:
        self.slot, self.work_dir, self.isolate, self.preload = slot, work_dir, isolate, preload
        self.process: subprocess.Popen[str] | None = None
        self.ready = False

    def start(self) -> None:
        """Start the process; it preloads in the background until the first command."""
        log = open(self.work_dir / f"worker-{self.slot}-{self.preload}.log", "a")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.zygote", "--slot", str(self.slot), "--preload", self.preload,
             *(["--isolate"] if self.isolate else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.work_dir,
            env=worker_env(self.work_dir),
        )
        log.close()
        self.ready = False

    def send(self, command: dict[str, Any]) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()
        if not self.ready:
            if not self.process.stdout.readline():
                raise ZygoteError(f"it failed to start; see the logs in {self.work_dir}")
            self.ready = True
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def reply(self, key: str) -> int:
        line = self.process.stdout.readline()
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if type(reply) is not dict or type(reply.get(key)) is not int:
            raise ZygoteError(f"the grading worker answered {line[:80]!r} where it should say {key!r}")
        return reply[key]

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream:
                    stream.close()
            self.process = None


class Worker:
    """One slot: a zygote and its own unprivileged uid, running one submission at a time."""

    def __init__(self, slot: int, work_dir: Path, isolate: bool, preload: str) -> None:
        self.slot = slot
        self.work_dir = work_dir
        self.zygote = Zygote(slot, work_dir, isolate, preload)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run one submission; a zygote that dies or misbehaves is replaced and the submission reported lost."""
        started = time.monotonic()
        job = self.work_dir / f"job-{self.slot}.json"
        channel = self.work_dir / f"channel-{self.slot}"
        job.write_text(json.dumps({"files": message["files"], "job": message["job"]}))
        channel.unlink(missing_ok=True)
        os.mkfifo(channel, 0o600)
        read_fd = os.open(channel, os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.zygote.send({"job": str(job), "channel": str(channel), "calls": message["calls"],
                              "policy": message["policy"]})
            pid = self.zygote.reply("pid")
            try:
                pidfd: int | None = os.pidfd_open(pid)
            except ProcessLookupError:  # it has already ended: nothing left to kill
                pidfd = None
            try:
                frames, killed = watch(pidfd, read_fd, message["job"]["limits"], started)
            finally:
                if pidfd is not None:
                    os.close(pidfd)
            status = self.zygote.reply("exit")
        except (ZygoteError, BrokenPipeError, OSError) as exc:
            self.zygote.stop()
            return {"id": message["id"], "frames": [], "exit": -1,
                    "killed": f"the grading worker died while running this submission ({exc})"}
        finally:
            os.close(read_fd)
            channel.unlink(missing_ok=True)
            job.unlink(missing_ok=True)
        return {"id": message["id"], "frames": frames.frames, "killed": killed, "exit": status,
                "seconds": time.monotonic() - started}

    def stop(self) -> None:
        self.zygote.stop()


def slots(jobs: int, counts: dict[str, int]) -> dict[str, int]:
    """Slots per kind of worker (see PRELOADS) for `counts` hand-ins of each kind: in proportion to
    its hand-ins, rounded, and at least one for a kind that has any, so a kind with few hand-ins never
    waits behind the others (the total may pass `jobs` by one slot per extra kind)."""
    total = sum(counts.values())
    return {kind: max(1, round(jobs * counts[kind] / total)) for kind in PRELOADS if counts.get(kind)}


class Pool:
    """Slots of each kind of worker that the hand-ins need: numpy only, with matplotlib, with torch.

    Forking a worker costs in proportion to what it has loaded, so each hand-in runs in the lightest
    worker that has what it names (runner.preload_for). The torch workers start once the grader's own
    start-up is done, while the others already work. `request` blocks until a slot of the right kind
    is free.
    """

    def __init__(self, counts: dict[str, int], work_dir: Path, isolate: bool) -> None:
        work_dir = work_dir.absolute()  # the zygotes run in it and are handed paths of files in it
        work_dir.mkdir(parents=True, exist_ok=True)
        kinds = [kind for kind in PRELOADS for _ in range(counts.get(kind, 0))]
        self.workers = [Worker(slot, work_dir, isolate, kind) for slot, kind in enumerate(kinds)]
        self.idle: dict[str, queue.Queue[Worker]] = {kind: queue.Queue() for kind in set(kinds)}
        for worker in self.workers:
            self.idle[worker.zygote.preload].put(worker)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run it in a worker of its kind, or of the next heavier kind this pool has."""
        wanted = PRELOADS.index(message["preload"])
        kind = next((k for k in PRELOADS[wanted:] if k in self.idle), max(self.idle, key=PRELOADS.index))
        worker = self.idle[kind].get()
        try:
            return worker.request(message)
        finally:
            self.idle[kind].put(worker)

    def __enter__(self) -> "Pool":
        for worker in self.workers:
            if worker.zygote.preload != "torch":
                worker.zygote.start()
        return self

    def start_torch(self) -> None:
        """Start the torch zygotes; called once the grader's own start-up no longer needs the cores."""
        for worker in self.workers:
            if worker.zygote.preload == "torch" and worker.zygote.process is None:
                worker.zygote.start()

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.stop()
