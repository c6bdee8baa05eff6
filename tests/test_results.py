"""Result records: the public results.json form and atomic writes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from grader.results import CheckResult, PartResult, SubmissionResult, remove_leftovers, write_atomic, write_results

SUBMISSION_KEYS = {"student", "assignment", "score", "max_score", "parts"}  # README: results.json
PART_KEYS = {"id", "score", "max_score", "status", "message"}


def sample(student: str = "Zoë") -> SubmissionResult:
    check = CheckResult("gamma_A", "γ", "correct", "Correct.", got="0.5", expected="0.5", fraction=1.0,
                        details=["hidden input 1: right"])
    parts = [
        PartResult("3A.iii", 5.0, 5.0, "correct", "gamma_A is right.", title="Break-even", checks=[check]),
        PartResult("3D", 0.0, 5.0, "manual", "graded by hand", manual="dense rewards", pending_manual=5.0),
    ]
    return SubmissionResult(student, "duke-hw5-6", 5.0, 10.0, parts, files=["hw.ipynb"],
                            cells=[{"label": "cell 1 of hw.ipynb", "status": "ok"}], problems=["x"],
                            sandbox="bwrap", seconds=1.5, key="abc")


def leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def test_write_atomic_creates_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "results.json"
    write_atomic(path, "first ✓\n")
    assert path.read_text(encoding="utf-8") == "first ✓\n"
    assert leftovers(path.parent, "results.json") == []


def test_write_atomic_replaces_the_content(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_text("old content that is longer than the new one\n", encoding="utf-8")
    write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert leftovers(tmp_path, "grades.csv") == []


def test_write_atomic_failure_keeps_the_old_file_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "results.json"
    path.write_text("old\n", encoding="utf-8")

    def refuse(*args: object) -> None:
        raise OSError("disk says no")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk says no"):
        write_atomic(path, "new\n")
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path, "results.json") == []


def test_write_atomic_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o644)
    write_atomic(path, "new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_leftovers_of_ended_processes_are_removed_and_those_of_live_ones_kept(tmp_path: Path) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    pages = tmp_path / "hw"
    pages.mkdir()
    dead = [tmp_path / f".results.json.{ended.pid}.7.tmp", pages / f".ann-1.html.{ended.pid}.7.tmp"]
    alive = pages / f".bob-2.html.{os.getpid()}.7.tmp"
    other = pages / ".notes.tmp"
    for path in [*dead, alive, other]:
        path.write_text("half")
    remove_leftovers(tmp_path)
    assert [p.exists() for p in dead] == [False, False]
    assert alive.exists() and other.exists()


def test_results_json_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_results(path, [sample("ann"), sample("bob")])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert type(data) is list and [d["student"] for d in data] == ["ann", "bob"]
    for record in data:
        assert set(record) == SUBMISSION_KEYS
        assert record["assignment"] == "duke-hw5-6" and record["score"] == 5.0 and record["max_score"] == 10.0
        assert [p["id"] for p in record["parts"]] == ["3A.iii", "3D"]
        for part in record["parts"]:
            assert set(part) == PART_KEYS
    assert data[0]["parts"][1] == {"id": "3D", "score": 0.0, "max_score": 5.0, "status": "manual",
                                   "message": "graded by hand"}
    assert leftovers(tmp_path, "results.json") == []


def test_results_json_keeps_unicode_names(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_results(path, [sample("Zoë O'Brien")])
    assert json.loads(path.read_text(encoding="utf-8"))[0]["student"] == "Zoë O'Brien"


def test_empty_result_list_is_an_empty_json_array(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_results(path, [])
    assert json.loads(path.read_text(encoding="utf-8")) == []


def test_full_record_round_trips_through_json() -> None:
    original = sample()
    back = SubmissionResult.from_dict(json.loads(json.dumps(original.to_dict())))
    assert back == original
    assert isinstance(back.parts[0].checks[0], CheckResult)
