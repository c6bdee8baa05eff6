"""HTML reports, rendered with jinja2 autoescaping: one page per student and assignment, and the class page.

Everything from a student's process (output, tracebacks, names) is untrusted: it reaches the page
only through autoescaped template variables, with ANSI colour codes stripped and lengths capped
by the runner. Figures are PNGs (checked by their signature) embedded as data URIs, so a report
folder can be zipped and mailed and opens without network access.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jinja2

from grader.results import SubmissionResult, write_atomic
from grader.rubric import Rubric

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("grader", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["plain"] = lambda text: _ANSI.sub("", text or "")
_ENV.filters["points"] = lambda value: f"{value:g}"


def page_name(result: SubmissionResult) -> str:
    """A file name safe on every system, unique even when two names differ only in odd characters."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", result.student).strip("._")[:60] or "student"
    digest = hashlib.sha256(result.student.encode()).hexdigest()[:6]
    return f"{result.assignment}/{slug}-{digest}.html"


def render_student(result: SubmissionResult, rubric: Rubric) -> str:
    return _ENV.get_template("student.html").render(r=result, rubric=rubric, index="../index.html")


def render_index(results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> str:
    groups = []
    for assignment, rubric in rubrics.items():
        rows = [r for r in results if r.assignment == assignment]
        if rows:
            groups.append((rubric, [(r, page_name(r)) for r in rows]))
    return _ENV.get_template("index.html").render(groups=groups)


def write_student_page(out: Path, result: SubmissionResult, rubric: Rubric) -> None:
    write_atomic(out / page_name(result), render_student(result, rubric))


def write_class_page(out: Path, results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> None:
    write_atomic(out / "index.html", render_index(results, rubrics))
