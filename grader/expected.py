"""Expected values, computed once per run from the reference implementations.

For a value check: the reference's zero-argument function. For a function check: the hidden
inputs from the rubric's `cases` function (the spec's inputs first, then randomized ones of
other sizes from the rubric's seed) and the reference's output on each. The inputs go to the
workers once per run, in `calls-<assignment>.json`; the outputs never leave this process.
For a part with a `figure`: the reference's PNG, as base64 text, shown beside the student's figures.

`grader run` computes both in fresh Python processes of their own (`python -m grader.expected`):
the reference code is trusted, so it needs no sandbox, but it imports torch and matplotlib, which
would otherwise cost the grader's own process seconds of start-up under its GIL while the workers
wait for it. Those processes run on the other cores while the zygotes start.
"""

from __future__ import annotations

import base64
import copy
from concurrent.futures import Future, ThreadPoolExecutor
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grader
from grader.codec import decode_value, encode_args, encode_value
from grader.compare import render
from grader.results import write_atomic
from grader.rubric import Rubric, load_rubric, resolve


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


def _draw(rubric: Rubric) -> dict[str, str]:
    return {part.figure: _figure(part.figure) for part in rubric.parts if part.figure}


def _start_child(job: str, rubric: Rubric, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "grader.expected", job, str(rubric.path), str(path)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _child_result(process: subprocess.Popen[bytes], path: Path) -> Any:
    _, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the reference code failed (python -m grader.expected {' '.join(process.args[3:])}):\n"
                           f"{errors.decode(errors='replace')[-3000:]}")
    return json.loads(path.read_text())


# figures being drawn, by cache path: a second request for the same figures waits for the first drawing
_DRAWING: dict[Path, Future[dict[str, str]]] = {}


def _figures(rubric: Rubric, path: Path, in_child: bool) -> Future[dict[str, str]]:
    """The reference figures, from the cache or drawn in the background: only the reports need them,
    so grading starts without waiting for matplotlib."""
    if path in _DRAWING:
        return _DRAWING[path]
    if path.exists():
        done: Future[dict[str, str]] = Future()
        done.set_result(json.loads(path.read_text()))
        return done

    def draw() -> dict[str, str]:
        if in_child:
            return _child_result(_start_child("figures", rubric, path), path)
        figures = _draw(rubric)
        write_atomic(path, json.dumps(figures))
        return figures

    executor = ThreadPoolExecutor(1)
    _DRAWING[path] = executor.submit(draw)
    executor.shutdown(wait=False)
    return _DRAWING[path]


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


def compute_expected(rubric: Rubric, cache_dir: Path, reference_digest: str, in_child: bool = False) -> Expected:
    """Expected values for a rubric, from the cache when the rubric and the reference code are unchanged
    (then no process need import torch), else computed and cached: here, or with `in_child` in a fresh
    Python process, which keeps torch and matplotlib out of this one."""
    path = cache_dir / f"expected-{rubric.assignment}-{_key(rubric, reference_digest)}.json"
    stem = path.stem.removeprefix("expected-")
    if path.exists():
        data = json.loads(path.read_text())
    elif in_child:
        data = _child_result(_start_child("values", rubric, path), path)
    else:
        data = _compute(rubric)
        write_atomic(path, json.dumps(data))
    calls_file = None
    if data["calls"]:
        calls_path = cache_dir / f"calls-{stem}.json"
        if not calls_path.exists():
            write_atomic(calls_path, json.dumps(data["calls"]))
        calls_file = str(calls_path)
    values = {name: decode_value(v) for name, v in data["values"].items()}
    cases = {name: [Case(c["shown"], decode_value(c["expected"])) for c in items] for name, items in data["cases"].items()}
    # drawn only now, so that drawing never slows the values down
    figures = _figures(rubric, cache_dir / f"figures-{stem}.json", in_child) \
        if any(part.figure for part in rubric.parts) else None
    return Expected(values, cases, calls_file, figures)


def main(argv: list[str]) -> None:
    """`python -m grader.expected values|figures RUBRIC OUT`: compute a rubric's expected values or draw
    its reference figures, and write them atomically to OUT as JSON."""
    job, rubric_path, out = argv
    if job == "figures":
        os.nice(10)  # only the reports need them: the values and the workers come first
    rubric = load_rubric(rubric_path)
    write_atomic(Path(out), json.dumps(_compute(rubric) if job == "values" else _draw(rubric)))


if __name__ == "__main__":
    main(sys.argv[1:])
