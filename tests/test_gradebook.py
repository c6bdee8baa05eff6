"""grades.csv: one row per student and assignment, one column per part, formulas never run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grader.gradebook import gradebook_csv, write_gradebook
from grader.results import PartResult, SubmissionResult
from grader.rubric import Part, Rubric


def rubric(assignment: str, *part_ids: str) -> Rubric:
    parts = tuple(Part(id=pid, points=0, manual_points=2, manual="by hand") for pid in part_ids)
    return Rubric(assignment=assignment, title=assignment, parts=parts, path=Path(f"{assignment}.toml"))


def result(student: str, assignment: str, scores: dict[str, float], max_score: float = 10.0) -> SubmissionResult:
    parts = [PartResult(pid, score, 2.0, "correct", "") for pid, score in scores.items()]
    return SubmissionResult(student, assignment, sum(scores.values()), max_score, parts)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_header_has_student_assignment_a_column_per_part_then_total() -> None:
    rubrics = {"hw": rubric("hw", "1.1", "1.2", "3B")}
    header = rows(gradebook_csv([result("ann", "hw", {"1.1": 1})], rubrics))[0]
    assert header[:2] == ["student", "assignment"]
    middle = header[2:-2]
    assert len(middle) == 3
    for column, part_id in zip(middle, ["1.1", "1.2", "3B"]):  # rubric order
        assert part_id in column.split()
    assert header[-2:] == ["total", "max_score"]


def test_row_holds_each_part_score_and_the_total() -> None:
    rubrics = {"hw": rubric("hw", "a", "b")}
    table = rows(gradebook_csv([result("ann", "hw", {"a": 2, "b": 0.5}, max_score=4)], rubrics))
    assert len(table) == 2
    assert table[1] == ["ann", "hw", "2", "0.5", "2.5", "4"]


def test_parts_of_other_assignments_are_left_blank() -> None:
    rubrics = {"hw1": rubric("hw1", "p"), "hw2": rubric("hw2", "q", "r"), "unused": rubric("unused", "z")}
    results = [result("ann", "hw1", {"p": 1}), result("bob", "hw2", {"q": 2, "r": 0})]
    header, ann, bob = rows(gradebook_csv(results, rubrics))
    assert len(header) == 2 + 3 + 2  # no column for the assignment nobody handed in
    assert not any("z" in column.split() for column in header)
    q_column = next(i for i, c in enumerate(header) if "q" in c.split() and "hw2" in c)
    p_column = next(i for i, c in enumerate(header) if "p" in c.split() and "hw1" in c)
    assert ann[q_column] == "" and ann[p_column] == "1"
    assert bob[q_column] == "2" and bob[p_column] == ""


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A2)"])
def test_student_name_that_looks_like_a_formula_is_quoted(name: str) -> None:
    table = rows(gradebook_csv([result(name, "hw", {"a": 1})], {"hw": rubric("hw", "a")}))
    cell = table[1][0]
    assert cell[0] not in "=+-@"
    assert cell == "'" + name  # the name itself is still readable


@pytest.mark.parametrize("name", ["Jane Doe (late)", "O'Brien, Pat", 'Say "hi"', "Zoë\nsecond line"])
def test_ordinary_and_awkward_names_survive_unchanged(name: str) -> None:
    table = rows(gradebook_csv([result(name, "hw", {"a": 1})], {"hw": rubric("hw", "a")}))
    assert table[1][0] == name


def test_write_gradebook_writes_the_same_csv(tmp_path: Path) -> None:
    rubrics = {"hw": rubric("hw", "a")}
    results = [result("ann", "hw", {"a": 1.25})]
    path = tmp_path / "out" / "grades.csv"
    write_gradebook(path, results, rubrics)
    assert path.read_text(encoding="utf-8") == gradebook_csv(results, rubrics)
    assert rows(path.read_text(encoding="utf-8"))[1][2] == "1.25"
