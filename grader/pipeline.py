"""Grading a folder of hand-ins: find them, run each in the sandbox, score it, write it down.

Each submission's result is written atomically to the cache as soon as it is graded, keyed by
its content, the rubric, the reference code and the grader's version; a run that is interrupted
and started again grades only what is not in the cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import grader
from grader import gradebook, report, sandbox
from grader.discover import Submission, discover
from grader.expected import Expected, compute_expected, shared_cache
from grader.pool import Pool, slots
from grader.results import SubmissionResult, remove_leftovers, write_atomic, write_results
from grader.rubric import Rubric
from grader.runner import RunOutcome, cpu_seconds, preload_for, run_submission
from grader.score import figure_file, score_submission
from grader.writeup import attach_written, read_answers


@dataclass(frozen=True)
class Options:
    out: Path
    jobs: int = 1
    isolate: bool = True
    use_cache: bool = True


def _reference_digest() -> str:
    digest = hashlib.sha256()
    folder = Path(sys.modules["reference"].__file__).parent
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(submission: Submission, rubric: Rubric, reference: str, options: Options) -> str:
    digest = hashlib.sha256()
    for text in (grader.__version__, reference, str(options.isolate), submission.student):
        digest.update(text.encode() + b"\0")
    digest.update(rubric.path.read_bytes())
    for path in submission.data_files():
        digest.update(str(path.relative_to(submission.folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _cells(outcome: RunOutcome) -> list[dict[str, object]]:
    return [vars(cell) for cell in outcome.cells]


def grade_one(pool: Pool, submission: Submission, rubric: Rubric, expected: Expected, options: Options,
              key: str, preload: str) -> SubmissionResult:
    started = time.monotonic()
    outcome = run_submission(pool, submission, rubric, expected.calls_file, expected.counts(), options.isolate,
                             preload)
    outline = read_answers(submission, rubric, expected.values, outcome)
    parts = score_submission(rubric, expected, outcome)
    if outline is not None:
        attach_written(parts, outline, submission)
    policy = sandbox.Policy(isolate=options.isolate, memory_mb=int(rubric.limits.memory_mb), cpu_seconds=cpu_seconds(rubric))
    return SubmissionResult(
        student=submission.student,
        assignment=submission.assignment,
        score=round(sum(p.score for p in parts), 2),
        max_score=rubric.max_score,
        parts=parts,
        files=[str(p.relative_to(submission.folder)) for p in submission.files + submission.writeups],
        cells=_cells(outcome),
        problems=[*submission.notes, *outcome.problems],
        sandbox=sandbox.describe(policy),
        seconds=round(time.monotonic() - started, 3),
        key=key,
    )


class Progress:
    """Progress on stderr: a bar on a terminal; otherwise a line per hand-in (every 5% for large runs)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.cached, self.stream = 0, 0, 0, stream
        self.started = time.monotonic()
        self.bar = stream.isatty()
        self.lock = threading.Lock()  # called from every worker thread

    def __call__(self, result: SubmissionResult, cached: bool) -> None:
        with self.lock:
            self._show(result, cached)

    def _show(self, result: SubmissionResult, cached: bool) -> None:
        self.done += 1
        self.cached += cached
        if self.bar:
            filled = int(30 * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                              f"({self.cached} cached) {time.monotonic() - self.started:.1f} s")
            if self.done == self.total:
                self.stream.write("\n")
        elif self.total <= 50 or self.done % max(self.total // 20, 1) == 0 or self.done == self.total:
            how = "cached" if cached else f"{result.seconds:.1f} s"
            self.stream.write(f"[{self.done}/{self.total}] {result.assignment}/{result.student}: "
                              f"{result.score:g}/{result.max_score:g} ({how})\n")
        self.stream.flush()


def grade_path(path: Path, rubrics: dict[str, Rubric], options: Options,
               progress: Progress | None = None) -> tuple[list[SubmissionResult], list[str]]:
    submissions, warnings = discover(path, set(rubrics))
    if progress:
        progress.total = len(submissions)
    cache_dir = options.out / ".cache"
    for folder in (options.out, shared_cache()):
        remove_leftovers(folder)
    reference = _reference_digest()
    keys = [cache_key(s, rubrics[s.assignment], reference, options) for s in submissions]
    results: list[SubmissionResult | None] = [None] * len(submissions)
    todo = []
    for index, key in enumerate(keys):
        cached = cache_dir / f"{key}.json"
        if options.use_cache and cached.exists():
            results[index] = SubmissionResult.from_dict(json.loads(cached.read_text()))
            report.write_student_page(options.out, results[index], rubrics[submissions[index].assignment])
            if progress:
                progress(results[index], True)
        else:
            todo.append(index)
    if todo:
        work_dir = options.out / ".work"
        preloads = {i: preload_for(submissions[i]) for i in todo}
        # the zygotes preload while the expected values are read or computed; each kind of hand-in
        # has slots of its own, so none waits behind another
        counts = slots(options.jobs, Counter(preloads.values()))
        # one thread more than slots: while one thread scores and writes a result, another already has
        # its slot running the next hand-in (more threads only fight over the GIL: twice as many
        # measured 10-20% slower, in futex calls)
        executors = {kind: ThreadPoolExecutor(n + 1) for kind, n in counts.items()}
        with Pool(counts, work_dir, options.isolate) as pool:
            needed = {submissions[i].assignment for i in todo}
            with ThreadPoolExecutor(len(needed)) as children:  # each assignment's reference in a process of its own
                expected = dict(zip(sorted(needed), children.map(
                    lambda a: compute_expected(rubrics[a], shared_cache(), reference, in_child=True),
                    sorted(needed))))
            pool.start_torch()

            def work(index: int) -> SubmissionResult:
                submission = submissions[index]
                result = grade_one(pool, submission, rubrics[submission.assignment],
                                   expected[submission.assignment], options, keys[index], preloads[index])
                write_atomic(cache_dir / f"{keys[index]}.json", json.dumps(result.to_dict()))
                report.write_student_page(options.out, result, rubrics[submission.assignment])
                if progress:
                    progress(result, False)
                return result

            try:
                futures = {i: executors[preloads[i]].submit(work, i) for i in todo}
                for index, future in futures.items():
                    results[index] = future.result()
            finally:
                for executor in executors.values():
                    executor.shutdown(cancel_futures=True)
    return [r for r in results if r is not None], warnings


def write_reference_figures(out: Path, results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> None:
    """Each part's reference figure as a PNG file beside the pages that show it (see score.figure_file)."""
    reference = _reference_digest()
    for assignment in sorted({r.assignment for r in results}):
        rubric = rubrics[assignment]
        if not any(part.figure for part in rubric.parts):
            continue
        figures = compute_expected(rubric, shared_cache(), reference, in_child=True).figures
        for part in rubric.parts:
            if part.figure in figures:
                path = out / assignment / figure_file(part)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(base64.b64decode(figures[part.figure]))


def write_outputs(results: list[SubmissionResult], rubrics: dict[str, Rubric], out: Path) -> None:
    """The class-wide outputs (each student's page is written as soon as their result is known)."""
    write_results(out / "results.json", results)
    write_reference_figures(out, results, rubrics)
    gradebook.write_gradebook(out / "grades.csv", results, rubrics)
    report.write_class_page(out, results, rubrics)
