"""End to end: `grader run` on the bundled samples, as an instructor runs it.

The expected statuses are those of submissions/README.md (a careful human grader's); where the
grader's documented policy differs (full carried-forward credit, no partial credit for an
unsigned pledge) the comment says so.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

# (assignment, student) -> {part: (status, score)} for every auto-graded part
EXPECTED = {
    ("cap5619-hw3", "alice_correct"): {
        "1.1": ("correct", 4), "1.2": ("correct", 5), "1.3": ("correct", 4), "2.1": ("correct", 10),
        "3.1": ("correct", 8), "3.2": ("correct", 8), "3.3": ("correct", 10), "3.4": ("correct", 5), "3.5": ("correct", 4)},
    ("cap5619-hw3", "bob_module"): {
        "1.1": ("missing", 0), "1.2": ("missing", 0), "1.3": ("missing", 0), "2.1": ("missing", 0),
        "3.1": ("correct", 8), "3.2": ("correct", 8), "3.3": ("correct", 10), "3.4": ("correct", 5), "3.5": ("correct", 4)},
    ("cap5619-hw3", "carol_mistakes"): {
        "1.1": ("correct", 4), "1.2": ("correct", 5), "1.3": ("incorrect", 0), "2.1": ("correct", 10),
        # 3.2: two of the four weights right (the perturbed losses), forward differences wrong
        "3.1": ("correct", 8), "3.2": ("partial", 4), "3.3": ("correct", 10), "3.4": ("incorrect", 0),
        "3.5": ("correct", 4)},  # right for her own (wrong) b_new: credit carried forward
    ("cap5619-hw3", "dave_errors"): {
        "1.1": ("correct", 4), "1.2": ("incorrect", 0), "1.3": ("correct", 4), "2.1": ("correct", 10),
        # 3.1: y_hat transposed and loss NaN, but rnn_loss right: one of three equal checks
        "3.1": ("partial", 2.67), "3.2": ("partial", 4), "3.3": ("partial", 7.5), "3.4": ("correct", 5), "3.5": ("correct", 4)},
    ("cap5619-hw3", "erin_loop"): {
        "1.1": ("correct", 4), "1.2": ("correct", 5), "1.3": ("correct", 4), "2.1": ("correct", 10),
        "3.1": ("correct", 8), "3.2": ("correct", 8), "3.3": ("correct", 10), "3.4": ("correct", 5), "3.5": ("correct", 4)},
    ("cap5619-hw3", "frank_flat"): {
        "1.1": ("missing", 0), "1.2": ("missing", 0), "1.3": ("missing", 0), "2.1": ("missing", 0),
        "3.1": ("correct", 8), "3.2": ("correct", 8), "3.3": ("correct", 10), "3.4": ("correct", 5), "3.5": ("incorrect", 0)},
    # write-ups (tests/writeups/ has more): the values and choices are read from the text; a function
    # check cannot be run on text, and the figures and prose go to the TA
    ("cap5619-hw3", "grace_report"): {
        "1.1": ("manual", 0), "1.2": ("manual", 0), "1.3": ("manual", 0), "2.1": ("manual", 0),
        "3.1": ("correct", 8), "3.2": ("correct", 8), "3.3": ("correct", 10), "3.4": ("correct", 5), "3.5": ("correct", 4)},
    ("duke-hw5-6", "henry_report"): {  # LaTeX; 3B: γ = 0, the trivial root, with both policies right
        "3A.i": ("correct", 3), "3A.ii": ("correct", 3), "3A.iii": ("correct", 5), "3B": ("partial", 3),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("correct", 2.5), "5B": ("correct", 2.5)},
    ("duke-hw5-6", "iris_notes"): {  # reads γ as "how much is discounted": every policy flipped; no hours given
        "3A.i": ("incorrect", 0), "3A.ii": ("incorrect", 0), "3A.iii": ("correct", 5), "3B": ("partial", 3),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("incorrect", 0), "5B": ("correct", 2.5)},
    ("duke-hw5-6", "alice_correct"): {
        "3A.i": ("correct", 3), "3A.ii": ("correct", 3), "3A.iii": ("correct", 5), "3B": ("correct", 6),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("correct", 2.5), "5B": ("correct", 2.5)},
    ("duke-hw5-6", "bob"): {
        "3A.i": ("correct", 3), "3A.ii": ("correct", 3), "3A.iii": ("correct", 5), "3B": ("correct", 6),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("correct", 2.5), "5B": ("correct", 2.5)},
    ("duke-hw5-6", "carol_mistakes"): {
        # 3B: gamma_B (weight 2) and breakeven_gamma wrong, both policies right: 2 of 5 weights of 6 points
        "3A.i": ("correct", 3), "3A.ii": ("incorrect", 0), "3A.iii": ("correct", 5), "3B": ("partial", 2.4),
        "3C.top": ("correct", 4), "3C.bottom": ("incorrect", 0), "5A": ("correct", 2.5),
        "5B": ("incorrect", 0)},  # an unsigned pledge earns nothing (the README says partial)
    ("duke-hw5-6", "dave_errors"): {
        "3A.i": ("correct", 3), "3A.ii": ("correct", 3), "3A.iii": ("error", 0), "3B": ("correct", 6),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("correct", 2.5), "5B": ("correct", 2.5)},
    ("duke-hw5-6", "erin_loop"): {
        "3A.i": ("correct", 3), "3A.ii": ("correct", 3), "3A.iii": ("correct", 5), "3B": ("correct", 6),
        "3C.top": ("correct", 4), "3C.bottom": ("correct", 4), "5A": ("correct", 2.5), "5B": ("correct", 2.5)},
}
MANUAL = {"cap5619-hw3": {"2.2", "2.3", "4.1", "4.2", "4.3"}, "duke-hw5-6": {"1A", "1B", "1C", "2.7", "3D"}}


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("reports")
    return grader("run", "submissions/", "--out", str(out)), out


@pytest.fixture(scope="module")
def results(run) -> dict[tuple[str, str], dict]:
    _, out = run
    return {(r["assignment"], r["student"]): r for r in json.loads((out / "results.json").read_text())}


def test_the_run_finishes_with_exit_status_zero(run) -> None:
    completed, _ = run
    assert completed.returncode == 0, completed.stderr


def test_every_sample_appears_once(results) -> None:
    assert set(results) == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: "/".join(k))
def test_each_part_gets_the_status_and_score_a_careful_grader_gives(results, key) -> None:
    parts = {p["id"]: p for p in results[key]["parts"]}
    for part_id, (status, score) in EXPECTED[key].items():
        assert (parts[part_id]["status"], parts[part_id]["score"]) == (status, pytest.approx(score, abs=0.01)), (
            part_id, parts[part_id]["message"])
    for part_id in MANUAL[key[0]]:
        assert parts[part_id]["status"] == "manual" and parts[part_id]["score"] == 0
    assert results[key]["score"] == pytest.approx(sum(s for _, s in EXPECTED[key].values()), abs=0.02)


def test_public_schema_has_exactly_the_documented_keys(results) -> None:
    for result in results.values():
        assert set(result) == {"student", "assignment", "score", "max_score", "parts"}
        for part in result["parts"]:
            assert set(part) == {"id", "score", "max_score", "status", "message"}
            assert part["status"] in {"correct", "incorrect", "partial", "error", "missing", "manual"}


def test_the_max_scores_are_the_specs_totals(results) -> None:
    assert results["cap5619-hw3", "alice_correct"]["max_score"] == 100
    assert results["duke-hw5-6", "alice_correct"]["max_score"] == 65


def test_the_infinite_loop_cell_is_reported_and_later_cells_still_count(run, results) -> None:
    _, out = run
    assert 'badge timeout">timeout' in _page(out, "cap5619-hw3", "erin_loop")
    parts = {p["id"]: p["status"] for p in results["cap5619-hw3", "erin_loop"]["parts"]}
    assert parts["3.4"] == parts["3.5"] == "correct"  # defined after the loop


def test_messages_explain_lost_points(results) -> None:
    dave = {p["id"]: p["message"] for p in results["cap5619-hw3", "dave_errors"]["parts"]}
    assert "transposed" in dave["3.1"] and "NaN" in dave["3.1"]
    assert "grad_b_fd is not defined" in dave["3.2"] and "SyntaxError" in dave["3.2"]
    assert "right on 2 of 5 inputs" in dave["3.3"]
    carol = {p["id"]: p["message"] for p in results["duke-hw5-6", "carol_mistakes"]["parts"]}
    assert "0.95363" in carol["3C.bottom"] and "0.954083" in carol["3C.bottom"]


def test_typical_mistakes_are_named_and_credit_is_carried_forward(results) -> None:
    carol = {p["id"]: p["message"] for p in results["cap5619-hw3", "carol_mistakes"]["parts"]}
    assert "gradient ascent" in carol["3.4"]
    assert "forward difference" in carol["3.2"] and "first to depart from the reference is grad_b_fd" in carol["3.2"]
    assert "right for the b you computed in 3.4" in carol["3.5"] and "carried forward" in carol["3.5"]
    duke = {p["id"]: p["message"] for p in results["duke-hw5-6", "carol_mistakes"]["parts"]}
    assert "exponent off by one" in duke["3C.bottom"]
    assert "trivial root" in duke["3B"]
    assert "policy flipped" in duke["3A.ii"]


def test_gradebook_has_a_row_per_student_and_a_column_per_part(run) -> None:
    _, out = run
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(EXPECTED)
    frank = next(r for r in rows if r["student"] == "frank_flat")
    assert float(frank["cap5619-hw3 3.4"]) == 5 and float(frank["cap5619-hw3 3.5"]) == 0 and float(frank["total"]) == 31


def _page(out: Path, assignment: str, student: str) -> str:
    (page,) = (out / assignment).glob(f"{student}-*.html")
    return page.read_text()


def test_reports_show_magic_notes_figures_and_the_stale_failing_cell(run) -> None:
    _, out = run
    alice = _page(out, "cap5619-hw3", "alice_correct")
    assert "!pip install" in alice and "was not run by the grader" in alice
    assert "data:image/png;base64," in alice
    carol = _page(out, "cap5619-hw3", "carol_mistakes")
    assert "NameError" in carol
    index = (out / "index.html").read_text()
    for (_, student) in EXPECTED:
        assert student in index


def test_a_second_run_reuses_every_result(run) -> None:
    _, out = run
    again = grader("run", "submissions/", "--out", str(out))
    assert again.returncode == 0
    assert again.stderr.count("(cached)") == len(EXPECTED)


def test_expected_values_are_computed_once_for_every_output_folder(tmp_path: Path, monkeypatch) -> None:
    """The shared cache: a run into a new output folder reuses the expected values and figures the first
    run computed (the files are not written again), and gives the same results and reference figures."""
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    first = grader("run", "submissions/cap5619-hw3", "--out", str(tmp_path / "a"), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    cached = sorted((tmp_path / "cache").glob("*-cap5619-hw3-*.json"))
    assert {p.name.split("-")[0] for p in cached} == {"expected", "figures", "calls"}
    written = {p: p.stat().st_mtime_ns for p in cached}
    second = grader("run", "submissions/cap5619-hw3", "--out", str(tmp_path / "b"), "--jobs", "2")
    assert second.returncode == 0, second.stderr
    assert {p: p.stat().st_mtime_ns for p in cached} == written
    assert sorted((tmp_path / "cache").glob("*-cap5619-hw3-*.json")) == cached
    assert json.loads((tmp_path / "a" / "results.json").read_text()) == json.loads((tmp_path / "b" / "results.json").read_text())
    figures = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert figures and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in figures)


def test_a_bad_rubric_stops_the_run_with_the_file_and_key(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rubrics", tmp_path / "rubrics")
    path = tmp_path / "rubrics" / "duke-hw5-6.toml"
    path.write_text(path.read_text().replace('kind = "choice"', 'kind = "choise"', 1))
    completed = grader("run", str(ROOT / "submissions"), "--rubrics", str(tmp_path / "rubrics"), "--out", str(tmp_path / "o"))
    assert completed.returncode == 2
    assert "duke-hw5-6.toml" in completed.stderr and "kind" in completed.stderr and "choise" in completed.stderr


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    completed = grader("run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert completed.returncode == 2 and "no such file or folder" in completed.stderr


def test_help_explains_the_layout() -> None:
    completed = grader("run", "--help")
    assert completed.returncode == 0 and "<assignment-id>/<student>" in completed.stdout


def test_the_default_relative_output_folder_works_from_any_folder(tmp_path: Path) -> None:
    completed = grader("run", str(ROOT / "submissions" / "duke-hw5-6"), "--jobs", "2", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert {r["student"]: r["score"] for r in results}["alice_correct"] == 30


def test_one_assignment_folder_can_be_graded_on_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "duke-hw5-6"
    shutil.copytree(ROOT / "submissions" / "duke-hw5-6" / "alice_correct", folder / "alice correct (1)")
    completed = grader("run", str(folder), "--out", str(tmp_path / "o"), "--jobs", "1")
    assert completed.returncode == 0, completed.stderr
    (result,) = json.loads((tmp_path / "o" / "results.json").read_text())
    assert result["student"] == "alice correct (1)" and result["score"] == 30


def test_results_are_the_same_with_one_worker(run, results, tmp_path: Path) -> None:
    completed = grader("run", "submissions/duke-hw5-6", "--out", str(tmp_path), "--jobs", "1")
    assert completed.returncode == 0
    for result in json.loads((tmp_path / "results.json").read_text()):
        assert result == results[result["assignment"], result["student"]]


def test_without_isolation_the_grader_refuses_unless_told(monkeypatch, tmp_path: Path, capsys) -> None:
    from grader import cli

    monkeypatch.setattr(cli, "unavailable_reason", lambda: "no namespaces in this test")
    assert cli.main(["run", str(ROOT / "submissions"), "--out", str(tmp_path)]) == 2
    assert "--unsafe-no-sandbox" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
