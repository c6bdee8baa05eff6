"""Running one submission: its cells in a sandboxed child, then its values and function results as plain data.

A cell that hangs past every soft limit, or ends the process (`os._exit`, a crash), is killed
with its process; the submission is then run again without that cell, so the cells after it
still count (hand-ins often keep a stale cell that loops or dies).
"""

from __future__ import annotations

import base64
import signal
from dataclasses import dataclass, field
from typing import Any

from grader.codec import DecodeError, decode_value
from grader.discover import Submission
from grader.notebook import Cell, SourceError, read_cells
from grader.rubric import Rubric
from grader.zygote import PRELOADS

MAX_ATTEMPTS = 4
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class CellRecord:
    label: str
    source: str
    status: str = "not run"  # ok, error, timeout, killed, skipped, not run
    error: dict[str, str] | None = None
    stdout: str = ""
    notes: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # base64 PNG, checked to be PNG


@dataclass
class CallRecord:
    status: str  # ok, error, timeout, not run
    value: Any = None
    error: dict[str, str] | None = None


@dataclass
class RunOutcome:
    cells: list[CellRecord] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # decoded; absent when missing
    defined: set[str] = field(default_factory=set)
    calls: dict[str, list[CallRecord]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # things that went wrong around the code
    finished: bool = False
    written: dict[str, Any] = field(default_factory=dict)  # name -> writeup.TextAnswer, for values read from a write-up
    ran_code: bool = True  # False for a write-up without code: its function checks go to the TA


def _text(value: Any, limit: int = 21_000) -> str:
    return value[:limit] if type(value) is str else ""


def _error(value: Any) -> dict[str, str] | None:
    if type(value) is not dict:
        return None
    return {key: _text(value.get(key), 10_000) for key in ("type", "message", "traceback")}


def _figures(value: Any) -> list[str]:
    pngs = []
    for item in value if type(value) is list else []:
        try:
            if type(item) is str and base64.b64decode(item[:16], validate=False).startswith(PNG_MAGIC):
                pngs.append(item)
        except ValueError:
            continue
    return pngs


def _apply(outcome: RunOutcome, frames: list[Any]) -> int | None:
    """Fill the outcome from the child's frames; return the index of a cell still running at the end."""
    running = None
    for frame in frames:
        if type(frame) is not dict:
            continue
        kind = frame.get("t")
        index = frame.get("cell")
        if kind in ("start", "cell") and (type(index) is not int or not 0 <= index < len(outcome.cells)):
            continue
        if kind == "start":
            running = index
        elif kind == "cell":
            record = outcome.cells[index]
            status = frame.get("status")
            record.status = status if status in ("ok", "error", "timeout", "skipped") else "error"
            record.error = _error(frame.get("error"))
            record.stdout = _text(frame.get("stdout"))
            record.notes = [_text(n, 500) for n in frame.get("notes", []) if type(n) is str][:20]
            record.figures = _figures(frame.get("figures"))
            running = None
        elif kind == "values":
            _apply_values(outcome, frame)
        elif kind == "call":
            _apply_call(outcome, frame)
        elif kind == "sandbox_error":
            outcome.problems.append(f"the sandbox could not be set up: {_text(frame.get('message'), 500)}")
        elif kind == "done":
            outcome.finished = True
    return running


def _decoded(data: Any, what: str, outcome: RunOutcome) -> tuple[bool, Any]:
    try:
        return True, decode_value(data)
    except DecodeError as exc:
        outcome.problems.append(f"{what} came back malformed and was ignored: {exc}")
        return False, None


def _apply_values(outcome: RunOutcome, frame: dict[str, Any]) -> None:
    values = frame.get("values")
    for name, data in (values.items() if type(values) is dict else ()):
        if type(data) is dict and data.get("missing") is True:
            continue
        ok, value = _decoded(data, f"the value of {name}", outcome)
        if ok:
            outcome.values[name] = value
    defined = frame.get("defined")
    outcome.defined = {n for n in defined if type(n) is str} if type(defined) is list else set()
    owners = frame.get("owners")
    for name, files in sorted(owners.items() if type(owners) is dict else ()):
        if type(name) is str and type(files) is list and all(type(f) is str for f in files):
            shown = ", ".join(f[:100] for f in files[:5])
            outcome.problems.append(f"{name[:100]} is defined in more than one file ({shown}); "
                                    f"the grader used the last one run, from {files[-1][:100]}")


def _apply_call(outcome: RunOutcome, frame: dict[str, Any]) -> None:
    name, case = frame.get("function"), frame.get("case")
    if name not in outcome.calls or type(case) is not int or not 0 <= case < len(outcome.calls[name]):
        return
    status = frame.get("status")
    record = CallRecord(status if status in ("ok", "error", "timeout") else "error", error=_error(frame.get("error")))
    if record.status == "ok":
        ok, record.value = _decoded(frame.get("value"), f"the result of {name}", outcome)
        if not ok:
            record.status = "error"
    outcome.calls[name][case] = record


def read_submission(submission: Submission) -> tuple[list[Cell], list[str]]:
    cells: list[Cell] = []
    problems: list[str] = []
    for path in submission.files:
        name = str(path.relative_to(submission.folder))
        try:
            cells.extend(read_cells(path, name))
        except SourceError as exc:
            problems.append(str(exc))
    return cells, problems


def cpu_seconds(rubric: Rubric) -> int:
    """CPU time never outlasts the wall-clock limit, so the wall clock speaks first."""
    return int(rubric.limits.submission_timeout) + 1


_NAMED = (("torch", (b"torch",)), ("matplotlib", (b"matplotlib", b"seaborn")))


def preload_for(submission: Submission) -> str:
    """The lightest worker that has what the hand-in's code names already loaded.

    Forking a worker costs in proportion to what it has loaded (about 1 ms with numpy only, 3 ms with
    matplotlib as well, 16 ms with torch as well, here), so a hand-in that plots pays for matplotlib
    and one that uses torch for torch, and the rest pay for neither. A name the guess misses is
    simply imported by the hand-in itself, as in any Python process.
    """
    code = b"".join(path.read_bytes() for path in submission.files)
    return next((kind for kind, names in _NAMED if any(name in code for name in names)), PRELOADS[0])


def build_request(submission: Submission, rubric: Rubric, cells: list[Cell], calls_file: str | None,
                  calls_count: dict[str, int], isolate: bool, preload: str) -> dict[str, Any]:
    folder = submission.folder
    files = [[str(p.absolute()), str(p.relative_to(folder))] for p in submission.data_files()]
    limits = rubric.limits
    return {
        "files": files,
        "calls": calls_file,
        "preload": preload,
        "policy": {"isolate": isolate, "memory_mb": int(limits.memory_mb), "cpu_seconds": cpu_seconds(rubric)},
        "job": {
            "cells": [{"label": c.label, "code": c.code, "file": c.file} for c in cells],
            "skip": [],
            "values": rubric.value_names(),
            "functions": sorted(calls_count),
            "limits": {"cell_timeout": limits.cell_timeout, "call_timeout": limits.call_timeout,
                       "submission_timeout": limits.submission_timeout, "memory_mb": limits.memory_mb},
        },
    }


def run_submission(pool: Any, submission: Submission, rubric: Rubric, calls_file: str | None,
                   calls_count: dict[str, int], isolate: bool, preload: str) -> RunOutcome:
    cells, problems = read_submission(submission)
    if not submission.files:
        return RunOutcome(problems=problems, finished=True, ran_code=False)  # a write-up only: nothing to run
    request = build_request(submission, rubric, cells, calls_file, calls_count, isolate, preload)
    killed_cells: dict[int, str] = {}
    for attempt in range(MAX_ATTEMPTS):
        outcome = RunOutcome(cells=[CellRecord(c.label, c.source) for c in cells], problems=list(problems))
        outcome.calls = {name: [CallRecord("not run") for _ in range(n)] for name, n in calls_count.items()}
        request["id"] = f"{submission.assignment}/{submission.student}#{attempt}"
        request["job"]["skip"] = sorted(killed_cells)
        answer = pool.request(request)
        running = _apply(outcome, answer.get("frames", []))
        for index, why in killed_cells.items():
            outcome.cells[index].status = "killed"
            outcome.cells[index].notes.append(why)
        if outcome.finished or running is None or attempt == MAX_ATTEMPTS - 1:
            break
        killed_cells[running] = _kill_reason(answer, rubric)
    if not outcome.finished:
        outcome.problems.append(_unfinished(answer, rubric))
    return outcome


def _kill_reason(answer: dict[str, Any], rubric: Rubric) -> str:
    if answer.get("killed") == "hung":
        return (f"this cell ran past the time limit of {rubric.limits.cell_timeout:g} s and did not stop when "
                "interrupted, so it was stopped; the grader ran the other cells without it")
    if answer.get("killed"):
        return f"this cell was stopped ({answer['killed']}); the grader ran the other cells without it"
    return f"this cell {_exit_reason(answer.get('exit'), rubric)}; the grader ran the other cells without it"


def _exit_reason(code: Any, rubric: Rubric) -> str:
    """What an exit status says happened, in words a student can act on."""
    if code == -signal.SIGXCPU:
        return f"used up the CPU time limit of {cpu_seconds(rubric)} s"
    if code == -signal.SIGKILL:
        return f"was killed, most likely for memory (the limit is {rubric.limits.memory_mb:g} MB)"
    if code == -signal.SIGSEGV:
        return "crashed the Python process (segmentation fault)"
    return f"ended the whole Python process (exit status {code}, e.g. os._exit or sys.exit in a thread)"


def _unfinished(answer: dict[str, Any], rubric: Rubric) -> str:
    killed = answer.get("killed")
    if killed == "submission_timeout":
        return f"the submission ran past its total time limit of {rubric.limits.submission_timeout:g} s and was stopped"
    if killed:
        return f"the run was stopped: {killed}"
    return f"the submission's process {_exit_reason(answer.get('exit'), rubric)} before the grader could read all answers"
