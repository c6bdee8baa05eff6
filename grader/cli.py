"""The `grader` command.

Exit status: 0 when grading finished, whatever the students scored; 2 when the grader could not
do its job (a bad rubric, a missing path, no isolation without the explicit flag).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from grader.discover import DiscoveryError
from grader.pipeline import Options, Progress, grade_path, write_outputs
from grader.rubric import RubricError, load_rubrics
from grader.sandbox import unavailable_reason

EXIT_FAILED = 2


def default_rubrics() -> Path:
    """`./rubrics` when it exists, else the rubrics shipped beside the package."""
    local = Path("rubrics")
    return local if local.is_dir() else Path(__file__).resolve().parent.parent / "rubrics"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Grade deep-learning homework hand-ins in a sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="grade a folder of hand-ins",
        description="Grade every hand-in under PATH and write results.json, grades.csv and HTML reports.",
        epilog="PATH holds <assignment-id>/<student>/... folders or <assignment-id>/<student>.ipynb|.py files, "
               "or is one <assignment-id> folder. Results already graded (same files, rubric and grader) are "
               "reused from OUT/.cache, so an interrupted run picks up where it stopped. Expected values are "
               "cached for every output folder in $GRADER_CACHE (default ~/.cache/grader).",
    )
    run.add_argument("path", type=Path, help="folder of hand-ins")
    run.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports/)")
    run.add_argument("--rubrics", type=Path, default=None, help="folder of rubric .toml files (default: ./rubrics)")
    run.add_argument("--jobs", "-j", type=int, default=2 * (os.cpu_count() or 1),
                     help="hand-ins run at once (default: twice the cores, so hand-ins that wait or sleep leave "
                          "no core idle; hand-ins that use torch get one slot of their own besides)")
    run.add_argument("--no-cache", action="store_true", help="regrade everything, ignoring earlier results")
    run.add_argument("--unsafe-no-sandbox", action="store_true",
                     help="run student code without isolation (in a child process with limits only), e.g. where "
                          "the machine cannot isolate it; every report says so")
    return parser


def _fail(message: str) -> int:
    print(f"grader: error: {message}", file=sys.stderr)
    return EXIT_FAILED


def run_command(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        return _fail("--jobs must be at least 1")
    isolate = not args.unsafe_no_sandbox
    reason = unavailable_reason() if isolate else "--unsafe-no-sandbox was given"
    if reason and isolate:
        return _fail(f"cannot isolate student code: {reason}. Refusing to run it; pass --unsafe-no-sandbox "
                     "to run it anyway (every report will say it was not isolated).")
    if not isolate:
        print(f"grader: warning: student code is NOT isolated ({reason})", file=sys.stderr)
    try:
        rubrics = load_rubrics(args.rubrics or default_rubrics())
    except RubricError as exc:
        return _fail(f"bad rubric: {exc}")
    if not rubrics:
        return _fail(f"no rubric (*.toml) found in {args.rubrics or default_rubrics()}")
    started = time.monotonic()
    # absolute: the zygotes work in OUT/.work and are handed paths of files under OUT
    options = Options(out=args.out.absolute(), jobs=args.jobs, isolate=isolate, use_cache=not args.no_cache)
    try:
        results, warnings = grade_path(args.path, rubrics, options, Progress())
    except DiscoveryError as exc:
        return _fail(str(exc))
    for warning in warnings:
        print(f"grader: warning: {warning}", file=sys.stderr)
    write_outputs(results, rubrics, options.out)
    seconds = time.monotonic() - started
    print(f"graded {len(results)} hand-ins in {seconds:.1f} s; reports in {args.out}/index.html, "
          f"scores in {args.out}/results.json and {args.out}/grades.csv", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
