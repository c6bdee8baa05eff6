"""The worker pool: a worker that dies loses only the submission it was running, which is reported."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader.pool import Pool

pytestmark = pytest.mark.slow


def request(code: str, identifier: str) -> dict[str, Any]:
    limits = {"cell_timeout": 60, "call_timeout": 5, "submission_timeout": 60, "memory_mb": 512}
    return {"id": identifier, "files": [], "calls": None, "preload": "numpy",
            "policy": {"isolate": True, "memory_mb": 512, "cpu_seconds": 60},
            "job": {"cells": [{"label": "cell 1 of a.ipynb", "code": code, "file": "a.ipynb"}], "skip": [],
                    "values": ["x"], "functions": [], "limits": limits}}


def test_a_worker_killed_mid_submission_reports_it_and_is_replaced(tmp_path: Path) -> None:
    with Pool({"numpy": 1}, tmp_path, isolate=True) as pool:
        answers: list[dict[str, Any]] = []
        thread = threading.Thread(target=lambda: answers.append(pool.request(request("import time\ntime.sleep(30)", "slow"))))
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "worker-0-numpy.log").exists():
            time.sleep(0.05)
        time.sleep(1.5)  # the worker has started and taken the request
        pool.workers[0].zygote.process.kill()
        thread.join(timeout=30)
        assert answers and answers[0]["id"] == "slow" and "worker died" in answers[0]["killed"]
        after = pool.request(request("x = 41 + 1", "next"))
    values = [f for f in after["frames"] if f.get("t") == "values"]
    assert after["killed"] == "" and values and values[0]["values"]["x"] == 42


@pytest.mark.parametrize("jobs, counts, expected", [
    (4, {"numpy": 950, "torch": 50}, {"numpy": 4, "torch": 1}),  # a few torch hand-ins: one torch slot beside every light one
    (4, {"numpy": 6, "torch": 5}, {"numpy": 2, "torch": 2}),     # about half: shared out (4 · 5/11 ≈ 1.8 torch)
    (4, {"torch": 30}, {"torch": 4}),                            # all torch: every slot has torch
    (4, {"numpy": 30, "torch": 0}, {"numpy": 4}),                # none: no torch slot at all
    (1, {"numpy": 5, "torch": 5}, {"numpy": 1, "torch": 1}),     # one job still gives each kind a slot
    (4, {"numpy": 500, "matplotlib": 400, "torch": 100}, {"numpy": 2, "matplotlib": 2, "torch": 1}),
    (4, {"matplotlib": 90, "torch": 10}, {"matplotlib": 4, "torch": 1}),
    (4, {}, {}),
])
def test_slots_follow_the_share_of_each_kind_of_hand_in(jobs, counts, expected) -> None:
    from grader.pool import slots

    assert slots(jobs, counts) == expected


@pytest.mark.parametrize("code, kind", [
    ("import numpy as np\nx = np.ones(3)", "numpy"),
    ("import matplotlib.pyplot as plt\nplt.plot([1, 2])", "matplotlib"),
    ("import seaborn as sns", "matplotlib"),
    ("import torch\nimport matplotlib.pyplot as plt", "torch"),
    ("from torch import nn", "torch"),
])
def test_each_hand_in_runs_in_the_lightest_worker_that_has_what_it_names(tmp_path: Path, code: str, kind: str) -> None:
    from grader.discover import Submission
    from grader.runner import preload_for

    (tmp_path / "a.py").write_text(code)
    (tmp_path / "b.py").write_text("y = 1\n")
    submission = Submission("hw", "alice", tmp_path, (tmp_path / "b.py", tmp_path / "a.py"))
    assert preload_for(submission) == kind
