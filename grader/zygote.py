"""The zygote: a process that preloads numpy and, for the hand-ins that name them, matplotlib or
matplotlib and torch, once, and then clones a sandboxed child per submission. Run as
`python -I -m grader.zygote` by the pool.

It never holds a student's data: its commands carry only paths and settings. The child itself
reads its job (this student's files and cells) from the job file, after it was cloned, so no
child can find another student's code or answers in the memory it was cloned from. The child
reports on a named pipe that the grader reads; the grader enforces time and kills the child
(pid 1 of its namespaces, so everything it started dies with it).

Protocol, one JSON object a line: the grader sends {"job", "channel", "calls", "policy"}; the zygote answers {"pid": N} once the child runs, then {"exit": status}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy

from grader import child, codec, sandbox

PRELOADS = ("numpy", "matplotlib", "torch")  # what a zygote loads, lightest first; each has all before it


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


def _sandboxed_child(command: dict[str, Any], calls: dict[str, Any], policy: sandbox.Policy, channel_fd: int,
                     root: Path) -> None:
    """Runs in the cloned child (pid 1 of its namespaces when isolated); never returns."""
    channel = child.Channel(channel_fd)
    try:
        sandbox.die_with_parent()
        request = json.loads(Path(command["job"]).read_text())
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        # nothing but the result channel stays open: not the zygote's pipes to the grader
        os.closerange(3, channel_fd)
        os.closerange(channel_fd + 1, 1 << 16)
        sandbox.enter(policy, [tuple(f) for f in request["files"]], root)
    except BaseException as exc:  # the sandbox could not be built: report, run nothing
        channel.send({"t": "sandbox_error", "message": f"{type(exc).__name__}: {exc}"})
        os._exit(71)
    try:
        child.run_job(channel, request["job"], calls)
    finally:
        os._exit(0)


def spawn(command: dict[str, Any], calls: Calls, template: Path | None, scratch: Path, slot: int) -> tuple[int, Path | None]:
    policy = sandbox.Policy(**command["policy"], uid=60000 + slot)
    job_calls = calls.for_job(command.get("calls"))
    channel_fd = os.open(command["channel"], os.O_WRONLY)  # the grader holds the reading end open
    scratch.mkdir(parents=True, exist_ok=True)
    scratch_root = None if template else Path(tempfile.mkdtemp(dir=scratch))
    pid = sandbox.spawn(policy.isolate)
    if pid == 0:
        _sandboxed_child(command, job_calls, policy, channel_fd, template or scratch_root)
    os.close(channel_fd)
    return pid, scratch_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slot", type=int, default=0)
    parser.add_argument("--isolate", action="store_true")
    parser.add_argument("--preload", choices=PRELOADS, default="numpy",
                        help="what to load besides numpy: matplotlib, or matplotlib and torch (see runner.preload_for)")
    args = parser.parse_args()
    sandbox.die_with_parent()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints from libraries never reach the protocol
    if args.preload != "numpy":
        _preload_plotting()
    if args.preload == "torch":
        _preload_torch()
    gc.freeze()  # what is loaded now stays put: children neither copy it on write nor scan it
    calls = Calls()
    scratch = Path.cwd() / f"sandbox-{args.slot}-{args.preload}"  # in the grader's work folder
    template = None
    if args.isolate:
        template = scratch / "root"  # a mount point in this zygote's own namespace; empty on the host
        template.mkdir(parents=True, exist_ok=True)
        sandbox.prepare_worker(template)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        pid, scratch_root = spawn(json.loads(line), calls, template, scratch, args.slot)
        protocol.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        if scratch_root:
            shutil.rmtree(scratch_root, ignore_errors=True)
        protocol.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")

if __name__ == "__main__":
    main()
