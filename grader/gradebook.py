"""The gradebook: `grades.csv`, a row per student and assignment, a column per part, and the total."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.results import SubmissionResult, write_atomic
from grader.rubric import Rubric


def gradebook_csv(results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> str:
    """Columns: student, assignment, one per part id (of every assignment, in rubric order), total, max."""
    part_ids: list[str] = []
    for rubric in rubrics.values():
        if any(r.assignment == rubric.assignment for r in results):
            part_ids.extend(f"{rubric.assignment} {p.id}" for p in rubric.parts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "assignment", *part_ids, "total", "max_score"])
    for result in results:
        scores = {f"{result.assignment} {p.id}": p.score for p in result.parts}
        writer.writerow([_safe(result.student), result.assignment,
                         *[_number(scores[c]) if c in scores else "" for c in part_ids],
                         _number(result.score), _number(result.max_score)])
    return buffer.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"


def _safe(text: str) -> str:
    """A spreadsheet runs a cell that starts with =, +, -, @, tab or CR as a formula; quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(path: Path, results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> None:
    write_atomic(path, gradebook_csv(results, rubrics))
