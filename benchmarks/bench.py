"""Grading speed and memory: `grader run` on N synthetic HW3 problem-3 notebooks, beside the floor
(exec of every notebook's cells in one warm process, no isolation) and, when asked, beside
nbgrader and otter-grader on the same notebooks (see peers.py; they install into their own
environment, never into the project's).

    python benchmarks/bench.py --n 1000                 # grader vs the floor
    python benchmarks/bench.py --n 1000 --peers nbgrader otter --peer-n 20

`grader run` runs twice, into two output folders, with a cache of expected values of its own: the
first run computes them (as on a fresh machine), the second finds them (as every later run does).
Prints a table: total time, time per notebook, peak memory (PSS of the whole process tree,
sampled every 250 ms), and the ratios the targets are stated in (to the second run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = """import numpy as np
W = np.array([[1., -1.], [0., 2.]]); U = np.array([[-1., 0.], [1., -2.]]); V = np.array([[-2., 1.], [-1., 0.]])
b = np.array([-1., 1.]); c = np.array([1., 0.]); xs = np.array([[1., 0.], [0.5, 0.25], [0., 1.]]); eps = 1e-4
"""
FORWARD = """def forward(b):
    h = np.zeros(2); ys = []
    for x in xs:
        h = np.tanh(b + W @ h + U @ x); o = c + V @ h; e = np.exp(o - o.max()); ys.append(e / e.sum())
    return np.array(ys)

def rnn_total(b):
    y = forward(b)
    return float(np.sum((y[:, 0] - 0.5) ** 2 - np.log(y[:, 1])))

y_hat = forward(b)
loss = rnn_total(b)
"""
GRADIENT = """loss_b_minus = np.array([rnn_total(b - eps * e) for e in np.eye(2)])
loss_b_plus = np.array([rnn_total(b + eps * e) for e in np.eye(2)])
grad_b_fd = (loss_b_plus - loss_b_minus) / (2 * eps)
grad_b_bptt = grad_b_fd.copy()
"""
STEP = "b_new = b {sign} 0.01 * grad_b_bptt\nloss_new = rnn_total(b_new)\n"
MIXES = {  # name: {kind: (share of the class, extra cell placed after the forward pass)}
    "realistic": {
        "correct": (0.70, ""),
        "wrong": (0.12, ""),
        "crashing": (0.08, "raise ValueError('a stale cell that fails')"),
        "slow": (0.05, "import time\ntime.sleep(0.2)"),
        "torch": (0.05, "import torch\ny_hat = torch.tensor(y_hat).numpy()"),
    },
    "numpy": {  # the problem-3 notebooks of the figures: numpy only, none slow
        "correct": (0.80, ""),
        "wrong": (0.12, ""),
        "crashing": (0.08, "raise ValueError('a stale cell that fails')"),
    },
}
KINDS = MIXES["realistic"]


def notebook(kind: str, index: int) -> dict:
    cells = [SPEC, f"# student {index}\n" + FORWARD]
    if KINDS[kind][1]:
        cells.append(KINDS[kind][1])
    cells += [GRADIENT, STEP.format(sign="+" if kind == "wrong" else "-")]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": source} for i, source in enumerate(cells)]}


def generate(folder: Path, n: int) -> list[Path]:
    """N notebooks in `folder/cap5619-hw3/sNNNN/hw3.ipynb`, kinds in the shares of KINDS."""
    paths = []
    kinds = [k for k, (share, _) in KINDS.items() for _ in range(round(share * 100))]
    for i in range(n):
        path = folder / "cap5619-hw3" / f"s{i:04d}" / "hw3.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(notebook(kinds[i % len(kinds)], i)))
        paths.append(path)
    return paths


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_measured(command: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time and peak PSS of the command's whole process tree."""
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss(p) for p in _tree(process.pid)))
            done.wait(0.25)  # sampling costs CPU (smaps of every process): every 50 ms took 20% of the run

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak, subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


FLOOR = """
import json, sys, time
started = time.perf_counter()
import numpy
paths = sys.argv[1:]
warm = time.perf_counter()
for path in paths:
    namespace = {}
    for cell in json.load(open(path))["cells"]:
        try:
            exec(compile("".join(cell["source"]), path, "exec"), namespace)
        except Exception:
            pass
print(json.dumps({"warm": time.perf_counter() - warm, "total": time.perf_counter() - started}))
"""


def floor(paths: list[Path]) -> dict[str, float]:
    """The no-isolation floor: every notebook's cells exec'd in one warm process (slow cells included)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", FLOOR, *map(str, paths)], capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    figures["wall"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="notebooks to generate (default 1000)")
    parser.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1), help="as grader run's default")
    parser.add_argument("--peers", nargs="*", default=[], choices=["nbgrader", "otter"], help="also time these")
    parser.add_argument("--peer-n", type=int, default=20, help="notebooks given to each peer (they are slow)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--mix", choices=sorted(MIXES), default="realistic", help="kinds of notebooks (default realistic)")
    args = parser.parse_args()
    global KINDS
    KINDS = MIXES[args.mix]

    folder = args.keep or Path(tempfile.mkdtemp(prefix="grader-bench-"))
    paths = generate(folder / "hand-ins", args.n)
    # a cache of expected values of its own: the first run computes them as on a fresh machine; the
    # second, into another output folder, finds them as every later run of a TA does
    os.environ["GRADER_CACHE"] = str(folder / "reference-cache")
    measured = []
    for out in ("out", "out-again"):
        grader = [sys.executable, "-m", "grader.cli", "run", str(folder / "hand-ins"), "--out", str(folder / out),
                  "--jobs", str(args.jobs), "--no-cache"]
        seconds, peak, completed = run_measured(grader)
        if completed.returncode != 0:
            sys.exit(f"grader run failed:\n{completed.stderr[-3000:]}")
        measured.append((seconds, peak))
    results = json.loads((folder / "out" / "results.json").read_text())
    if results != json.loads((folder / "out-again" / "results.json").read_text()):
        sys.exit("the two grader runs disagree")
    floor_figures = floor(paths)
    (seconds, peak), (again, again_peak) = measured

    rows = [("grader run, first on the machine (isolated)", args.n, seconds, peak),
            ("grader run, expected values cached", args.n, again, again_peak),
            ("floor: exec in one process, start-up included", args.n, floor_figures["wall"], 0)]
    if args.peers:
        sys.path.insert(0, str(Path(__file__).parent))
        from peers import time_peers  # noqa: E402 - optional, and heavy to install

        sample = paths[:: max(len(paths) // args.peer_n, 1)][: args.peer_n]  # the same mix of kinds
        peer_figures = time_peers(sample, args.peers, ROOT / "benchmarks" / ".peers" / "env", folder / "peers")
        for name, figures in peer_figures.items():
            rows.append((name, figures["notebooks"], figures["total_seconds"], figures.get("peak_bytes", 0)))

    ours = again / args.n  # the ratios are to the usual run, with the expected values cached
    print(f"\n{args.n} HW3 problem-3 notebooks, {args.jobs} workers, {os.cpu_count()} cores; "
          f"mix: {', '.join(f'{k} {int(s * 100)}%' for k, (s, _) in KINDS.items())}")
    print(f"{'method':48} {'notebooks':>9} {'total s':>9} {'per nb ms':>10} {'peak MB':>8} {'vs grader':>10}")
    for name, n, total, memory in rows:
        per = total / n
        print(f"{name:48} {n:9d} {total:9.2f} {per * 1000:10.2f} {memory / 2**20:8.0f} {per / ours:9.1f}x")
    warm_floor = floor_figures["warm"] / args.n
    print(f"\nfloor after start-up: {warm_floor * 1000:.2f} ms a notebook; grader is {ours / warm_floor:.1f}x that "
          f"(start-up included: {again / floor_figures['wall']:.1f}x the floor's wall time; "
          f"{seconds / floor_figures['wall']:.1f}x on the machine's first run)")
    print(f"graded {len(results)} results, the same in both runs; full marks on "
          f"{sum(r['parts'][6]['status'] == 'correct' for r in results)} for part 3.1; "
          f"peak memory {max(peak, again_peak) / 2**20:.0f} MB")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
