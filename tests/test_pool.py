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
    return {"id": identifier, "files": [], "calls": None, "torch": False,
            "policy": {"isolate": True, "memory_mb": 512, "cpu_seconds": 60},
            "job": {"cells": [{"label": "cell 1 of a.ipynb", "code": code, "file": "a.ipynb"}], "skip": [],
                    "values": ["x"], "functions": [], "limits": limits}}


def test_a_worker_killed_mid_submission_reports_it_and_is_replaced(tmp_path: Path) -> None:
    with Pool(1, tmp_path, isolate=True) as pool:
        answers: list[dict[str, Any]] = []
        thread = threading.Thread(target=lambda: answers.append(pool.request(request("import time\ntime.sleep(30)", "slow"))))
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "worker-0.log").exists():
            time.sleep(0.05)
        time.sleep(1.5)  # the worker has started and taken the request
        pool.workers[0].zygote.process.kill()
        thread.join(timeout=30)
        assert answers and answers[0]["id"] == "slow" and "worker died" in answers[0]["killed"]
        after = pool.request(request("x = 41 + 1", "next"))
    values = [f for f in after["frames"] if f.get("t") == "values"]
    assert after["killed"] == "" and values and values[0]["values"]["x"] == 42


@pytest.mark.parametrize("jobs, light, heavy, expected", [
    (4, 950, 50, (4, 1)),    # a few torch hand-ins: one torch slot beside every light one
    (4, 6, 5, (2, 2)),       # about half: the slots are shared out (ceil(4 · 5/11) = 2 torch)
    (4, 0, 30, (0, 4)),      # all torch: every slot has torch
    (4, 30, 0, (4, 0)),      # none: no torch slot at all
    (1, 5, 5, (1, 1)),       # one job still gives each kind a slot
])
def test_slots_follow_the_share_of_hand_ins_that_use_torch(jobs, light, heavy, expected) -> None:
    from grader.pool import slots

    assert slots(jobs, light, heavy) == expected
