"""Expected values, computed once per run from the reference implementations.

For a value check: the reference's zero-argument function. For a function check: the hidden
inputs from the rubric's `cases` function (the spec's inputs first, then randomized ones of
other sizes from the rubric's seed) and the reference's output on each. The inputs go to the
workers once per run, in `calls-<assignment>.json`; the outputs never leave this process.
For a part with a `figure`: the reference's PNG, as base64 text, shown beside the student's figures.
"""

from __future__ import annotations

import base64
import copy
from concurrent.futures import Future, ThreadPoolExecutor
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grader
from grader.codec import decode_value, encode_args, encode_value
from grader.compare import render
from grader.results import write_atomic
from grader.rubric import Rubric, resolve


@dataclass(frozen=True)
class Case:
    shown: str  # the inputs the student's function was called with, as the report shows them
    expected: Any


@dataclass
class Expected:
    values: dict[str, Any]  # check.reference -> expected value
    cases: dict[str, list[Case]]  # function name -> its hidden cases
    calls_file: str | None  # the encoded inputs for the workers
    pending_figures: Future[dict[str, str]] | None = None  # part.figure -> base64 PNG, drawn in the background

    @property
    def figures(self) -> dict[str, str]:
        return self.pending_figures.result() if self.pending_figures else {}

    def counts(self) -> dict[str, int]:
        return {name: len(cases) for name, cases in self.cases.items()}


def _shown(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={render(v)}" for k, v in kwargs.items())[:300]


def plain(value: Any) -> Any:
    """The expected value in the same plain form a student's value arrives in (tuples become lists)."""
    return encode_value(value)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _figure(name: str) -> str:
    """A reference figure as base64 text; anything but PNG bytes is a bug in the reference."""
    png = resolve(name)()
    if type(png) is not bytes or not png.startswith(PNG_MAGIC):
        raise ValueError(f"reference figure {name!r} did not return PNG bytes")
    return base64.b64encode(png).decode("ascii")


def _figures(rubric: Rubric, path: Path) -> Future[dict[str, str]]:
    """The reference figures, from the cache or drawn in a thread of their own: only the reports need
    them, so grading starts without waiting for matplotlib."""
    if path.exists():
        done: Future[dict[str, str]] = Future()
        done.set_result(json.loads(path.read_text()))
        return done

    def draw() -> dict[str, str]:
        figures = {part.figure: _figure(part.figure) for part in rubric.parts if part.figure}
        write_atomic(path, json.dumps(figures))
        return figures

    executor = ThreadPoolExecutor(1)
    future = executor.submit(draw)
    executor.shutdown(wait=False)
    return future


def _compute(rubric: Rubric) -> dict[str, Any]:
    values: dict[str, Any] = {}
    cases: dict[str, list[dict[str, Any]]] = {}
    calls: dict[str, list[dict[str, Any]]] = {}
    for part in rubric.parts:
        for check in part.checks:
            if check.kind == "predicate":
                continue  # a predicate judges the student's value itself; nothing to precompute
            for name in (m.expected for m in check.misconceptions):
                values.setdefault(name, plain(resolve(name)()))
            if check.value and check.reference not in values:
                values[check.reference] = plain(resolve(check.reference)())
            elif check.function and check.function not in cases:
                inputs = resolve(check.cases)(seed=rubric.seed, count=check.random_cases)
                reference = resolve(check.reference)
                calls[check.function] = [encode_args(kwargs) for kwargs in inputs]
                cases[check.function] = [{"shown": _shown(kwargs), "expected": plain(reference(**copy.deepcopy(kwargs)))}
                                         for kwargs in inputs]
    return {"values": values, "cases": cases, "calls": calls}


def _key(rubric: Rubric, reference_digest: str) -> str:
    digest = hashlib.sha256(f"{grader.__version__}\0{reference_digest}\0".encode())
    digest.update(rubric.path.read_bytes())
    return digest.hexdigest()[:32]


def compute_expected(rubric: Rubric, cache_dir: Path, reference_digest: str) -> Expected:
    """Expected values for a rubric, from the cache when the rubric and the reference code are unchanged
    (then this process need not even import torch), else computed and cached."""
    path = cache_dir / f"expected-{rubric.assignment}-{_key(rubric, reference_digest)}.json"
    if path.exists():
        data = json.loads(path.read_text())
    else:
        data = _compute(rubric)
        write_atomic(path, json.dumps(data))
    calls_file = None
    if data["calls"]:
        calls_path = cache_dir / f"calls-{path.stem.removeprefix('expected-')}.json"
        if not calls_path.exists():
            write_atomic(calls_path, json.dumps(data["calls"]))
        calls_file = str(calls_path)
    values = {name: decode_value(v) for name, v in data["values"].items()}
    cases = {name: [Case(c["shown"], decode_value(c["expected"])) for c in items] for name, items in data["cases"].items()}
    figures = _figures(rubric, cache_dir / f"figures-{path.stem.removeprefix('expected-')}.json") \
        if any(part.figure for part in rubric.parts) else None
    return Expected(values, cases, calls_file, figures)
