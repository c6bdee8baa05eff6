"""HTML reports, rendered with jinja2 autoescaping: one page per student and assignment, the class
page, and an instructor-only page.

Everything from a student's process (output, tracebacks, names, values) is untrusted: it reaches a
page only through autoescaped template variables, with ANSI colour codes stripped and lengths
capped by the runner. Figures are PNGs (checked by their signature) embedded as data URIs and
charts are inline SVG, so a report folder can be zipped and mailed and opens without network.

Every student's page links to the class page, so the common wrong answers there are counted,
not attributed; which students share an unusual wrong value (a hint of copying, to be looked at
before anyone is told) goes to `instructor.html`, which only the class page links to.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from grader import charts
from grader.results import CheckResult, PartResult, SubmissionResult, write_atomic
from grader.rubric import Part, Rubric

WRONG = ("incorrect", "partial", "error")  # a check whose value the class page may count as a mistake
UNUSUAL_SHARE = 0.2  # a wrong value is unusual when at most this share of the class gave it
INSTRUCTOR_PAGE = "instructor.html"
WRITTEN_PAGE = "written.html"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("grader", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates do not change during a run: no stat of each file for every page
)
_ENV.filters["plain"] = lambda text: _ANSI.sub("", text or "")
_ENV.filters["points"] = lambda value: f"{value:g}"


def page_name(result: SubmissionResult) -> str:
    """A file name safe on every system, unique even when two names differ only in odd characters."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", result.student).strip("._")[:60] or "student"
    digest = hashlib.sha256(result.student.encode()).hexdigest()[:6]
    return f"{result.assignment}/{slug}-{digest}.html"


def points_lost(part: PartResult) -> float:
    """Points the grader could have awarded but did not (hand-graded points are not lost yet)."""
    return max(part.max_score - part.pending_manual - part.score, 0.0)


_ENV.filters["lost"] = points_lost


def fix_first(result: SubmissionResult) -> tuple[int, PartResult] | None:
    """The 1-based position and the part where fixing pays most: the most points lost among the
    parts the grader scores, the first on a tie; None when none lost any."""
    best: tuple[int, PartResult] | None = None
    for position, part in enumerate(result.parts, 1):
        if part.status != "manual" and points_lost(part) > (points_lost(best[1]) if best else 0.0):
            best = (position, part)
    return best


def render_student(result: SubmissionResult, rubric: Rubric) -> str:
    return _ENV.get_template("student.html").render(r=result, rubric=rubric, index="../index.html",
                                                    fix=fix_first(result))


# ---------------------------------------------------------------- what the class page counts

@dataclass
class WrongAnswer:
    """One wrong value of one check, and how many students gave it."""

    check: str
    got: str  # the short rendering shown; empty when there is no single value (a function, an error)
    got_full: str
    misconception: str
    count: int = 0


@dataclass
class SharedValue:
    """A wrong value few students gave, and who gave it: for the instructor to look at."""

    part: str
    check: str
    got: str
    got_full: str
    students: list[tuple[SubmissionResult, str]] = field(default_factory=list)  # (result, page)


@dataclass
class Hours:
    """The `hours` answers of a class: each student's rendering and the median of their first numbers."""

    rows: list[tuple[SubmissionResult, str, str]]  # (result, page, what they wrote)
    median: float | None
    numbers: int


@dataclass
class Summary:
    """Everything the class page shows for one assignment."""

    rubric: Rubric
    rows: list[tuple[SubmissionResult, str]]  # sorted by score, highest first
    median: float
    histogram: Markup
    bars: Markup
    hand_graded: list[str]  # ids of parts left out of the bars: graded only by hand
    wrong: list[tuple[Part, list[WrongAnswer]]]
    hours: Hours | None


def _checks(results: list[SubmissionResult]) -> Iterator[tuple[SubmissionResult, PartResult, CheckResult]]:
    for result in results:
        for part in result.parts:
            for check in part.checks:
                yield result, part, check


def common_wrong_answers(results: list[SubmissionResult], rubric: Rubric, top: int = 3) -> list[tuple[Part, list[WrongAnswer]]]:
    """Per part (in rubric order), the `top` most frequent wrong values, grouped by check name and
    full-precision value; ties keep the order in which they were first met."""
    groups: dict[tuple[str, str, str], WrongAnswer] = {}
    for _, part, check in _checks(results):
        if check.status in WRONG:
            answer = groups.setdefault((part.id, check.name, check.got_full),
                                       WrongAnswer(check.name, check.got, check.got_full, check.misconception))
            answer.count += 1
    by_part = [(p, [a for (pid, _, _), a in groups.items() if pid == p.id]) for p in rubric.parts]
    return [(p, sorted(answers, key=lambda a: -a.count)[:top]) for p, answers in by_part if answers]


def unusual_limit(size: int, share: float = UNUSUAL_SHARE) -> int:
    """How many students of a class of `size` may give a value that still counts as unusual."""
    return int(share * size)


def shared_unusual_values(results: list[SubmissionResult], share: float = UNUSUAL_SHARE) -> list[SharedValue]:
    """Wrong values (not a named misconception) that 2 or more students of one assignment gave,
    and at most `share` of its class: an unusual coincidence worth a look. Frequency counts
    everyone who gave the value, whatever its status, so a value common in the class never shows."""
    size = Counter(r.assignment for r in results)
    given: Counter[tuple[str, str, str, str]] = Counter()
    groups: dict[tuple[str, str, str, str], SharedValue] = {}
    for result, part, check in _checks(results):
        if not check.got_full:
            continue
        key = (result.assignment, part.id, check.name, check.got_full)
        given[key] += 1
        if check.status != "correct" and not check.misconception:
            group = groups.setdefault(key, SharedValue(part.id, check.name, check.got, check.got_full))
            group.students.append((result, page_name(result)))
    return [g for key, g in groups.items() if len(g.students) >= 2 and given[key] <= unusual_limit(size[key[0]], share)]


def first_number(text: str) -> float | None:
    """The first number in what a student wrote ("about 20-25 hours" -> 20), if any."""
    found = _NUMBER.search(text)
    return float(found.group()) if found else None


def hours_reported(results: list[SubmissionResult]) -> Hours | None:
    """The answers to a check named `hours`, when the assignment has one, by student name."""
    rows, numbers = [], []
    for result in sorted(results, key=lambda r: r.student):
        check = next((c for p in result.parts for c in p.checks if c.name == "hours"), None)
        if check is not None:
            rows.append((result, page_name(result), check.got or check.got_full))
            number = first_number(check.got_full or check.got)
            if number is not None:
                numbers.append(number)
    if not rows:
        return None
    return Hours(rows, statistics.median(numbers) if numbers else None, len(numbers))


def summarize(rubric: Rubric, results: list[SubmissionResult]) -> Summary:
    """One assignment's section of the class page; parts graded only by hand have no bar, as no
    student can have them right before a TA grades them."""
    ordered = sorted(results, key=lambda r: (-r.score, r.student))
    scored = [p for p in rubric.parts if p.points > 0]
    bars = []
    for part in scored:
        statuses = Counter(p.status for r in results for p in r.parts if p.id == part.id)
        bars.append((part.id, statuses["correct"] / len(results), statuses["partial"] / len(results)))
    return Summary(
        rubric=rubric,
        rows=[(r, page_name(r)) for r in ordered],
        median=statistics.median(r.score for r in results),
        histogram=charts.histogram([r.score for r in results], rubric.max_score),
        bars=charts.part_bars(bars),
        hand_graded=[p.id for p in rubric.parts if p.points == 0],
        wrong=common_wrong_answers(results, rubric),
        hours=hours_reported(results),
    )


def _by_assignment(results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> Iterator[tuple[Rubric, list[SubmissionResult]]]:
    for assignment, rubric in rubrics.items():
        rows = [r for r in results if r.assignment == assignment]
        if rows:
            yield rubric, rows


def render_index(results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> str:
    """The class page: per assignment, the charts, students by score, common wrong answers, hours."""
    summaries = [summarize(rubric, rows) for rubric, rows in _by_assignment(results, rubrics)]
    return _ENV.get_template("index.html").render(summaries=summaries, instructor=INSTRUCTOR_PAGE, written=WRITTEN_PAGE)


def render_instructor(results: list[SubmissionResult], rubrics: dict[str, Rubric], share: float = UNUSUAL_SHARE) -> str:
    """The instructor's page: per assignment, the shared unusual wrong values and who gave them."""
    groups = [(rubric, len(rows), unusual_limit(len(rows), share), shared_unusual_values(rows, share))
              for rubric, rows in _by_assignment(results, rubrics)]
    return _ENV.get_template("instructor.html").render(groups=groups, share=share)


def render_written(results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> str:
    """The TA's page: each part graded by hand, every student's write-up for it, question by question."""
    groups = []
    for rubric, rows in _by_assignment(results, rubrics):
        questions = []
        for part in rubric.parts:
            if not part.manual_points:
                continue
            answers = [(r, page_name(r), next((p for p in r.parts if p.id == part.id), None)) for r in rows]
            answers = [(r, page, p) for r, page, p in answers if p is not None]
            questions.append((part, answers))
        if any(p is not None and p.written for _, answers in questions for _, _, p in answers):
            groups.append((rubric, questions))
    return _ENV.get_template("written.html").render(groups=groups)


def write_student_page(out: Path, result: SubmissionResult, rubric: Rubric) -> None:
    write_atomic(out / page_name(result), render_student(result, rubric))


def write_class_page(out: Path, results: list[SubmissionResult], rubrics: dict[str, Rubric]) -> None:
    """The class page and, beside it, the instructor's page it links to."""
    write_atomic(out / "index.html", render_index(results, rubrics))
    write_atomic(out / INSTRUCTOR_PAGE, render_instructor(results, rubrics))
    write_atomic(out / WRITTEN_PAGE, render_written(results, rubrics))
