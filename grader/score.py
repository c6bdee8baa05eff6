"""Scoring, in the grader's process: each part's checks compared with the expected values, then points.

A part earns full marks when every value it reads is right and every function the submission
defines for it is right on all hidden inputs (as the specs say); an optional function that is not
defined is left out. Partial credit is proportional to the weights of the checks that are right;
a function check is right only when it is right on every input, so code that handles the spec's
own input but not others earns nothing for the function.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from grader.codec import contains_unreadable, decode_value
from grader.compare import Verdict, compare, render
from grader.expected import Expected, plain
from grader.results import CheckResult, PartResult
from grader.rubric import Check, Misconception, Part, Rubric, resolve
from grader.runner import RunOutcome

MAX_CASE_LINES = 6
MAX_STUDENT_FIGURES = 4


def _options(check: Check, written_atol: float = 0.0) -> dict[str, Any]:
    """The comparison's options; a number read from a write-up also gets the precision it was written to."""
    if check.kind in ("number", "expression", "array", "sequence"):
        return {"rtol": check.rtol, "atol": check.atol + written_atol, "hide_expected": check.hide_expected}
    if check.kind == "choice":
        return {"accepted": {k: list(v) for k, v in check.accepted.items()} or None, "hide_expected": check.hide_expected}
    return {"hide_expected": check.hide_expected}


def _verdict(check: Check, got: Any, expected: Any, written_atol: float = 0.0) -> Verdict:
    unreadable = contains_unreadable(got)
    if unreadable:
        return Verdict(False, f"the grader could not read your answer: it is {unreadable.why}; give numbers, lists, "
                              "numpy arrays or strings")
    if check.kind == "predicate":
        ok, message = resolve(check.reference)(got)
        return Verdict(ok, message, shown_got=render(got))
    return compare(check.kind, got, expected, **_options(check, written_atol))


def _why_missing(name: str, outcome: RunOutcome) -> str:
    """Point at the cell that should have defined `name`, when it failed."""
    pattern = re.compile(rf"(^|\n)\s*(def\s+{name}\b|{name}\s*(\[.*\])?\s*=[^=]|[\w\s,]*\b{name}\b[\w\s,]*=[^=])")
    for cell in outcome.cells:
        if cell.status in ("error", "timeout", "killed") and pattern.search(cell.source):
            what = cell.error["type"] if cell.error else cell.status
            return f"; {cell.label}, which defines it, did not finish ({what})"
    return ""


def _carried(check: Check, got: Any, outcome: RunOutcome, written_atol: float) -> Verdict | None:
    """The student's value compared with the expected value recomputed from their own earlier answers."""
    carried = check.carried
    if carried is None or any(name not in outcome.values for name in carried.uses):
        return None  # an upstream answer is missing: graded against the true value only
    inputs = {name: outcome.values[name] for name in carried.uses}
    if any(contains_unreadable(value) for value in inputs.values()):
        return None
    try:
        recomputed = plain(resolve(carried.expected)(**inputs))
    except Exception:  # the earlier answer does not fit the reference (a wrong shape, a string): no carried credit
        return None
    verdict = compare(check.kind, got, decode_value(recomputed), **_options(check, written_atol))
    return verdict if verdict.ok else None


def _misconception(check: Check, got: Any, expected: Expected, written_atol: float) -> Misconception | None:
    """The first named mistake the student's value matches, with the check's own comparison."""
    for misconception in check.misconceptions:
        if compare(check.kind, got, expected.values[misconception.expected], **_options(check, written_atol)).ok:
            return misconception
    return None


def _absent(check: Check, outcome: RunOutcome, optional_note: str, required_text: str) -> CheckResult:
    """A value or function the submission does not define: missing, or left out when optional."""
    if not check.required:
        return CheckResult(check.name, check.label, "optional", f"{check.name} is not defined ({optional_note})",
                           weight=check.weight, counted=False)
    return CheckResult(check.name, check.label, "missing", f"{required_text}{_why_missing(check.name, outcome)}",
                       weight=check.weight)


def _value_check(check: Check, expected: Expected, outcome: RunOutcome) -> CheckResult:
    written = outcome.written.get(check.name)
    if check.name not in outcome.values:
        why = written.how if written is not None else f"{check.name} is not defined"
        return _absent(check, outcome, "optional", why)
    result = _compared_value(check, expected, outcome, written.atol if written else 0.0)
    if written is not None:
        result.source = f"{written.where}: “{written.text[:200]}”" if written.text else written.where
        result.considered = written.considered
        result.message = f"Read from your write-up ({written.how}). {result.message}"
    return result


def _compared_value(check: Check, expected: Expected, outcome: RunOutcome, written_atol: float) -> CheckResult:
    result = CheckResult(check.name, check.label, "incorrect", "", weight=check.weight)
    got = outcome.values[check.name]
    verdict = _verdict(check, got, expected.values.get(check.reference), written_atol)
    result.status = "correct" if verdict.ok else "incorrect"
    result.fraction = 1.0 if verdict.ok else 0.0
    result.message = verdict.message
    result.got, result.expected = verdict.shown_got, verdict.shown_expected
    result.got_full = _full(got)
    result.expected_full = "" if check.hide_expected else _full(expected.values.get(check.reference))
    if verdict.ok or contains_unreadable(got) or check.kind == "predicate":
        return result
    carried = _carried(check, got, outcome, written_atol)
    if carried is not None:
        result.carried, result.fraction = True, check.carried.credit
        result.status = "correct" if check.carried.credit == 1 else "partial"
        result.message = (f"{check.carried.message or 'right for your own earlier answers'} "
                          f"(computed from your {', '.join(check.carried.uses)}; credit carried forward). "
                          f"The true value differs because an earlier answer does: {verdict.message}")
        return result
    misconception = _misconception(check, got, expected, written_atol)
    if misconception is not None:
        result.misconception, result.fraction = misconception.name, misconception.credit
        result.status = "partial" if misconception.credit else "incorrect"
        result.message = f"This looks like {misconception.name}. {misconception.hint} {verdict.message}".replace("  ", " ")
    return result


def _full(value: Any) -> str:
    """Full precision, capped: shown on demand beside the rounded value."""
    if isinstance(value, np.ndarray):  # tolist() keeps every digit and is much faster than array2string
        value = value.tolist() if value.size <= 1000 else f"array of shape {value.shape}"
    return repr(value)[:5000]


def _call_line(index: int, shown: str, text: str) -> str:
    return f"input {index + 1} ({shown}): {text}"


def _function_check(check: Check, expected: Expected, outcome: RunOutcome) -> CheckResult:
    if check.name not in outcome.defined:
        return _absent(check, outcome, "optional: it would be checked on the grader's inputs",
                       f"the function {check.name} is not defined")
    result = CheckResult(check.name, check.label, "missing", "", weight=check.weight)
    cases = expected.cases[check.function]
    calls = outcome.calls.get(check.function, [])
    right = errors = 0
    for index, case in enumerate(cases):
        call = calls[index] if index < len(calls) else None
        if call is None or call.status == "not run":
            text = "not run (the submission stopped before this call)"
        elif call.status == "timeout":
            text = "did not return within the time limit"
            errors += 1
        elif call.status == "error":
            errors += 1
            error = call.error or {}
            text = f"raised {error.get('type', 'an error')}: {error.get('message', '')}"[:400]
            if error.get("traceback"):
                result.details.append(error["traceback"][-1500:])
        else:
            verdict = _verdict(check, call.value, case.expected)
            right += verdict.ok
            text = "right" if verdict.ok else verdict.message
        if len(result.details) < MAX_CASE_LINES or text != "right":
            result.details.append(_call_line(index, case.shown, text))
    if cases and right == len(cases):
        result.status, result.fraction = "correct", 1.0
        result.message = f"{check.name} is right on all {len(cases)} inputs"
    else:
        result.status = "error" if errors else "incorrect"
        result.message = (f"{check.name} is right on {right} of {len(cases)} inputs (the spec's own and hidden ones "
                          "of other sizes); a function earns its points when it is right on all of them")
    return result


def _status(checks: list[CheckResult]) -> str:
    counted = [c for c in checks if c.counted]
    if all(c.status == "correct" for c in counted):
        return "correct"
    if any(c.fraction > 0 for c in counted):
        return "partial"
    if all(c.status == "missing" for c in counted):
        return "missing"
    if any(c.status == "error" for c in counted):
        return "error"
    return "incorrect"


def _chain(checks: list[CheckResult]) -> str:
    """Where a chain of steps first leaves the reference's, so the student knows where to look."""
    steps = [c for c in checks if c.counted]
    first = next((i for i, c in enumerate(steps) if c.status != "correct" or c.carried), None)
    if first is None:
        return ""
    if first == 0:
        return f"Your work departs from the reference at its first step, {steps[0].name}. "
    right = ", ".join(c.name for c in steps[:first])
    return f"Your steps are right up to {right}; the first to depart from the reference is {steps[first].name}. "


def _sentence(check: CheckResult) -> str:
    text = check.message if check.message.startswith(check.name) else f"{check.name}: {check.message}"
    return text if text.endswith(".") else text + "."


def student_figures(part: Part, outcome: RunOutcome) -> list[str]:
    """The student's figures (at most MAX_STUDENT_FIGURES, in cell order) from the cells whose source
    mentions any of the part's `figure_cells` words, case-insensitive."""
    words = [w.lower() for w in part.figure_cells]
    picked = [png for cell in outcome.cells if any(w in cell.source.lower() for w in words) for png in cell.figures]
    return picked[:MAX_STUDENT_FIGURES]


def figure_file(part: Part) -> str:
    """Where a part's reference figure is written, relative to the assignment's report folder: once
    per run, not once per page."""
    return f"figures/{re.sub(r'[^A-Za-z0-9._-]+', '_', part.id)}.png"


def _with_figures(result: PartResult, part: Part, outcome: RunOutcome) -> PartResult:
    if part.figure:
        result.reference_figure = figure_file(part)
        result.student_figures = student_figures(part, outcome)
    return result


def score_part(part: Part, expected: Expected, outcome: RunOutcome) -> PartResult:
    return _with_figures(_score_part(part, expected, outcome), part, outcome)


def _score_part(part: Part, expected: Expected, outcome: RunOutcome) -> PartResult:
    if not part.checks:
        return PartResult(part.id, 0.0, part.max_score, "manual", "graded by hand", part.title, part.manual,
                          pending_manual=part.manual_points)
    checks = [(_value_check if c.value else _function_check)(c, expected, outcome) for c in part.checks]
    if not outcome.ran_code:
        for rubric_check, check in zip(part.checks, checks):
            if rubric_check.function:
                check.status, check.counted = "optional", False
                check.message = f"{check.name} cannot be checked: a write-up has no code to call"
        if part.points and not any(c.counted for c in checks):
            return _to_the_ta(part, checks)
    counted = [c for c in checks if c.counted]
    total_weight = sum(c.weight for c in counted)
    earned = sum(c.weight * c.fraction for c in counted) / total_weight if total_weight else 0.0
    score = round(part.points * earned, 2)
    if part.points == 0:
        status = "manual"
    else:
        status = _status(checks) if counted else "missing"
    message = " ".join(_sentence(c) for c in checks)
    if part.chain:
        message = _chain(checks) + message
    if part.manual_points:
        message += f" {part.manual_points:g} more points are graded by hand."
    return PartResult(part.id, score, part.max_score, status, message, part.title, part.manual,
                      pending_manual=part.manual_points, checks=checks)


def _to_the_ta(part: Part, checks: list[CheckResult]) -> PartResult:
    """A write-up without code cannot be called: its code points go to the TA with the rest."""
    message = (f"A write-up has no code for the grader to call, so all {part.max_score:g} points of this part are "
               "graded by hand from your text and figures.")
    return PartResult(part.id, 0.0, part.max_score, "manual", message, part.title, part.manual,
                      pending_manual=part.max_score, checks=checks)


def score_submission(rubric: Rubric, expected: Expected, outcome: RunOutcome) -> list[PartResult]:
    return [score_part(part, expected, outcome) for part in rubric.parts]
