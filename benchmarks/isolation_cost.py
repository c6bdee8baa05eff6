"""What the sandbox costs one submission: the same notebooks through one slot, one at a time,
isolated and as a bare child process (`--unsafe-no-sandbox`), medians printed.

    python benchmarks/isolation_cost.py --n 150
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402 - the notebooks of the main benchmark

from grader.discover import discover  # noqa: E402
from grader.pool import Worker  # noqa: E402
from grader.rubric import load_rubrics  # noqa: E402
from grader.runner import build_request, read_submission  # noqa: E402


def median_ms(submissions: list, rubric, isolate: bool) -> float:
    worker = Worker(0, Path(tempfile.mkdtemp(prefix="grader-cost-")), isolate, "numpy")
    worker.zygote.start()
    requests = []
    for submission in submissions:
        cells, _ = read_submission(submission)
        request = build_request(submission, rubric, cells, None, {}, isolate, "numpy")
        request["id"] = submission.student
        requests.append(request)
    try:
        worker.request(requests[0])  # the zygote's start-up is not a submission's cost
        return statistics.median(worker.request(r)["seconds"] for r in requests) * 1000
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=150)
    args = parser.parse_args()
    bench.KINDS = bench.MIXES["numpy"]
    folder = Path(tempfile.mkdtemp(prefix="grader-cost-")) / "hand-ins"
    bench.generate(folder, args.n)
    rubric = load_rubrics(bench.ROOT / "rubrics")["cap5619-hw3"]
    submissions, _ = discover(folder, {"cap5619-hw3"})
    for isolate in (False, True, False, True):
        label = "isolated" if isolate else "bare child process"
        print(f"{label:20} median {median_ms(submissions, rubric, isolate):.1f} ms a submission")


if __name__ == "__main__":
    main()
