"""Result records, their public JSON form, and atomic writes.

`results.json` (a public interface, documented in README.md) is a JSON array with one object
per student and assignment:
    {"student", "assignment", "score", "max_score",
     "parts": [{"id", "score", "max_score", "status", "message"}]}
Everything else here (cells, figures, per-check details) feeds the HTML reports and the cache.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CheckResult:
    name: str
    label: str
    status: str  # correct, incorrect, partial, error, missing, optional
    message: str
    got: str = ""
    expected: str = ""
    counted: bool = True
    fraction: float = 0.0
    weight: float = 1.0
    details: list[str] = field(default_factory=list)  # one line per hidden case, for functions
    got_full: str = ""  # full precision, for a details block
    expected_full: str = ""
    misconception: str = ""  # the name of the likely mistake the value matched
    carried: bool = False  # credit from the student's own earlier answer (error carried forward)
    source: str = ""  # where a write-up's answer was read ("report.md, line 12: “9.4348”"); "" for code
    considered: list[str] = field(default_factory=list)  # every candidate the grader weighed in the write-up


@dataclass
class PartResult:
    id: str
    score: float
    max_score: float
    status: str
    message: str
    title: str = ""
    manual: str = ""  # the TA's rubric text
    pending_manual: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    reference_figure: str = ""  # the reference figure's file, relative to the assignment's report folder
    student_figures: list[str] = field(default_factory=list)  # base64 PNGs from the cells `figure_cells` picks
    written: str = ""  # the student's write-up cut to this part, as written
    written_note: str = ""  # e.g. "no heading of its own: the text of problem 3"
    written_figures: list[str] = field(default_factory=list)  # data URIs of images the text refers to

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "max_score": self.max_score, "status": self.status, "message": self.message}


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    score: float
    max_score: float
    parts: list[PartResult]
    files: list[str] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0
    key: str = ""

    def public(self) -> dict[str, Any]:
        return {"student": self.student, "assignment": self.assignment, "score": self.score,
                "max_score": self.max_score, "parts": [p.public() for p in self.parts]}

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data: shallow copies of its fields, which already hold only plain
        data (dataclasses.asdict deep-copies every cell and line, a tenth of the grader's time per hand-in)."""
        return {**vars(self), "parts": [{**vars(p), "checks": [dict(vars(c)) for c in p.checks]} for p in self.parts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SubmissionResult":
        parts = [PartResult(**{**p, "checks": [CheckResult(**c) for c in p["checks"]]}) for p in data["parts"]]
        return cls(**{**data, "parts": parts})


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: a reader, or a run started again after
    this one was killed, sees the old file or the new one, never half of one. (No fsync: that
    guards against power loss, at a cost per file that a class of 1,000 would feel.)

    The temporary name is unique to this process and thread, so no random names are needed; what a
    killed run left is removed by `remove_leftovers` when the next run starts. The file gets the
    usual permissions.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        stream = open(temporary, "w", encoding="utf-8")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(temporary, "w", encoding="utf-8")
    try:
        with stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Remove the temporary files that a run killed in the middle of `write_atomic` left in `folder`
    and in the folders just below it (pages, the cache): only those whose process has ended, so a
    run writing into the same folder at this moment keeps its own."""
    for temporary in [*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")]:
        pid = temporary.name.rsplit(".", 3)[-3]
        if pid.isdigit() and not _running(int(pid)):
            temporary.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_results(path: Path, results: list[SubmissionResult]) -> None:
    write_atomic(path, json.dumps([r.public() for r in results], indent=2) + "\n")
