"""A preloaded worker (a zygote): imports numpy, matplotlib and, when needed, torch once, then forks
a sandboxed child per submission and watches it.

Run as `python -I -m grader.worker --slot N` by the pool. It reads one JSON request per line on
stdin and answers one JSON line on stdout. No student code ever runs in this process: it runs in
the grandchild, pid 1 of fresh namespaces, which reports on a pipe in length-prefixed frames.
The worker enforces time: a child silent for longer than a cell's limit, or past the
submission's limit, is killed with everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy

from grader import child, codec, sandbox

MAX_CHANNEL_BYTES = 64 * 2**20
GRACE_SECONDS = 2.0


def _preload_plotting() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


def _preload_torch() -> None:
    import torch

    torch.set_num_threads(1)
    import grader.fixtures

    # torch initialises much lazily on first use; do it once here, not in every child
    model = grader.fixtures.make_model(0)
    with torch.no_grad():
        model(torch.zeros(2, 1, 28, 28)).softmax(dim=1).numpy()
    torch.tensor(numpy.zeros(2)).numpy()


class Calls:
    """Hidden inputs per function, decoded once per worker and shared by every forked child.

    Inputs that hold torch objects are decoded here only once torch is loaded; before that they
    are decoded in the child, and only if the student defines the function that takes them, so
    a worker without torch stays light and cheap to fork.
    """

    def __init__(self) -> None:
        self._encoded: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._decoded: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def for_job(self, path: str | None) -> dict[str, Any]:
        if not path:
            return {}
        if path not in self._encoded:
            self._encoded[path] = json.loads(Path(path).read_text())
        calls: dict[str, Any] = {}
        for name, cases in self._encoded[path].items():
            if (path, name) in self._decoded or not codec.needs_torch(cases) or "torch" in sys.modules:
                if (path, name) not in self._decoded:
                    self._decoded[path, name] = [codec.decode_args(c) for c in cases]
                calls[name] = self._decoded[path, name]
            else:
                calls[name] = lambda cases=cases: [codec.decode_args(c) for c in cases]
        return calls


def _sandboxed_child(request: dict[str, Any], calls: dict[str, Any], policy: sandbox.Policy, write_fd: int, root: Path) -> None:
    """Runs in the spawned child (pid 1 of its namespaces when isolated); never returns."""
    channel = child.Channel(write_fd)
    try:
        sandbox.die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        sandbox.enter(policy, [tuple(f) for f in request["files"]], root)
    except BaseException as exc:  # the sandbox could not be built: report, run nothing
        channel.send({"t": "sandbox_error", "message": f"{type(exc).__name__}: {exc}"})
        os._exit(71)
    try:
        child.run_job(channel, request["job"], calls)
    finally:
        os._exit(0)


class Frames:
    """Reads length-prefixed JSON frames from the child, bounded in size."""

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
            if not header.isdigit():
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


def _watch(pid: int, read_fd: int, limits: dict[str, float], started: float) -> tuple[Frames, str]:
    """Collect frames until the child ends; kill it when it goes quiet too long or runs past its time."""
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
            os.kill(pid, 9)
            break
        ready, _, _ = select.select([read_fd], [], [], wait)
        if not ready:
            continue
        data = os.read(read_fd, 1 << 20)
        if not data:
            break
        last = time.monotonic()
        frames.feed(data)
    os.close(read_fd)
    return frames, killed


def run(request: dict[str, Any], calls: Calls, scratch: Path, template: Path | None, slot: int) -> dict[str, Any]:
    started = time.monotonic()
    policy = sandbox.Policy(**request["policy"], uid=60000 + slot)
    if policy.isolate != (template is not None):
        raise RuntimeError("a request's isolation does not match the worker's")
    if request.get("torch"):
        _preload_torch()
    job_calls = calls.for_job(request.get("calls"))
    read_fd, write_fd = os.pipe()
    root = template or Path(tempfile.mkdtemp(dir=scratch))
    pid = sandbox.spawn(policy.isolate)
    if pid == 0:
        os.close(read_fd)
        _sandboxed_child(request, job_calls, policy, write_fd, root)
    os.close(write_fd)
    frames, killed = _watch(pid, read_fd, request["job"]["limits"], started)
    _, status = os.waitpid(pid, 0)
    if template is None:
        _remove(root)
    return {"id": request["id"], "frames": frames.frames, "killed": killed,
            "exit": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - started}


def _remove(root: Path) -> None:
    """Without isolation, the copy of the hand-in sits in a temporary folder of the host."""
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slot", type=int, default=0)
    parser.add_argument("--isolate", action="store_true")
    args = parser.parse_args()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints from libraries never reach the protocol
    _preload_plotting()
    calls = Calls()
    with tempfile.TemporaryDirectory(prefix="grader-sandbox-") as scratch:
        template = None
        if args.isolate:
            template = Path(scratch) / "root"
            template.mkdir()
            sandbox.prepare_worker(template)
        protocol.write(json.dumps({"ready": True}) + "\n")
        for line in sys.stdin:
            request = json.loads(line)
            try:
                answer = run(request, calls, Path(scratch), template, args.slot)
            except Exception as exc:  # the worker itself failed on this request: say so, stay alive
                answer = {"id": request.get("id"), "frames": [], "killed": f"worker error: {type(exc).__name__}: {exc}", "exit": -1}
            protocol.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
