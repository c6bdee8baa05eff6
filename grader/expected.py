"""Expected values, computed once per run from the reference implementations.

For a value check: the reference's zero-argument function. For a function check: the hidden
inputs from the rubric's `cases` function (the spec's inputs first, then randomized ones of
other sizes from the rubric's seed) and the reference's output on each. The inputs go to the
workers once per run, in `calls-<assignment>.json`; the outputs never leave this process.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.codec import encode_args
from grader.rubric import Check, Rubric, resolve


@dataclass(frozen=True)
class Case:
    kwargs: dict[str, Any]  # what the student's function was called with (kept for the report)
    expected: Any


@dataclass
class Expected:
    values: dict[str, Any]  # check.reference -> expected value
    cases: dict[str, list[Case]]  # function name -> its hidden cases
    calls_file: str | None  # the encoded inputs for the workers

    def counts(self) -> dict[str, int]:
        return {name: len(cases) for name, cases in self.cases.items()}


def _function_cases(check: Check, seed: int) -> tuple[list[Case], list[dict[str, Any]]]:
    inputs = resolve(check.cases)(seed=seed, count=check.random_cases)
    reference = resolve(check.reference)
    encoded = [encode_args(kwargs) for kwargs in inputs]
    cases = [Case(kwargs, reference(**copy.deepcopy(kwargs))) for kwargs in inputs]
    return cases, encoded


def compute_expected(rubric: Rubric, work_dir: Path) -> Expected:
    values: dict[str, Any] = {}
    cases: dict[str, list[Case]] = {}
    encoded: dict[str, list[dict[str, Any]]] = {}
    for part in rubric.parts:
        for check in part.checks:
            if check.kind == "predicate":
                continue  # a predicate judges the student's value itself; nothing to precompute
            if check.value and check.reference not in values:
                values[check.reference] = resolve(check.reference)()
            elif check.function and check.function not in cases:
                cases[check.function], encoded[check.function] = _function_cases(check, rubric.seed)
    calls_file = None
    if encoded:
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / f"calls-{rubric.assignment}.json"
        path.write_text(json.dumps(encoded))
        calls_file = str(path)
    return Expected(values, cases, calls_file)
