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
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

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


def _start_child(rubric: Rubric, values: Path | None, figures: Path | None, log: Path) -> subprocess.Popen[bytes]:
    """`python -m grader.expected` for what is missing: it says "values" on its stdout as soon as those
    are written, then draws the figures (torch is imported once for both)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as errors:
        return subprocess.Popen([sys.executable, "-m", "grader.expected", str(rubric.path), str(values or "-"),
                                 str(figures or "-")], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)


def _failed(process: subprocess.Popen[bytes], log: Path) -> RuntimeError:
    return RuntimeError(f"the reference code failed (python -m grader.expected {' '.join(process.args[3:])}):\n"
                        f"{log.read_text(errors='replace')[-3000:]}")


def _child_values(process: subprocess.Popen[bytes], path: Path, log: Path) -> dict[str, Any]:
    if process.stdout.readline().strip() != b"values":
        process.wait()
        raise _failed(process, log)
    return json.loads(path.read_text())


def _child_figures(process: subprocess.Popen[bytes], path: Path, log: Path) -> dict[str, str]:
    process.stdout.read()
    if process.wait() != 0:
        raise _failed(process, log)
    return json.loads(path.read_text())


# figures being drawn, by cache path: a second request for the same figures waits for the first drawing
_DRAWING: dict[Path, Future[dict[str, str]]] = {}


def _in_background(work: Callable[[], dict[str, str]], path: Path) -> Future[dict[str, str]]:
    executor = ThreadPoolExecutor(1)
    _DRAWING[path] = executor.submit(work)
    executor.shutdown(wait=False)
    return _DRAWING[path]


def _cached_figures(path: Path) -> Future[dict[str, str]] | None:
    if path in _DRAWING:
        return _DRAWING[path]
    if path.exists():
        done: Future[dict[str, str]] = Future()
        done.set_result(json.loads(path.read_text()))
        return done
    return None


def _draw_here(rubric: Rubric, path: Path) -> dict[str, str]:
    figures = _draw(rubric)
    write_atomic(path, json.dumps(figures))
    return figures


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


def shared_cache() -> Path:
    """Where `grader run` keeps expected values and reference figures between runs, whatever the output
    folder: they depend only on what their key holds (the grader's version, the reference code, the
    rubric, the numpy and torch versions), so only the first run on a machine computes them.
    $GRADER_CACHE, else $XDG_CACHE_HOME/grader, else ~/.cache/grader."""
    if os.environ.get("GRADER_CACHE"):
        return Path(os.environ["GRADER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def _key(rubric: Rubric, reference_digest: str) -> str:
    versions = "\0".join(_version(package) for package in ("numpy", "torch"))
    digest = hashlib.sha256(f"{grader.__version__}\0{reference_digest}\0{versions}\0".encode())
    digest.update(rubric.path.read_bytes())
    return digest.hexdigest()[:32]


def compute_expected(rubric: Rubric, cache_dir: Path, reference_digest: str, in_child: bool = False) -> Expected:
    """Expected values for a rubric, from the cache when the rubric and the reference code are unchanged
    (then no process need import torch), else computed and cached: here, or with `in_child` in a fresh
    Python process, which keeps torch and matplotlib out of this one. The reference figures are drawn
    in the background (here in a thread, or by that process once the values are written): only the
    reports need them, so grading starts without waiting for matplotlib."""
    path = cache_dir / f"expected-{rubric.assignment}-{_key(rubric, reference_digest)}.json"
    stem = path.stem.removeprefix("expected-")
    figures_path, log = cache_dir / f"figures-{stem}.json", cache_dir / f"reference-{stem}.log"
    has_figures = any(part.figure for part in rubric.parts)
    figures = _cached_figures(figures_path) if has_figures else None
    draw = has_figures and figures is None
    process = None
    if path.exists():
        data = json.loads(path.read_text())
        if in_child and draw:
            process = _start_child(rubric, None, figures_path, log)
    elif in_child:
        process = _start_child(rubric, path, figures_path if draw else None, log)
        data = _child_values(process, path, log)
    else:
        data = _compute(rubric)
        write_atomic(path, json.dumps(data))
    if draw and process is not None:
        child = process
        figures = _in_background(lambda: _child_figures(child, figures_path, log), figures_path)
    elif draw:
        figures = _in_background(lambda: _draw_here(rubric, figures_path), figures_path)
    elif process is not None:
        process.wait()
    calls_file = None
    if data["calls"]:
        calls_path = cache_dir / f"calls-{stem}.json"
        if not calls_path.exists():
            write_atomic(calls_path, json.dumps(data["calls"]))
        calls_file = str(calls_path)
    values = {name: decode_value(v) for name, v in data["values"].items()}
    cases = {name: [Case(c["shown"], decode_value(c["expected"])) for c in items] for name, items in data["cases"].items()}
    return Expected(values, cases, calls_file, figures)


def main(argv: list[str]) -> None:
    """`python -m grader.expected RUBRIC VALUES FIGURES`: compute a rubric's expected values into VALUES
    and say so on stdout, then draw its reference figures into FIGURES (JSON, written atomically;
    "-" for either skips it)."""
    rubric_path, values, figures = argv
    rubric = load_rubric(rubric_path)
    if values != "-":
        write_atomic(Path(values), json.dumps(_compute(rubric)))
    print("values", flush=True)
    if figures != "-":
        write_atomic(Path(figures), json.dumps(_draw(rubric)))


if __name__ == "__main__":
    main(sys.argv[1:])
