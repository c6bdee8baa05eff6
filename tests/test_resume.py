"""Nothing lost, nothing done twice: `kill -9` in the middle of a run, start again, same outputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "submissions" / "duke-hw5-6"


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "grader.cli", "run", str(SAMPLES), "--out", str(out), "--jobs", "1"]


def _outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.parts and ".work" not in p.parts}


def test_a_run_killed_with_sigkill_resumes_and_ends_with_identical_outputs(tmp_path: Path) -> None:
    killed_out, clean_out = tmp_path / "killed", tmp_path / "clean"
    process = subprocess.Popen(_command(killed_out), cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((killed_out / ".cache").glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list((killed_out / ".cache").glob("*.json")))
    assert 2 <= done_before < 5, "the kill should land mid-run"
    assert not (killed_out / "results.json").exists()

    resumed = subprocess.run(_command(killed_out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("(cached)") == done_before  # what was done is not regraded

    clean = subprocess.run(_command(clean_out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0
    assert _outputs(killed_out) == _outputs(clean_out)
    assert "results.json" in _outputs(clean_out)


def test_a_changed_hand_in_is_regraded(tmp_path: Path) -> None:
    hand_ins = tmp_path / "duke-hw5-6"
    (hand_ins / "zed").mkdir(parents=True)
    answer = hand_ins / "zed" / "answers.py"
    answer.write_text('policy_A_gamma1 = "stay"\n')
    command = [sys.executable, "-m", "grader.cli", "run", str(hand_ins), "--out", str(tmp_path / "o"), "--jobs", "1"]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    answer.write_text('policy_A_gamma1 = "right"\n')
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "zed: 0/65" in first.stderr
    assert "zed: 3/65" in second.stderr and "(cached)" not in second.stderr
