"""Time nbgrader and otter-grader on the same HW3 problem-3 notebooks, to compare `grader run` with them.

    python benchmarks/peers.py NOTEBOOK_DIR [--which nbgrader otter otter-api] [--env DIR] [--work DIR]

Both peers are installed into their own virtual environment (`env_dir`), never into the project's:
they pull in Jupyter, SQLAlchemy, pandas, playwright..., and neither is a dependency of the grader or
its tests. Each peer checks the same values (CHECKS: the spec's expected values, the rubric's
tolerance) with one test cell or test file per value, so "fully correct" means the same thing for
both, and can be set beside `grader run`'s part scores. What is timed is the whole batch as a user
runs it, interpreter start-up and kernel starts included; setting up the course is not timed.

Methods (`which`):
  nbgrader   one `nbgrader autograde ASSIGNMENT --force` for all students;
  otter      one `otter run` process per notebook (no Docker), as otter documents for local grading;
  otter-api  `otter.api.grade_submission` for every notebook in one process (saves the imports).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python"
# Peers pinned so that figures taken on different days compare; no torch: the resolution is checked first.
# matplotlib because hand-ins start with `%matplotlib inline` / `import matplotlib` in the cell that imports
# numpy; without it every later cell fails and the peers would grade the environment, not the answers.
PACKAGES = ["nbgrader==0.9.6", "otter-grader==7.0.0", "numpy", "matplotlib"]
FORBIDDEN = ("torch", "nvidia-")  # a multi-GB CUDA stack that neither peer needs
ASSIGNMENT = "hw3"
RTOL, ATOL = 1e-6, 1e-8  # rubrics/cap5619-hw3.toml [defaults]: within expected ± (atol + rtol·|expected|)
CHECKS: dict[str, object] = {  # reference.rnn.spec_* (3.1, 3.2, 3.4, 3.5); one test per value
    "y_hat": [[0.9492160059666221, 0.050783994033377765], [0.9522199490891327, 0.04778005091086729],
              [0.9400112415719738, 0.05998875842802615]],
    "loss": 9.434827012614068,
    "grad_b_fd": [-0.08455436016241435, 0.5173342543329795],
    "b_new": [-0.9991544564035341, 0.994826657476499],
    "loss_new": 9.432067491382448,
}
Figures = dict[str, Any]  # one peer's row, made by `figures`
METHODS = {"nbgrader": "nbgrader autograde", "otter": "otter run", "otter-api": "otter grade_submission"}


class PeerError(RuntimeError):
    """A peer could not be installed or graded nothing; the message says which command and shows its log."""


def check_expression(name: str, expected: object) -> str:
    """A Python expression that is True when `name` has the expected shape and values (shape first)."""
    return (f"__import__('numpy').shape({name}) == {_shape(expected)!r} and bool(__import__('numpy').allclose("
            f"__import__('numpy').asarray({name}, dtype=float), {expected!r}, rtol={RTOL}, atol={ATOL}))")


def _shape(value: object) -> tuple[int, ...]:
    return (len(value), *_shape(value[0])) if isinstance(value, list) else ()


def ensure_env(env_dir: Path) -> Path:
    """Create the peers' venv once (reused while its marker names the same packages); return its bin/."""
    marker, bin_dir = env_dir / "peers-installed.txt", env_dir / "bin"
    if marker.is_file() and marker.read_text() == " ".join(PACKAGES):
        return bin_dir
    shutil.rmtree(env_dir, ignore_errors=True)
    report = env_dir / "resolution.json"
    steps = [[BASE_PYTHON, "-m", "venv", str(env_dir)],
             [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--dry-run", "--report", str(report), *PACKAGES],
             [str(bin_dir / "python"), "-m", "pip", "install", "-q", *PACKAGES]]
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise PeerError(f"installing the peers failed: {' '.join(step)}\n{done.stderr[-3000:]}")
        if "--dry-run" in step:  # refuse before downloading anything heavy
            names = [item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]]
            if heavy := [n for n in names if n.startswith(FORBIDDEN)]:
                raise PeerError(f"the peers would pull {heavy}; refusing to install ({' '.join(PACKAGES)})")
    marker.write_text(" ".join(PACKAGES))
    return bin_dir


def peer_environment(bin_dir: Path) -> dict[str, str]:
    """The peers' own tools first on PATH; `!pip install` in a student cell cannot reach any index
    (the grader does not run it either, and it must not install torch into the peers' venv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}", VIRTUAL_ENV=str(bin_dir.parent),
               PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", OPENBLAS_NUM_THREADS="1", JUPYTER_PLATFORM_DIRS="1")
    return env


def run_measured(command: list[str], cwd: Path, env: dict[str, str], log: Path,
                 timeout: float) -> tuple[float, int, int]:
    """(seconds, return code, max RSS in bytes) of one command. wait4 gives the rusage of this child's
    tree alone (its largest single process, reaped descendants included), unlike RUSAGE_CHILDREN,
    which also remembers whatever else this process ran before."""
    with open(log, "ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        reaped: list[tuple[int, int, resource.struct_rusage]] = []
        waiter = threading.Thread(target=lambda: reaped.append(os.wait4(process.pid, 0)), daemon=True)
        waiter.start()
        try:
            waiter.join(timeout)
        finally:  # timed out or interrupted: kernels run in sessions of their own, but exit with their parent
            if waiter.is_alive():
                os.killpg(process.pid, signal.SIGKILL)
                waiter.join()
        seconds = time.perf_counter() - started
    _, status, usage = reaped[0]
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    return seconds, process.returncode, usage.ru_maxrss * 1024


def figures(name: str, notebooks: list[Path], seconds: float, peak: int, scores: list[list[bool]],
            errors: list[str]) -> Figures:
    """One peer's row: totals, what it graded (so it can be checked against `grader run`), failures.
    `scores[i]` holds notebook i's pass/fail per check, in CHECKS order; empty when it was not graded."""
    n = len(scores)
    return {"method": name, "notebooks": n, "graded": sum(bool(s) for s in scores), "total_seconds": seconds,
            "per_notebook_seconds": seconds / max(n, 1),
            "peak_bytes": peak, "peak_kind": "max RSS of the largest single process (wait4)",
            "fully_correct": sum(bool(s) and all(s) for s in scores),
            "checks_passed": {c: sum(bool(s) and s[i] for s in scores) for i, c in enumerate(CHECKS)},
            "failed": {str(p): [c for c, ok in zip(CHECKS, s, strict=True) if not ok] if s else ["not graded"]
                       for p, s in zip(notebooks, scores, strict=True) if not (s and all(s))},
            "errors": errors}


def code_cell(source: str, cell_id: str, nbgrader: dict[str, Any] | None = None) -> dict[str, Any]:
    """An nbformat 4.5 code cell (plain JSON: the project's nbformat is not needed here)."""
    return {"cell_type": "code", "id": cell_id, "execution_count": None, "outputs": [], "source": source,
            "metadata": {"nbgrader": nbgrader} if nbgrader else {}}


def nbgrader_course(notebooks: list[Path], bin_dir: Path, env: dict[str, str], course: Path) -> list[str]:
    """Course with one solution cell and a test cell per check; each hand-in is the released notebook
    with the solution cell holding the student's first code cell and their other code cells after it:
    autograde matches test cells by grade_id and restores them from the source, so hand-ins need the
    generated metadata."""
    shutil.rmtree(course, ignore_errors=True)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'peers'\n")
    answer = {"grade": False, "grade_id": "answer", "locked": False, "schema_version": 3, "solution": True,
              "task": False}
    cells = [code_cell("### BEGIN SOLUTION\npass\n### END SOLUTION", "answer", answer)]
    for name, expected in CHECKS.items():
        cells.append(code_cell(f"assert {check_expression(name, expected)}", f"test-{name}", {
            "grade": True, "grade_id": f"test_{name}", "locked": True, "points": 1, "schema_version": 3,
            "solution": False, "task": False}))
    source = {"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(source, indent=1))
    log = course / "setup.log"
    generate = [str(bin_dir / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"]
    _, code, _ = run_measured(generate, course, env, log, 300)
    if code != 0:
        raise PeerError(f"nbgrader generate_assignment failed:\n{log.read_text()[-3000:]}")
    released = (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    students = []
    for i, path in enumerate(notebooks):
        handin = json.loads(released)
        code_cells = student_code(path)
        handin["cells"][0]["source"] = code_cells[0] if code_cells else ""
        handin["cells"][1:1] = [code_cell(c, f"student-{k}") for k, c in enumerate(code_cells[1:])]
        students.append(f"s{i:04d}")
        folder = course / "submitted" / students[-1] / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(handin, indent=1))
    return students


GRADEBOOK = """import json, sys
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db") as gb:
    out = {}
    for student in sys.argv[1:]:
        try:
            nb = gb.find_submission_notebook("hw3", "hw3", student)
            out[student] = {g.name: g.score == g.max_score for g in nb.grades}
        except Exception:
            out[student] = {}
print(json.dumps(out))
"""


def time_nbgrader(notebooks: list[Path], bin_dir: Path, env: dict[str, str], work: Path) -> Figures:
    """One `nbgrader autograde` for the whole class, scores read back from its gradebook."""
    course = work / "nbgrader"
    students = nbgrader_course(notebooks, bin_dir, env, course)
    log = course / "autograde.log"
    seconds, code, peak = run_measured([str(bin_dir / "nbgrader"), "autograde", ASSIGNMENT, "--force"], course, env,
                                       log, 60 + 30 * len(notebooks))
    read = subprocess.run([str(bin_dir / "python"), "-c", GRADEBOOK, *students], cwd=course, env=env,
                          capture_output=True, text=True)
    if read.returncode != 0:
        raise PeerError(f"nbgrader autograde (exit {code}) left no readable gradebook:\n{log.read_text()[-3000:]}")
    graded = json.loads(read.stdout)
    scores = [[graded[s].get(f"test_{c}", False) for c in CHECKS] if graded[s] else [] for s in students]
    errors = [f"autograde exited {code}; see {log}"] if code != 0 else []
    errors += [f"{path}: not graded" for path, s in zip(notebooks, students, strict=True) if not graded[s]]
    return figures(METHODS["nbgrader"], notebooks, seconds, peak, scores, errors)


def otter_assignment(bin_dir: Path, env: dict[str, str], work: Path) -> Path:
    """tests/ with one OK-format test per check, zipped by `otter generate`; returns the zip."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "tests").mkdir(parents=True)
    for name, expected in CHECKS.items():
        case = {"code": f">>> {check_expression(name, expected)}\nTrue", "hidden": False, "locked": False}
        test = {"name": name, "points": 1,
                "suites": [{"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
        (work / "tests" / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n")
    log = work / "generate.log"
    _, code, _ = run_measured([str(bin_dir / "otter"), "generate", "-t", "tests", "-o", "autograder.zip", "--no-config",
                               "--no-requirements", "--no-environment"], work, env, log, 300)
    if code != 0:
        raise PeerError(f"otter generate failed:\n{log.read_text()[-3000:]}")
    return work / "autograder.zip"


def otter_scores(tests: list[dict[str, Any]]) -> list[bool]:
    """Per-check pass/fail from otter's results.json `tests` (Gradescope format; names may carry "(1/1)")."""
    passed = {t["name"].split(" ")[0]: t.get("score") == t.get("max_score") for t in tests}
    return [passed.get(c, False) for c in CHECKS] if passed else []


def time_otter_run(notebooks: list[Path], bin_dir: Path, env: dict[str, str], work: Path) -> Figures:
    """`otter run` once per notebook, as a user grading locally without Docker would."""
    zip_path, peak = otter_assignment(bin_dir, env, work / "otter-run"), 0
    runs: list[float] = []
    scores: list[list[bool]] = []
    errors: list[str] = []
    for i, path in enumerate(notebooks):
        out = zip_path.parent / "results" / f"{i:04d}"
        out.mkdir(parents=True)
        log = out / "run.log"
        command = [str(bin_dir / "otter"), "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(path.resolve())]
        seconds, code, rss = run_measured(command, zip_path.parent, env, log, 300)
        runs, peak = runs + [seconds], max(peak, rss)
        results = out / "results.json"
        scores.append(otter_scores(json.loads(results.read_text()).get("tests", [])) if results.is_file() else [])
        if code != 0 or not results.is_file():
            errors.append(f"{path}: otter run exited {code}; see {log}")
    return {**figures(METHODS["otter"], notebooks, sum(runs), peak, scores, errors), "run_seconds": runs}


OTTER_API = """import json, sys
from otter.api import grade_submission
for path in sys.argv[2:]:
    try:
        results = grade_submission(path, sys.argv[1], quiet=True)
        print(json.dumps({k: v.score == v.possible for k, v in results.results.items()}), flush=True)
    except Exception as error:
        print(json.dumps({"error": repr(error)}), flush=True)
"""


def time_otter_api(notebooks: list[Path], bin_dir: Path, env: dict[str, str], work: Path) -> Figures:
    """`otter.api.grade_submission` in a loop in one process: otter's cheapest path, imports paid once."""
    zip_path = otter_assignment(bin_dir, env, work / "otter-api")
    log = zip_path.parent / "api.log"
    seconds, code, peak = run_measured([str(bin_dir / "python"), "-c", OTTER_API, str(zip_path),
                                        *(str(p.resolve()) for p in notebooks)], zip_path.parent, env, log,
                                       60 + 60 * len(notebooks))
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    scores = [[line.get(c, False) for c in CHECKS] if "error" not in line else [] for line in lines]
    scores += [[]] * (len(notebooks) - len(scores))
    errors = [f"{p}: {line['error']}" for p, line in zip(notebooks, lines, strict=False) if "error" in line]
    errors += [f"grade_submission loop exited {code}; see {log}"] if code != 0 else []
    return figures(METHODS["otter-api"], notebooks, seconds, peak, scores, errors)


def student_code(path: Path) -> list[str]:
    """A hand-in's code cells (a .py file is one cell, as otter treats scripts)."""
    if path.suffix == ".py":
        return [path.read_text()]
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "code"]


def time_peers(notebooks: list[Path], which: list[str], env_dir: Path, work_dir: Path) -> dict[str, Figures]:
    """Grade the same notebooks with each peer in `which`; {method name: figures} (see `figures`).

    Installs the peers into `env_dir` on first use; `work_dir` holds the courses, logs and results
    (its nbgrader/, otter-run/ and otter-api/ are replaced). A peer that fails on some notebooks still
    reports (see `failed` and `errors`); one that grades none, or cannot be installed, raises PeerError.
    """
    if unknown := sorted(set(which) - set(METHODS)):
        raise PeerError(f"unknown peer {unknown} (known: {sorted(METHODS)})")
    if not notebooks:
        raise PeerError("no notebooks given")
    if missing := [str(p) for p in notebooks if not Path(p).is_file()]:
        raise PeerError(f"no such notebook: {missing[:3]}")
    bin_dir = ensure_env(Path(env_dir).resolve())
    env = peer_environment(bin_dir)
    work_dir = Path(work_dir).resolve()
    timers = {"nbgrader": time_nbgrader, "otter": time_otter_run, "otter-api": time_otter_api}
    out = {}
    for key in which:
        result = timers[key](list(notebooks), bin_dir, env, work_dir)
        if not result["graded"]:
            raise PeerError(f"{result['method']} graded none of the notebooks: {result['errors'][:3]}")
        out[result["method"]] = result
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", type=Path, help="a folder searched for *.ipynb (recursively), or one notebook")
    parser.add_argument("--which", nargs="+", default=["otter"], choices=sorted(METHODS))
    parser.add_argument("--env", type=Path, default=ROOT / "benchmarks" / ".peers" / "env")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".peers" / "work")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    paths = sorted(args.notebooks.rglob("*.ipynb")) if args.notebooks.is_dir() else [args.notebooks]
    if not paths:
        sys.exit(f"peers: no *.ipynb under {args.notebooks}")
    try:
        results = time_peers(paths, args.which, args.env, args.work)
    except PeerError as error:
        sys.exit(f"peers: {error}")
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{'method':24} {'notebooks':>9} {'total s':>8} {'per nb s':>8} {'peak MB':>8} {'fully correct':>13}")
    for r in results.values():
        print(f"{r['method']:24} {r['notebooks']:9d} {r['total_seconds']:8.2f} {r['per_notebook_seconds']:8.2f} "
              f"{r['peak_bytes'] / 2**20:8.0f} {r['fully_correct']:13d}")
        for problem in r["errors"]:
            print(f"  ! {problem}")


if __name__ == "__main__":
    main()
