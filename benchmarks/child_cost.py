"""What one submission's child costs the sandbox, from clone to reaped, with nothing run in it.

    python benchmarks/child_cost.py [N]

A warm worker (numpy imported, `sandbox.prepare_worker` done, as a zygote) clones N children with
each set of namespace flags the sandbox could use; each child exits at once, or first walls itself
in (`sandbox.enter`: fresh /proc, /tmp and working folder, chroot, limits, uid). Prints the wall
time per child and the CPU time it cost. Needs what isolation needs (root, or user namespaces).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy  # noqa: E402,F401  (the worker's preload: what each child's page tables copy)

from grader import sandbox  # noqa: E402

VARIANTS = {
    "fork": None,
    "new pid namespace": sandbox.CLONE_NEWPID,
    "+ mount": sandbox.CLONE_NEWPID | sandbox.CLONE_NEWNS,
    "+ IPC and UTS (the sandbox's)": sandbox.CLONE_NEWPID | sandbox.CLONE_NEWNS | sandbox.CLONE_NEWIPC | sandbox.CLONE_NEWUTS,
}


def clone(flags: int | None) -> int:
    if flags is None:
        return os.fork()
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = sandbox._libc.syscall(sandbox._SYS_CLONE, ctypes.c_ulong(flags | signal.SIGCHLD), None, None, None, None)
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    return pid


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    reason = sandbox.unavailable_reason()
    if reason:
        sys.exit(f"no isolation here: {reason}")
    root = Path(tempfile.mkdtemp())
    sandbox.prepare_worker(root)
    print(f"{'children':44s} {'ms a child':>10s} {'child CPU ms':>13s} {'parent CPU ms':>14s}")
    for walled in (False, True):
        for name, flags in VARIANTS.items():
            if walled and not (flags and flags & sandbox.CLONE_NEWNS):
                continue
            before, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            for _ in range(n):
                pid = clone(flags)
                if pid == 0:
                    try:
                        if walled:
                            sandbox.enter(sandbox.Policy(), [], root)
                    finally:
                        os._exit(0)
                os.waitpid(pid, 0)
            wall = (time.perf_counter() - started) / n * 1000
            after, own_after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
            child = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / n * 1000
            parent = (own_after.ru_utime + own_after.ru_stime - own.ru_utime - own.ru_stime) / n * 1000
            label = name + (", walled in" if walled else "")
            print(f"{label:44s} {wall:10.2f} {child:13.2f} {parent:14.2f}")


if __name__ == "__main__":
    main()
